"""Goes-with lists that follow the shoppers: which products' complementary lists events made stale, and one
debounced refresh per store.

An add-to-cart or purchase whose session (or order) now holds at least two products changes co-occurrence
counts. :meth:`EventRefreshQueue.note` adds its product to the store's stale set
(``storebot:{store}:recs:stale``) and tries to take the store's marker (``SET NX EX interval``): only the caller
that takes it schedules a refresh, ``interval`` seconds later, so a burst of events from many web processes
yields one refresh, and refreshes come at most once per ``interval``. The refresh
(:meth:`Recommender.refresh_complementary`) recomputes the stale products and everything that shares a basket
with them, then :meth:`EventRefreshQueue.finished` drops the ids it handled, and no others: a refresh that dies
half-way leaves them stale, and its redelivered task redoes them.

Views alone do not schedule a refresh (they are most of the traffic); they still enter the session baskets,
which the next refresh or the scheduled full one counts.

Example:
    >>> queue = EventRefreshQueue(client, keys, events, interval=60)                                  # doctest: +SKIP
    >>> queue.note([{"type": "purchase", "product_id": "1081", "session_id": "sess-12345678"}])    # doctest: +SKIP
    '5f0c...'   # this caller schedules the refresh in 60 s (None: nothing to do, or already scheduled)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import redis

from storebot.insights.events import EventStore, InvalidEvent, parse_event
from storebot.keys import StoreKeys

LINKING_TYPES = ("add_to_cart", "purchase")
"""The events that schedule a refresh: a shopper putting products together, not just looking."""

# Delete the marker only if it is still ours: a refresh must not clear the marker of the next window.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class EventRefreshQueue:
    """One store's stale complementary lists and its refresh marker.

    Args:
        client: Redis. keys: the store's key namespace. events: its :class:`EventStore` (for the baskets' sizes).
        interval: seconds between refreshes; 0 turns event-driven refreshes off.

    Example:
        >>> queue = EventRefreshQueue(client, StoreKeys("storebot", "demo"), events, interval=60)   # doctest: +SKIP
        >>> token = queue.note(accepted_events)                                                     # doctest: +SKIP
        >>> token and send_refresh_in(60, token)                                                    # doctest: +SKIP
        >>> queue.stats()                                                                           # doctest: +SKIP
        {'queued': 1, 'runs': 0, 'stale': 2}
    """

    def __init__(self, client: redis.Redis, keys: StoreKeys, events: EventStore, *, interval: float) -> None:
        self.redis = client
        self.keys = keys
        self.events = events
        self.interval = max(0, int(interval))

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def stale_key(self) -> str:
        return self.keys("recs", "stale")

    @property
    def marker_key(self) -> str:
        return self.keys("recs", "stale", "scheduled")

    @property
    def stats_key(self) -> str:
        return self.keys("recs", "stale", "stats")

    def linking_products(self, raw_events: Iterable[Any]) -> list[str]:
        """The products of add-to-cart and purchase events whose session or order now holds two products or more."""
        linking = []
        for raw in raw_events:
            try:
                event = parse_event(raw, now=0.0)
            except InvalidEvent:
                continue
            if event.type in LINKING_TYPES:
                linking.append(event)
        if not linking:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for event in linking:
                pipe.zcard(self.events.session_key(event.session_id))
                if event.order_id and event.type == "purchase":
                    pipe.scard(self.events.order_key(event.order_id))
                else:
                    pipe.echo("0")
            sizes = pipe.execute()
        found = [e.product_id for i, e in enumerate(linking) if max(int(sizes[2 * i]), int(sizes[2 * i + 1])) >= 2]
        return list(dict.fromkeys(found))

    def note(self, accepted_events: Sequence[Any]) -> str | None:
        """Mark what ``accepted_events`` (already stored) made stale; a token if this caller must schedule the refresh.

        The caller that gets a token queues the refresh ``interval`` seconds from now and passes it the token;
        everyone else gets ``None`` (off, nothing linked two products, or a refresh is already scheduled).
        """
        if not self.enabled:
            return None
        products = self.linking_products(accepted_events)
        if not products:
            return None
        token = uuid.uuid4().hex
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self.stale_key, *products)
            pipe.set(self.marker_key, token, nx=True, ex=self.interval)
            taken = pipe.execute()[1]
        if not taken:
            return None
        self.redis.hincrby(self.stats_key, "queued", 1)
        return token

    def release(self, token: str) -> bool:
        """Drop the marker if ``token`` still holds it, so that the next events schedule the next refresh."""
        return bool(self.redis.eval(_RELEASE, 1, self.marker_key, token))

    def stale(self) -> list[str]:
        """The products whose complementary lists wait for a refresh."""
        return sorted(_decode(m) for m in self.redis.smembers(self.stale_key))

    def finished(self, product_ids: Sequence[str], *, count_run: bool = True) -> None:
        """Drop ``product_ids`` from the stale set (ids added since stay) and count the run."""
        with self.redis.pipeline(transaction=False) as pipe:
            if product_ids:
                pipe.srem(self.stale_key, *product_ids)
            if count_run:
                pipe.hincrby(self.stats_key, "runs", 1)
            pipe.execute()

    def stats(self) -> dict[str, int]:
        """Refreshes scheduled (``queued``) and run (``runs``) so far, and how many products are ``stale`` now."""
        raw = {_decode(k): int(v) for k, v in self.redis.hgetall(self.stats_key).items()}
        return {
            "queued": raw.get("queued", 0),
            "runs": raw.get("runs", 0),
            "stale": int(self.redis.scard(self.stale_key)),
        }
