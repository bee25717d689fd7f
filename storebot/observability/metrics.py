"""Prometheus metrics: HTTP latency, open chat streams, LLM tokens and latency, Celery tasks, sync counts.

The metrics are process-wide (``prometheus_client``'s default registry). Under gunicorn with several
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to a directory shared by the workers (emptied before start):
``prometheus_client`` then writes each process's values there, and ``/metrics`` adds them up. The Celery
worker's task and sync metrics are served by ``storebot worker --metrics-port`` (:func:`serve_metrics`).

Example:
    >>> HTTP_LATENCY.labels("search.search", "GET", "200").observe(0.012)
    >>> b"storebot_http_request_duration_seconds" in render({})[0]
    True
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_LATENCY = Histogram(
    "storebot_http_request_duration_seconds",
    "Time to answer an HTTP request (streams: until the response starts), by endpoint and status.",
    ["endpoint", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
SSE_STREAMS_OPEN = Gauge(
    "storebot_sse_streams_open", "Chat answers streaming (SSE) right now.", multiprocess_mode="livesum"
)
LLM_TOKENS = Counter("storebot_llm_tokens_total", "Tokens read and written by chat models.", ["backend", "kind"])
LLM_LATENCY = Histogram(
    "storebot_llm_request_duration_seconds", "Time of one chat-model call.", ["backend"], buckets=LATENCY_BUCKETS
)
LLM_ERRORS = Counter("storebot_llm_errors_total", "Chat-model calls that failed.", ["backend"])
TASK_DURATION = Histogram(
    "storebot_task_duration_seconds", "Celery task run time, by task and final state.", ["task", "state"],
    buckets=LATENCY_BUCKETS + (120, 300, 900),
)  # fmt: skip
TASK_FAILURES = Counter("storebot_task_failures_total", "Celery tasks that raised.", ["task"])
SYNC_RECORDS = Counter("storebot_sync_records_total", "Records handled by catalog syncs, by outcome.", ["outcome"])
SYNC_OUTCOMES = ("added", "updated", "deleted", "unchanged", "failed")


def multiprocess_dir() -> str:
    """``PROMETHEUS_MULTIPROC_DIR`` as prometheus_client itself reads it (it must be set before startup)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def gunicorn_child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook in multi-process mode: forget a dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def render(settings: dict[str, Any]) -> tuple[bytes, str]:
    """The text exposition of every metric, summed over processes when running multi-process."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def serve_metrics(port: int, host: str = "0.0.0.0", token: str = "") -> Any:
    """Serve ``/metrics`` from a daemon thread of this process: for the Celery worker, whose processes serve no
    HTTP. With ``PROMETHEUS_MULTIPROC_DIR`` set (needed with the prefork pool, where tasks run in child processes)
    it adds up every process writing there. A ``token`` is required as ``Authorization: Bearer <token>``.
    Returns the server (``shutdown()`` stops it)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/metrics":
                return self._send(404, b"Not found: the metrics are at /metrics.\n", "text/plain")
            if token and self.headers.get("Authorization", "") != f"Bearer {token}":
                return self._send(401, b"Send Authorization: Bearer <STOREBOT_METRICS_TOKEN>.\n", "text/plain")
            body, content_type = render({})
            self._send(200, body, content_type)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # scrapes every few seconds: not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="storebot-metrics", daemon=True).start()
    return server


def record_sync(counts: dict[str, Any]) -> None:
    """Add one finished sync's counts (``added``, ``updated``...) to ``storebot_sync_records_total``."""
    for outcome in SYNC_OUTCOMES:
        value = counts.get(outcome)
        if isinstance(value, int) and value > 0:
            SYNC_RECORDS.labels(outcome).inc(value)


# Celery ----------------------------------------------------------------------------------------------------------

_task_started: dict[str, float] = {}
_task_lock = threading.Lock()
_connected = False


def _prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        with _task_lock:
            _task_started[task_id] = time.perf_counter()


def _postrun(task_id: str | None = None, task: Any = None, retval: Any = None, state: str | None = None,
             **_: Any) -> None:  # fmt: skip
    with _task_lock:
        started = _task_started.pop(task_id or "", None)
    name = getattr(task, "name", None) or "unknown"
    if started is not None:
        TASK_DURATION.labels(name, state or "UNKNOWN").observe(time.perf_counter() - started)
    if name == "storebot.sync_catalog" and state == "SUCCESS" and isinstance(retval, dict):
        counts = retval.get("counts")
        if isinstance(counts, dict):
            record_sync(counts)


def _failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


def connect_celery_signals() -> None:
    """Time every task and count failures and sync outcomes (idempotent: connects once per process)."""
    global _connected
    if _connected:
        return
    from celery import signals

    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="storebot-metrics-prerun")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="storebot-metrics-postrun")
    signals.task_failure.connect(_failure, weak=False, dispatch_uid="storebot-metrics-failure")
    _connected = True
