"""Authentication of API requests by store key."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from storebot.errors import Forbidden, RedisUnavailable, Unauthorized
from storebot.services import Services
from storebot.stores import Store

F = TypeVar("F", bound=Callable[..., Any])


def services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Storebot-Key", "").strip()


def require_secret_key(view: F) -> F:
    """Resolve ``Authorization: Bearer sk_...`` to ``g.store`` or answer 401."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _bearer()
        if not key:
            raise Unauthorized(
                "This endpoint needs the store's secret key.",
                fix="Send `Authorization: Bearer sk_...` (printed by `storebot store create`).",
            )
        if key.startswith("pk_"):
            services().stores.by_publishable_key(key)  # 401 if unknown, else:
            raise Forbidden(
                "A publishable key cannot use the merchant API.",
                fix="Use the store's secret key (sk_...); publishable keys are for the widget.",
            )
        g.store = services().stores.by_secret_key(key)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_store() -> Store:
    return g.store  # type: ignore[no-any-return]


def enqueue(task_name: str, *args: Any) -> None:
    """Send a task by name through this app's Celery (not whichever app is current)."""
    celery_app = current_app.extensions["celery"]
    try:
        celery_app.send_task(task_name, args=list(args))
    except Exception as exc:  # kombu raises several connection error types
        raise RedisUnavailable(
            "Could not queue the job: the task broker is unreachable.", fix="Check REDIS_URL and that Redis runs."
        ) from exc
