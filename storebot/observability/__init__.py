"""Observability: JSON logs with request ids, Prometheus metrics, readiness checks.

Wired by :func:`storebot.app.create_app` (``init_app``) and :func:`storebot.worker.celery_init_app`
(Celery signals); the views are in :mod:`storebot.api.health`.
"""

from __future__ import annotations

from flask import Flask

from storebot.observability import logs, metrics


def init_app(app: Flask) -> None:
    """Logging, request ids, request metrics, and metrics on every chat model the registry builds."""
    from storebot.llm.registry import on_model_built
    from storebot.observability.llm import attach_metrics

    logs.configure_logging(app.config)
    logs.init_app(app)
    on_model_built(attach_metrics)


__all__ = ["init_app", "logs", "metrics"]
