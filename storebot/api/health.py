"""Liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from storebot import __version__
from storebot.api.auth import services
from storebot.errors import Unauthorized
from storebot.observability import metrics
from storebot.observability.readiness import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Liveness: the process answers and reaches Redis."""
    services().redis.ping()
    return jsonify({"ok": True, "version": __version__})


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    """Readiness: Redis, every store's index, the chat model and the embedding model; 503 with the failures."""
    report = readiness(services())
    return jsonify({"version": __version__, **report}), 200 if report["ready"] else 503


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("/metrics needs the metrics token.", fix="Send `Authorization: Bearer <METRICS_TOKEN>`.")
    body, content_type = metrics.render(current_app.config)
    return Response(body, content_type=content_type)
