"""Shopper events (view, add to cart, purchase): validation and bounded storage in Redis.

Each accepted event goes to four places, in one pipeline:

* the store's event stream, ``storebot:{store}:events``, capped at ``EVENTS_MAX`` entries and trimmed by age;
* the session's product set (a sorted set by last touch, at most :data:`SESSION_PRODUCTS`) and, for a
  purchase with an ``order_id``, the order's product set: the baskets that co-occurrence counts;
* indexes of those sessions and orders by last activity, trimmed by age and count with them;
* the decayed trending counts: ``weight * 2 ** ((t - epoch) / half_life)`` added to a sorted set, so the
  ranking is the plain ``ZREVRANGE`` and today's value is that score divided by ``2 ** ((now - epoch) / half_life)``.

Example:
    >>> events = EventStore(client, StoreKeys("storebot", "demo"), catalog)          # doctest: +SKIP
    >>> events.record_batch([{"type": "view", "product_id": "1001", "session_id": "sess-12345678"}])  # doctest: +SKIP
    {'accepted': 1, 'rejected': []}
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from storebot.catalog.repository import CatalogRepository
from storebot.chat.memory import SESSION_ID_RE
from storebot.keys import StoreKeys

EVENT_TYPES = ("view", "add_to_cart", "purchase")
WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0}
"""How much one event adds to a product's trending count: buying says more than looking."""
MAX_BATCH = 100
SESSION_PRODUCTS = 50  # the most recent products a session keeps for co-occurrence and "personal"
ORDER_PRODUCTS = 100
MAX_QUANTITY = 1000
ORDER_ID_RE = re.compile(r"^[A-Za-z0-9_.:#-]{1,64}$")
PRODUCT_ID_MAX = 128
RESCALE_AFTER = 400.0  # half-lives since the epoch before the trending scores are rebased (2**400 fits a double)


class InvalidEvent(ValueError):
    """One event of a batch is malformed or names something the catalog does not have."""


@dataclass(frozen=True)
class Event:
    """One validated shopper event.

    Example:
        >>> Event("view", "1001", "sess-12345678").weight
        1.0
    """

    type: str
    product_id: str
    session_id: str
    variant_id: str | None = None
    order_id: str | None = None
    quantity: int = 1
    ts: float = 0.0

    @property
    def weight(self) -> float:
        return WEIGHTS[self.type]

    def to_fields(self) -> dict[str, str]:
        fields = {"type": self.type, "product_id": self.product_id, "session_id": self.session_id,
                  "quantity": str(self.quantity), "ts": f"{self.ts:.6f}"}  # fmt: skip
        if self.variant_id:
            fields["variant_id"] = self.variant_id
        if self.order_id:
            fields["order_id"] = self.order_id
        return fields


