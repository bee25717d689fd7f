"""API limits: rate limits in Redis (flask-limiter), body sizes, and concurrent chat streams per session.

Rate limits are chosen from the credentials a request presents, before any view runs, so a route added
tomorrow is limited like its peers without a decorator:

* a secret key (``Authorization: Bearer sk_...``): ``RATE_LIMIT_MERCHANT`` per key;
* anything else under ``/api/v1`` (a publishable key, or no key): ``RATE_LIMIT_SHOPPER`` per key and IP;
* the chat endpoints also count ``RATE_LIMIT_CHAT_IP`` per IP and ``RATE_LIMIT_CHAT_SESSION`` per session;
* refused keys (401, 403) count ``RATE_LIMIT_AUTH_FAILURES`` per IP, against guessing.

Counters live in the app's Redis under ``<KEY_PREFIX>:ratelimit:``. If that Redis is unreachable the limits
fail open (the request then meets the API's own 503). A breach is a JSON 429 with ``Retry-After``.

Example:
    >>> app.config["RATE_LIMIT_CHAT_SESSION"] = "2/minute"                       # doctest: +SKIP
    >>> [client.post("/api/v1/chat?key=pk_...", json=body).status_code for _ in range(3)]  # doctest: +SKIP
    [200, 200, 429]
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask_limiter import Limit, Limiter, RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge

from storebot.errors import PayloadTooLarge, StorebotError
from storebot.keys import StoreKeys

CHAT_ENDPOINTS = frozenset({"chat.chat", "chat.chat_stream"})
"""Endpoints that run the model: counted per IP and per session on top of the shopper limit."""
UPLOAD_ENDPOINTS = frozenset({"catalog.upload_catalog", "catalog.upload_reviews", "catalog.upload_policies",
                              "tuning.upload_examples"})  # fmt: skip
"""File uploads (feeds, fine-tuning examples): bounded by MAX_UPLOAD_MB, not by the JSON body limit."""
_SESSION_IN_PATH = re.compile(r"^/api/v1/chat/([^/]+)")

log = logging.getLogger(__name__)


class TooManyRequests(StorebotError):
    """A rate or concurrency limit was hit; ``retry_after`` says when to come back, in seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, fix: str = "", retry_after: int = 1) -> None:
        super().__init__(message, fix=fix)
        self.retry_after = max(1, int(retry_after))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def presented_key() -> str:
    """The key the request presents (secret or publishable), wherever it was put."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.args.get("key", "") or request.headers.get("X-Storebot-Key", "").strip()


def client_ip() -> str:
    """The client's address (behind a proxy, wrap the app in werkzeug's ProxyFix so this is the real one)."""
    return request.remote_addr or "unknown"


def chat_session() -> str:
    """The chat session a request names, in its path or JSON body; empty if none."""
    match = _SESSION_IN_PATH.match(request.path)
    if match and match.group(1) != "stream":
        return match.group(1)[:128]
    limit = request.max_content_length
    if not request.is_json or (limit is not None and (request.content_length or 0) > limit):
        return ""  # a body over its limit is the view's 413, not read here
    body = request.get_json(silent=True)
    session = body.get("session_id") if isinstance(body, dict) else None
    return session[:128] if isinstance(session, str) else ""


def _is_merchant() -> bool:
    return presented_key().startswith("sk_")


def _limited() -> bool:
    return request.path.startswith("/api/v1/") and request.method != "OPTIONS"


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _limits() -> list[Limit]:
    def per_key() -> str:
        return f"key:{_digest(presented_key())}"

    def per_key_and_ip() -> str:
        return f"key:{_digest(presented_key())}:ip:{client_ip()}"

    def per_ip() -> str:
        return f"ip:{client_ip()}"

    def per_session() -> str:
        return f"session:{_digest(chat_session())}"

    def not_chat() -> bool:
        return not _limited() or request.endpoint not in CHAT_ENDPOINTS

    return [
        Limit(_setting("RATE_LIMIT_MERCHANT"), key_function=per_key, scope="merchant", shared=True,
              exempt_when=lambda: not _limited() or not _is_merchant()),
        Limit(_setting("RATE_LIMIT_SHOPPER"), key_function=per_key_and_ip, scope="shopper", shared=True,
              exempt_when=lambda: not _limited() or _is_merchant()),
        Limit(_setting("RATE_LIMIT_CHAT_IP"), key_function=per_ip, scope="chat-ip", shared=True, exempt_when=not_chat),
        Limit(_setting("RATE_LIMIT_CHAT_SESSION"), key_function=per_session, scope="chat-session", shared=True,
              exempt_when=lambda: not_chat() or not chat_session()),
        # Guessing keys: only refused keys count, per IP; past the limit the IP waits, whatever key it sends.
        Limit(_setting("RATE_LIMIT_AUTH_FAILURES"), key_function=per_ip, scope="auth-failures", shared=True,
              exempt_when=lambda: not _limited(), deduct_when=lambda response: response.status_code in (401, 403)),
    ]  # fmt: skip


def _body_limit() -> None:
    """Before-request hook: bound JSON and chat bodies far below the feed-upload limit."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        return
    config = current_app.config
    if request.endpoint in CHAT_ENDPOINTS or request.path.startswith("/api/v1/chat/"):
        request.max_content_length = int(config["CHAT_MAX_BODY_KB"]) << 10
    elif request.path.startswith("/api/v1/"):
        request.max_content_length = int(config["MAX_JSON_KB"]) << 10


