"""What the API answers while a dependency is down: Redis unreachable becomes a 503 with ``Retry-After``.

redis-py's client reconnects on the next command once Redis is back, and
:class:`~storebot.services.Services` only caches a client that answered a ping,
so nothing here needs a restart: the first request after Redis returns succeeds.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, jsonify

from storebot.errors import RedisUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def _unavailable(err: RedisUnavailable):  # type: ignore[no-untyped-def]
    response = jsonify(err.to_dict())
    response.status_code = err.status
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def init_fault_handlers(app: Flask) -> None:
    """Register the 503 handlers on ``app``."""

    @app.errorhandler(RedisUnavailable)
    def redis_unavailable(exc: RedisUnavailable):  # type: ignore[no-untyped-def]
        return _unavailable(exc)

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def redis_down(exc: redis.RedisError):  # type: ignore[no-untyped-def]
        log.warning("Redis unreachable: %s", exc)
        return _unavailable(
            RedisUnavailable(
                "The service is temporarily unavailable: its database (Redis) cannot be reached.",
                fix=f"Retry in {RETRY_AFTER_SECONDS} seconds. Operators: check that Redis runs and REDIS_URL is right.",
            )
        )
