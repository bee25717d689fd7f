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


def require_publishable_key(view: F) -> F:
    """Resolve a publishable key (``?key=pk_...`` or ``X-Storebot-Key``) to ``g.store``.

    A request that carries an ``Origin`` header must come from one of the
    store's allowed origins; the response then gets the CORS headers for it.
    Secret keys are refused here so that they never end up in a web page.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.args.get("key", "") or _bearer()
        if key.startswith("sk_"):
            raise Forbidden(
                "Secret keys must not be used from a browser.",
                fix="Use the store's publishable key (pk_...) here, and rotate the secret if it was exposed.",
            )
        if not key:
            raise Unauthorized("A publishable key is required.", fix="Pass ?key=pk_... or the X-Storebot-Key header.")
        store = services().stores.by_publishable_key(key)
        origin = request.headers.get("Origin")
        if origin and not store.allows_origin(origin):
            raise Forbidden(
                f"Origin {origin} is not allowed for this store.",
                fix=f"Add it with `storebot store origins {store.id} {origin} ...`.",
            )
        g.store = store
        g.cors_origin = origin
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_any_key(view: F) -> F:
    """A merchant's secret key (``Authorization: Bearer sk_...``), else a shopper's publishable key and origin check.

    For routes both serve: a product's recommendations or review summary on the storefront and in the dashboard.
    A secret key in ``?key=`` counts as a browser's and is refused (see :func:`require_publishable_key`).
    """
    merchant, shopper = require_secret_key(view), require_publishable_key(view)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        uses_secret = _bearer().startswith("sk_") and not request.args.get("key")
        return (merchant if uses_secret else shopper)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def add_cors_headers(response: Any) -> Any:
    """After-request hook: CORS for requests a publishable-key view accepted."""
    origin = g.get("cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "X-Storebot-Session"
        response.headers["Vary"] = "Origin"
    return response


def answer_preflight() -> Any:
    """Before-request hook: answer CORS preflights; the origin is checked on the real request."""
    if request.method != "OPTIONS" or not request.headers.get("Origin"):
        return None
    key = request.args.get("key", "")
    if key.startswith("pk_"):  # the widget's ?key= is visible to the preflight: refuse a foreign origin already
        store = services().stores.by_publishable_key(key)
        if not store.allows_origin(request.headers["Origin"]):
            raise Forbidden(
                f"Origin {request.headers['Origin']} is not allowed for this store.",
                fix=f"Add it with `storebot store origins {store.id} ...`.",
            )
    response = current_app.make_default_options_response()
    response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Storebot-Key"
    response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    return response
