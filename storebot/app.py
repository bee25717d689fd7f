"""The Flask application factory: config -> services -> Celery -> blueprints.

Example:
    >>> app = create_app({"REDIS_URL": "redis://localhost:6379/0", "TESTING": True})  # doctest: +SKIP
    >>> app.test_client().get("/healthz").json["ok"]  # doctest: +SKIP
    True
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from storebot.config import load_settings
from storebot.services import Services


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the storebot web app; ``test_config`` overrides settings."""
    app = Flask("storebot")
    settings = load_settings(test_config)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = int(settings["MAX_UPLOAD_MB"]) << 20
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from storebot import observability

    observability.init_app(app)  # JSON logs with request ids, request metrics, LLM metrics

    services = Services(app.config)  # one dict: tests and views see the same settings
    app.extensions["storebot"] = services

    from storebot.worker import celery_init_app

    celery_init_app(app, services)

    from storebot import api

    api.init_app(app)
    from storebot.api import limits

    limits.init_app(app, services.redis_url)  # rate limits in Redis, body limits, JSON 413 and 429
    return app