def parse_event(raw: Any, *, now: float) -> Event:
    """An :class:`Event` from a JSON object, or :class:`InvalidEvent` saying what is wrong (catalog not checked)."""
    if not isinstance(raw, Mapping):
        raise InvalidEvent('an event must be an object like {"type": "view", "product_id": "...", "session_id": "..."}')
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise InvalidEvent(f"type must be one of {', '.join(EVENT_TYPES)}, not {str(kind)[:40]!r}")
    product_id = raw.get("product_id")
    if isinstance(product_id, int) and not isinstance(product_id, bool):
        product_id = str(product_id)
    if not isinstance(product_id, str) or not product_id.strip() or len(product_id) > PRODUCT_ID_MAX:
        raise InvalidEvent("product_id is required (a string of at most 128 characters)")
    session_id = raw.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
        raise InvalidEvent("session_id must be 8-64 letters, digits, '_' or '-' (the widget's session id)")
    variant_id = raw.get("variant_id")
    if variant_id is not None and variant_id != "":
        if isinstance(variant_id, int) and not isinstance(variant_id, bool):
            variant_id = str(variant_id)
        if not isinstance(variant_id, str) or len(variant_id) > PRODUCT_ID_MAX:
            raise InvalidEvent("variant_id must be a string of at most 128 characters")
    order_id = raw.get("order_id")
    if order_id is not None and order_id != "":
        if not isinstance(order_id, str | int) or not ORDER_ID_RE.match(str(order_id)):
            raise InvalidEvent("order_id must be 1-64 letters, digits or _ . : # -")
        order_id = str(order_id)
    quantity = raw.get("quantity", 1)
    if quantity is None:
        quantity = 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidEvent(f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    return Event(kind, product_id.strip(), session_id, variant_id or None, order_id or None, quantity, now)


def event_list(body: Any) -> list[Any]:
    """The events of a request body: one event object, or ``{"events": [...]}`` (at most :data:`MAX_BATCH`)."""
    if isinstance(body, Mapping) and "events" in body:
        events = body["events"]
        if not isinstance(events, list) or not events:
            raise InvalidEvent('"events" must be a non-empty list of event objects')
        if len(events) > MAX_BATCH:
            raise InvalidEvent(f"a batch holds at most {MAX_BATCH} events; send the rest in another request")
        return list(events)
    if isinstance(body, Mapping):
        return [body]
    raise InvalidEvent('send one event object, or {"events": [...]}')


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class EventStore:
    """One store's shopper events in Redis, with bounded retention.

    Args:
        client: Redis. keys: the store's key namespace. catalog: checks product and variant ids.
        max_events: the stream's cap (also caps the session and order indexes).
        retention_days: how long events, sessions and orders live.
        half_life_hours: half-life of the trending counts.

    Example:
        >>> store = EventStore(client, keys, catalog, max_events=100_000)                  # doctest: +SKIP
        >>> store.record_batch([{"type": "purchase", "product_id": "1090", "session_id": "s-12345678",
        ...                      "order_id": "A-1001"}])                                   # doctest: +SKIP
        {'accepted': 1, 'rejected': []}
        >>> store.trending(5)                                                              # doctest: +SKIP
        [('1090', 5.0)]
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: StoreKeys,
        catalog: CatalogRepository,
        *,
        max_events: int = 100_000,
        retention_days: float = 30,
        half_life_hours: float = 72.0,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.catalog = catalog
        self.max_events = max(1, int(max_events))
        self.retention = max(1.0, float(retention_days) * 86400)
        self.half_life = max(60.0, float(half_life_hours) * 3600)

    # -- writing ------------------------------------------------------------------------------------------------

    def record_batch(self, raw_events: Sequence[Any], *, now: float | None = None) -> dict[str, Any]:
        """Validate every event, store the good ones, and report the others by index with a reason."""
        now = time.time() if now is None else now
        parsed: list[tuple[int, Event]] = []
        rejected: list[dict[str, Any]] = []
        for index, raw in enumerate(raw_events):
            try:
                # a microsecond apart: the batch's order is the order of "most recent" in a session
                parsed.append((index, parse_event(raw, now=now + index * 1e-6)))
            except InvalidEvent as exc:
                rejected.append({"index": index, "error": str(exc)})
        products = {p.id: p for p in self.catalog.get_products(list(dict.fromkeys(e.product_id for _, e in parsed)))}
        accepted: list[Event] = []
        for index, event in parsed:
            product = products.get(event.product_id)
            if product is None:
                rejected.append({"index": index, "error": f"no product {event.product_id!r} in this store"})
            elif event.variant_id and all(v.id != event.variant_id for v in product.variants):
                error = f"product {event.product_id!r} has no variant {event.variant_id!r}"
                rejected.append({"index": index, "error": error})
            else:
                accepted.append(event)
        if accepted:
            self._store(accepted, now)
        rejected.sort(key=lambda r: r["index"])
        return {"accepted": len(accepted), "rejected": rejected}

    def _store(self, events: list[Event], now: float) -> None:
        keys, ttl = self.keys, int(self.retention)
        epoch = self._epoch(now)
        cutoff = now - self.retention
        sessions = {e.session_id for e in events}
        orders = {e.order_id for e in events if e.order_id and e.type == "purchase"}
        with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(keys("events"), event.to_fields(), maxlen=self.max_events, approximate=False)
                pipe.zadd(self.session_key(event.session_id), {event.product_id: event.ts})
                if event.type == "purchase":
                    pipe.zadd(self.session_key(event.session_id, "bought"), {event.product_id: event.ts})
                    if event.order_id:
                        pipe.sadd(self.order_key(event.order_id), event.product_id)
                boost = event.weight * 2.0 ** ((event.ts - epoch) / self.half_life)
                pipe.zincrby(keys("events", "trending"), boost, event.product_id)
            pipe.xtrim(keys("events"), minid=f"{int(cutoff * 1000)}-0", approximate=False)
            for session_id in sessions:
                for key in (self.session_key(session_id), self.session_key(session_id, "bought")):
                    pipe.zremrangebyrank(key, 0, -SESSION_PRODUCTS - 1)
                    pipe.expire(key, ttl)
                pipe.zadd(keys("events", "sessions"), {session_id: now})
            for order_id in orders:
                pipe.expire(self.order_key(order_id), ttl)
                pipe.zadd(keys("events", "orders"), {order_id: now})
            for index in (keys("events", "sessions"), keys("events", "orders")):
                pipe.zremrangebyscore(index, "-inf", cutoff)
                pipe.zremrangebyrank(index, 0, -self.max_events - 1)
            pipe.set(keys("events", "updated_at"), repr(now))
            pipe.execute()

    def _epoch(self, now: float) -> float:
        """The trending scores' time origin; set on first use, rebased before the exponent grows too large."""
        key = self.keys("events", "trending", "epoch")
        raw = self.redis.get(key)
        if raw is None:
            self.redis.set(key, repr(now), nx=True)
            raw = self.redis.get(key)
        epoch = float(raw)  # type: ignore[arg-type]
        if (now - epoch) / self.half_life > RESCALE_AFTER:
            self.rebase_trending(now)
            epoch = now
        return epoch

    def rebase_trending(self, now: float) -> None:
        """Move the epoch to ``now``, scaling every score to keep the ranking and today's values."""
        key = self.keys("events", "trending")
        epoch_key = self.keys("events", "trending", "epoch")
        epoch = float(self.redis.get(epoch_key) or now)
        factor = 2.0 ** (-(now - epoch) / self.half_life)
        with self.redis.pipeline() as pipe:
            pipe.zunionstore(key, {key: factor})
            pipe.set(epoch_key, repr(now))
            pipe.execute()

    def prune(self, *, now: float | None = None, keep_trending: int = 10_000) -> None:
        """Drop what is past retention: old stream entries, stale session and order ids, tiny trending counts."""
        now = time.time() if now is None else now
        cutoff = now - self.retention
        keys = self.keys
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.xtrim(keys("events"), minid=f"{int(cutoff * 1000)}-0")
            for index in (keys("events", "sessions"), keys("events", "orders")):
                pipe.zremrangebyscore(index, "-inf", cutoff)
            pipe.zremrangebyrank(keys("events", "trending"), 0, -keep_trending - 1)
            pipe.execute()

    # -- reading ------------------------------------------------------------------------------------------------

    def session_key(self, session_id: str, *parts: str) -> str:
        return self.keys("events", "session", session_id, *parts)

    def order_key(self, order_id: str) -> str:
        return self.keys("events", "order", order_id)

    def count(self) -> int:
        return int(self.redis.xlen(self.keys("events")))

    def updated_at(self) -> float:
        return float(self.redis.get(self.keys("events", "updated_at")) or 0.0)

    def session_products(self, session_id: str) -> list[str]:
        """The products a session touched, most recent first."""
        return [_decode(m) for m in self.redis.zrevrange(self.session_key(session_id), 0, -1)]

    def session_purchases(self, session_id: str) -> list[str]:
        return [_decode(m) for m in self.redis.zrevrange(self.session_key(session_id, "bought"), 0, -1)]

    def recent(self, count: int = 100) -> list[dict[str, str]]:
        """The newest events, newest first."""
        entries = self.redis.xrevrange(self.keys("events"), count=count)
        return [{_decode(k): _decode(v) for k, v in fields.items()} for _id, fields in entries]

    def baskets(self, *, now: float | None = None, chunk: int = 500) -> Iterator[tuple[str, list[str]]]:
        """Every live session's and order's products, as ``("session" | "order", product ids)``."""
        now = time.time() if now is None else now
        cutoff = now - self.retention
        for kind, index in (("session", self.keys("events", "sessions")), ("order", self.keys("events", "orders"))):
            ids = [_decode(m) for m in self.redis.zrangebyscore(index, cutoff, "+inf")]
            for start in range(0, len(ids), chunk):
                with self.redis.pipeline(transaction=False) as pipe:
                    for item in ids[start : start + chunk]:
                        if kind == "session":
                            pipe.zrange(self.session_key(item), 0, -1)
                        else:
                            pipe.smembers(self.order_key(item))
                    for members in pipe.execute():
                        products = sorted(_decode(m) for m in members)
                        if products:
                            yield kind, products

    def trending(self, limit: int, *, now: float | None = None) -> list[tuple[str, float]]:
        """The products with the highest decayed event counts, with today's value of each count."""
        now = time.time() if now is None else now
        raw = self.redis.get(self.keys("events", "trending", "epoch"))
        if raw is None:
            return []
        scale = 2.0 ** (-(now - float(raw)) / self.half_life)
        top = self.redis.zrevrange(self.keys("events", "trending"), 0, max(limit, 1) - 1, withscores=True)
        return [(_decode(m), float(s) * scale) for m, s in top if math.isfinite(float(s) * scale)]
