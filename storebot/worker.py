"""Celery wired to Flask, after Flask's ``examples/celery`` pattern.

Tasks run inside the Flask app context, so they reach the same lazily built
:class:`~storebot.services.Services` as the web views. Redis is both broker
and result backend. Tasks acknowledge late: a worker that dies mid-task has
its task redelivered, which is safe because every task is idempotent.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from storebot.services import Services


def celery_config(redis_url: str) -> dict[str, Any]:
    return {
        "broker_url": redis_url,
        "result_backend": redis_url,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": 86400,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": 3600},
        "worker_hijack_root_logger": False,
        "beat_schedule": {},
    }


def celery_init_app(app: Flask, services: Services) -> Celery:
    """Create the Celery app for ``app`` and make it the default."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    from storebot import tasks  # registers the tasks

    config = celery_config(services.redis_url)
    config["beat_schedule"] = tasks.beat_schedule(services.settings)
    config["broker_transport_options"] = {"visibility_timeout": int(services.settings["BROKER_VISIBILITY_TIMEOUT"])}
    config.update(app.config.get("CELERY") or {})
    celery_app.config_from_object(config)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from storebot.observability.metrics import connect_celery_signals

    connect_celery_signals()  # task durations, failures and sync counts in /metrics

    return celery_app
