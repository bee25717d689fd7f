"""The HTTP API: thin Flask blueprints over the domain, with JSON errors everywhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from storebot.errors import StorebotError

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
    from storebot.api import conversations, search_index
    from storebot.web import dashboard

    app.register_blueprint(conversations.bp)
    app.register_blueprint(search_index.bp)
    app.register_blueprint(dashboard.bp)
    from storebot.api import openapi

    app.register_blueprint(openapi.bp)
    from storebot.api import events, recommendations

    app.register_blueprint(events.bp)
    app.register_blueprint(recommendations.bp)
    from storebot.api import tuning

    app.register_blueprint(tuning.bp)
    from storebot.api import reviews

    app.register_blueprint(reviews.bp)

    @app.errorhandler(StorebotError)
    def storebot_error(exc: StorebotError):  # type: ignore[no-untyped-def]
        return jsonify(exc.to_dict()), exc.status

    from storebot.api.faults import init_fault_handlers

    init_fault_handlers(app)  # Redis down: 503 + Retry-After, and recovery without a restart

    # 413 (uploads, JSON and chat bodies) and 429 are rendered by storebot.api.limits.

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": {"code": code, "message": exc.description}}), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        body = {"error": {"code": "internal_error", "message": "Something went wrong on our side; it is logged."}}
        return jsonify(body), 500
