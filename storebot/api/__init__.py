"""The HTTP API: thin Flask blueprints over the domain, with JSON errors everywhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from storebot.errors import PayloadTooLarge, StorebotError

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from storebot.api import catalog, chat, health, jobs, search, widget
    from storebot.web import placeholders, storefront

    app.register_blueprint(health.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(storefront.bp)
    app.register_blueprint(placeholders.bp)

    @app.errorhandler(StorebotError)
    def storebot_error(exc: StorebotError):  # type: ignore[no-untyped-def]
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        limit = app.config["MAX_UPLOAD_MB"]
        err = PayloadTooLarge(
            f"The request body is larger than {limit} MB.",
            fix="Split the feed into several uploads, or raise STOREBOT_MAX_UPLOAD_MB.",
        )
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": {"code": code, "message": exc.description}}), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        body = {"error": {"code": "internal_error", "message": "Something went wrong on our side; it is logged."}}
        return jsonify(body), 500
