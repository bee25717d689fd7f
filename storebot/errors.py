"""storebot's errors. Each one says what went wrong and how to fix it.

Every error a user can cause derives from :class:`StorebotError`, carries an
HTTP status and a stable ``code``, and renders the same way in the CLI and
in the JSON API, so the fix-it hint reaches the merchant wherever they are.

Example:
    >>> err = ConfigError("STOREBOT_MAX_UPLOAD_MB must be a number", fix="Set it to e.g. 50.")
    >>> err.to_dict()["error"]["code"]
    'config_error'
"""

from __future__ import annotations

from typing import Any


class StorebotError(Exception):
    """Base class: a message, an optional fix, an HTTP status and a code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fix: str = "", details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fix:
            body["fix"] = self.fix
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class ConfigError(StorebotError):
    """A setting is missing or malformed."""

    status = 500
    code = "config_error"


class RedisUnavailable(StorebotError):
    """No Redis could be reached or started."""

    status = 503
    code = "redis_unavailable"


class FeedError(StorebotError):
    """A feed is unreadable as a whole (broken XML, not JSON, unknown format).

    Row-level problems are not raised: they are reported as ``RowError`` and
    the good rows are kept.
    """

    code = "feed_error"

    def __init__(self, message: str, *, line: int | None = None, fix: str = "") -> None:
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, fix=fix)
        self.line = line


class NotFound(StorebotError):
    status = 404
    code = "not_found"


class Unauthorized(StorebotError):
    status = 401
    code = "unauthorized"


class Forbidden(StorebotError):
    status = 403
    code = "forbidden"


class PayloadTooLarge(StorebotError):
    status = 413
    code = "payload_too_large"


class Conflict(StorebotError):
    status = 409
    code = "conflict"
