"""Structured logs: one JSON object per line, with the request id of the HTTP request being served.

Every request gets an id, taken from its ``X-Request-ID`` header when that is a sane token, generated
otherwise, and echoed in the response's ``X-Request-ID``. Log lines written while serving it carry it, and
one access line per request adds method, path (never the query string, where keys travel), status,
duration and store; never the Authorization header. Anything shaped like a secret or publishable key
(``sk_...``, ``pk_...``) is masked, in every line. ``storebot serve`` turns gunicorn's own access log off,
since its request line and Referer carry query strings.

Example:
    >>> line = JsonFormatter().format(logging.makeLogRecord({"msg": "hi sk_live_abc", "levelname": "INFO"}))
    >>> json.loads(line)["message"]
    'hi sk_***'
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request

from storebot.observability import metrics

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
SECRET = re.compile(r"\b([sp]k_)[A-Za-z0-9_\-]+")
EXTRA_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "store", "endpoint", "task", "task_id")
access_log = logging.getLogger("storebot.access")


def mask_secrets(text: str) -> str:
    return SECRET.sub(r"\1***", text)


class RequestContextFilter(logging.Filter):
    """Adds the current request's id (and store, once authenticated), or the Celery task's, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
            store = g.get("store")
            if store is not None and not hasattr(record, "store"):
                record.store = getattr(store, "id", None)
        elif "celery" in sys.modules and not hasattr(record, "task_id"):
            from celery import current_task

            task = current_task._get_current_object() if current_task else None
            if task is not None and getattr(task.request, "id", None):
                record.task, record.task_id = task.name, task.request.id
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, and the request fields it has."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                body[name] = value
        if record.exc_info:
            body["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(body, ensure_ascii=False, default=str)


class MaskingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return mask_secrets(f"{text} [{request_id}]" if request_id else text)


def configure_logging(settings: dict[str, Any]) -> None:
    """Point the root logger at stderr in ``LOG_FORMAT`` (json or text) at ``LOG_LEVEL``; safe to call again."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_storebot", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._storebot = True  # type: ignore[attr-defined]
        handler.addFilter(RequestContextFilter())
        root.addHandler(handler)
    if str(settings.get("LOG_FORMAT", "json")).lower() == "text":
        handler.setFormatter(MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access lines carry query strings (keys)
    root.setLevel(settings.get("LOG_LEVEL", "INFO"))


def _begin() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish(response: Any) -> Any:
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    endpoint = request.endpoint or "unmatched"
    metrics.HTTP_LATENCY.labels(endpoint, request.method, str(response.status_code)).observe(duration)
    store = g.get("store")
    access_log.info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={"method": request.method, "path": request.path, "status": response.status_code,
               "duration_ms": round(duration * 1000, 1), "endpoint": endpoint,
               "store": getattr(store, "id", None)},
    )  # fmt: skip
    return response


def init_app(app: Flask) -> None:
    """Request ids, access lines and request metrics for every request of ``app``."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)  # first, so even a 429 has an id
    app.after_request(_finish)
