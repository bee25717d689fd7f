"""Model calls bounded by a wall-clock deadline, whatever the backend does.

An HTTP backend's own timeout applies per attempt and per read (a server that
sends one token every few seconds never trips it), and a local model has none.
So the chat runs model calls in a helper thread and stops waiting at the turn's
deadline: the shopper then gets the answer built from the records, in time.

Example:
    >>> deadline = time.monotonic() + 5
    >>> for chunk in stream_within(lambda: iter(["Hel", "lo"]), deadline):
    ...     print(chunk, end="")
    Hello
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


DEFAULT_TIMEOUT = 30.0


def model_timeout(spec: Any) -> float:
    """The seconds a turn's model calls may take in all: the backend spec's timeout (``LLM_TIMEOUT``)."""
    return float(getattr(spec, "timeout", None) or DEFAULT_TIMEOUT)


class DeadlineExceeded(TimeoutError):
    """The model did not finish before the turn's deadline."""


def stream_within(produce: Callable[[], Iterable[T]], deadline: float) -> Iterator[T]:
    """Yield what ``produce()`` yields until ``deadline`` (a ``time.monotonic()`` value).

    Raises:
        DeadlineExceeded: the deadline passed first. The producer thread is told to stop
            and closes its iterator at its next item (a local model stops generating).
        Exception: whatever the producer raised.
    """
    items: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        iterator = iter(produce())
        try:
            for item in iterator:
                if stop.is_set():
                    break
                items.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            items.put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # closing an abandoned stream is best effort
                    close()
            items.put(_END)

    threading.Thread(target=run, name="model-call", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded("the model did not answer in time")
            try:
                item = items.get(timeout=remaining)
            except queue.Empty:
                raise DeadlineExceeded("the model did not answer in time") from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def call_within(call: Callable[[], T], deadline: float) -> T:
    """``call()``'s result if it returns before ``deadline``; else :class:`DeadlineExceeded`."""
    for result in stream_within(lambda: [call()], deadline):
        return result
    raise DeadlineExceeded("the model returned nothing")
