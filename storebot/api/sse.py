"""Server-sent events: framing, heartbeats, and a producer thread so heartbeats flow while the model thinks.

Example:
    >>> sse_frame("token", {"text": "Hi"})
    'event: token\\ndata: {"text": "Hi"}\\n\\n'
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from storebot.errors import StorebotError

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: don't buffer, or the first tokens arrive with the last
    "Connection": "keep-alive",
}
_END = object()


def sse_frame(event: str, data: Any) -> str:
    """One SSE event; ``data`` is JSON-encoded on a single line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(', ', ': '))}\n\n"


def sse_stream(produce: Callable[[], Iterable[tuple[str, Any]]], heartbeat: float = HEARTBEAT_SECONDS) -> Iterator[str]:
    """Run ``produce`` in a thread and yield its events as SSE frames, with ``: ping`` heartbeats.

    A :class:`StorebotError` becomes an ``error`` event with its message and fix; any other
    exception an ``error`` event with a generic message (the traceback goes to the log only).
    """
    events: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        try:
            for item in produce():
                events.put(item)
        except StorebotError as exc:
            events.put(("error", exc.to_dict()["error"]))
        except Exception:  # the shopper gets a clean error event, the log gets the traceback
            log.exception("chat stream failed")
            events.put(("error", {"code": "internal_error", "message": "Something went wrong; please try again."}))
        finally:
            events.put(_END)

    threading.Thread(target=run, name="sse-producer", daemon=True).start()
    yield ": stream open\n\n"
    while True:
        try:
            item = events.get(timeout=heartbeat)
        except queue.Empty:
            yield ": ping\n\n"
            continue
        if item is _END:
            return
        name, data = item
        yield sse_frame(name, data)