def too_large(exc: RequestEntityTooLarge) -> Any:
    """The 413 for any body over its limit, naming the limit that applied and the setting that raises it."""
    limit = request.max_content_length if request else None
    upload_limit = int(current_app.config["MAX_UPLOAD_MB"]) << 20
    if limit is None or limit >= upload_limit:
        err = PayloadTooLarge(
            f"The request body is larger than {current_app.config['MAX_UPLOAD_MB']} MB.",
            fix="Split the feed into several uploads, or raise STOREBOT_MAX_UPLOAD_MB.",
        )
    else:
        setting = "CHAT_MAX_BODY_KB" if limit == int(current_app.config["CHAT_MAX_BODY_KB"]) << 10 else "MAX_JSON_KB"
        err = PayloadTooLarge(
            f"The request body is larger than {limit >> 10} KB.", fix=f"Send less, or raise STOREBOT_{setting}."
        )
    return jsonify(err.to_dict()), err.status


def rate_limited(exc: RateLimitExceeded) -> Any:
    """The 429 of a breached rate limit, as JSON with ``Retry-After``."""
    limiter: Limiter = current_app.extensions["storebot_limiter"]
    breached = limiter.current_limit
    retry_after = math.ceil(breached.window[0] - time.time()) if breached is not None else 1
    err = TooManyRequests(
        f"Too many requests: the limit is {exc.description}.",
        fix="Wait Retry-After seconds before trying again; a merchant can raise STOREBOT_RATE_LIMIT_*.",
        retry_after=retry_after,
    )
    return too_many(err)


def too_many(err: TooManyRequests) -> Any:
    response = jsonify(err.to_dict())
    response.status_code = err.status
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def init_app(app: Flask, redis_url: str) -> Limiter:
    """Attach the limiter (counting in ``redis_url``), the body limits and the JSON 413/429 handlers."""
    prefix = str(app.config["KEY_PREFIX"])
    app.config.setdefault("RATELIMIT_ENABLED", bool(app.config["RATE_LIMITS_ENABLED"]))
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": f"{prefix}:ratelimit", "socket_timeout": 2})
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # fail open: Redis down is the views' 503 to give
    app.before_request(_body_limit)  # before the limiter, which may read a chat body for its session id
    limiter = Limiter(
        client_ip, app=app, storage_uri=redis_url, strategy="moving-window", default_limits=_limits(),
        key_prefix="api", headers_enabled=False,
    )  # fmt: skip
    app.extensions["storebot_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, rate_limited)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(TooManyRequests, too_many)
    return limiter


class StreamSlots:
    """Leases on the chat streams (SSE) one session may hold at once, kept in a Redis sorted set.

    Each open stream is a member scored with its expiry, so a stream whose end went unseen (a killed
    process) frees its slot after ``lease_seconds`` at the latest.

    Example:
        >>> slots = StreamSlots(redis_client, StoreKeys("storebot", "demo"), limit=2)  # doctest: +SKIP
        >>> lease = slots.acquire("session-0001")   # TooManyRequests when 2 are open  # doctest: +SKIP
        >>> slots.release("session-0001", lease)                                        # doctest: +SKIP
    """

    def __init__(self, client: Any, keys: StoreKeys, *, limit: int, lease_seconds: int = 300) -> None:
        self.redis = client
        self.keys = keys
        self.limit = limit
        self.lease_seconds = lease_seconds

    def _key(self, session_id: str) -> str:
        return self.keys("chat", session_id, "streams")

    def open_count(self, session_id: str) -> int:
        key = self._key(session_id)
        self.redis.zremrangebyscore(key, "-inf", time.time())
        return int(self.redis.zcard(key))

    def acquire(self, session_id: str) -> str:
        """Take a slot, or raise :class:`TooManyRequests` when the session already has ``limit`` streams."""
        key, lease, now = self._key(session_id), uuid.uuid4().hex, time.time()
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {lease: now + self.lease_seconds})
        pipe.zcard(key)
        pipe.expire(key, self.lease_seconds)
        count = pipe.execute()[2]
        if count > self.limit:
            self.redis.zrem(key, lease)
            raise TooManyRequests(
                f"This chat session already has {self.limit} answers streaming.",
                fix="Wait for one to finish (or close it) before asking again.",
                retry_after=5,
            )
        return lease

    def release(self, session_id: str, lease: str) -> None:
        self.redis.zrem(self._key(session_id), lease)


class LeasedStream:
    """Wraps a stream so its slot is released exactly once: when it ends, fails, or the client goes away.

    Werkzeug and gunicorn call ``close()`` on a response's iterable when the client disconnects, and
    ``close()`` works even on a stream that was never started (which a generator's ``finally`` would not).
    """

    def __init__(self, stream: Iterator[str], on_close: Callable[[], None]) -> None:
        self._stream = stream
        self._on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> LeasedStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._stream)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        try:
            closer = getattr(self._stream, "close", None)
            if closer is not None:
                closer()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


def leased_stream(store_id: str, session_id: str, stream: Iterator[str]) -> LeasedStream:
    """Hold one of the session's stream slots for the life of ``stream`` (429 if none is free).

    Also counts the stream in the ``storebot_sse_streams_open`` gauge.
    """
    from storebot.api.auth import services
    from storebot.observability import metrics

    svc = services()
    slots = StreamSlots(svc.redis, svc.keys(store_id), limit=int(current_app.config["CHAT_MAX_STREAMS"]),
                        lease_seconds=int(current_app.config["CHAT_STREAM_LEASE_SECONDS"]))  # fmt: skip
    lease = slots.acquire(session_id)
    metrics.SSE_STREAMS_OPEN.inc()

    def release() -> None:
        metrics.SSE_STREAMS_OPEN.dec()
        try:
            slots.release(session_id, lease)
        except Exception:  # Redis gone: the lease expires by itself
            log.warning("could not release a stream slot; it expires in %ss", slots.lease_seconds)

    return LeasedStream(stream, release)
