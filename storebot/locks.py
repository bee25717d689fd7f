"""Redis locks with a short lease that a live holder keeps renewing.

A lock taken with a long timeout outlives a worker that is SIGKILLed while holding
it: the task is redelivered, then waits out the dead holder's lock (an hour for a
sync). :func:`leased_lock` takes a short lease instead and renews it from a
daemon thread for as long as the ``with`` block runs, so a dead holder's lock
frees itself within ``lease`` seconds while a slow but live holder keeps it.

Example:
    >>> with leased_lock(client, "storebot:demo:lock:products", wait=3600):  # doctest: +SKIP
    ...     sync_everything()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError

from storebot.errors import Conflict

log = logging.getLogger(__name__)

LEASE_SECONDS = 20.0
"""How long a holder that stopped renewing (it died) keeps others waiting."""


@contextmanager
def leased_lock(client: redis.Redis, name: str, *, wait: float = 3600, lease: float = LEASE_SECONDS) -> Iterator[None]:
    """Hold the Redis lock ``name`` for the block, waiting up to ``wait`` seconds for it.

    Raises:
        Conflict: the lock was not free within ``wait`` seconds.
    """
    # thread_local=False: the renewing thread must see the token the holder's thread acquired.
    lock = client.lock(name, timeout=lease, blocking_timeout=wait, thread_local=False)
    if not lock.acquire():
        raise Conflict(
            f"Another process held {name} for more than {wait:g} s.",
            fix="Wait for the running sync or index update to finish, then try again.",
        )
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 3):
            try:
                lock.reacquire()
            except (LockError, redis.RedisError) as exc:  # lost it, or Redis is away: the holder finds out on release
                log.warning("could not renew lock %s: %s", name, exc)

    renewer = threading.Thread(target=renew, name=f"lease:{name}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        try:
            lock.release()
        except LockError:
            log.warning("lock %s had expired before release", name)
