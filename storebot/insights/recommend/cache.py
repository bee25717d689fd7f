"""Computed recommendations and their Redis cache (one hash per kind, product id -> JSON).

Only ids, scores and reasons are cached: titles, prices and stock are read from the catalog when a
recommendation is served, so a price change shows at once and a product that sold out drops out.

Example:
    >>> cache = RecommendationCache(client, StoreKeys("storebot", "demo"))        # doctest: +SKIP
    >>> rec = Recommendation([Pick("1003", 0.91, "another rain jacket")], "vectors")
    >>> cache.put_many("similar", {"1001": rec})                                 # doctest: +SKIP
    >>> cache.get("similar", "1001").source                                       # doctest: +SKIP
    'vectors'
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from storebot.keys import StoreKeys

PRODUCT_KINDS = ("similar", "complementary")
SESSION_KINDS = ("personal", "trending")
KINDS = PRODUCT_KINDS + SESSION_KINDS
SOURCES = ("events", "catalog", "map", "vectors", "none")


@dataclass(frozen=True)
class Pick:
    """One recommended product: its id, a score (higher is better) and why it was picked."""

    id: str
    score: float
    reason: str


@dataclass
class Recommendation:
    """The recommended products of one kind for one product or session, and where they came from.

    ``source`` is ``events`` (shopper behaviour), ``catalog`` (learned from the catalog's own categories and
    tags), ``map`` (the merchant's ``RECS_COMPLEMENTARY_MAP``), ``vectors`` (product embeddings) or ``none``
    (nothing to go on yet; ``note`` says why).

    Example:
        >>> Recommendation([Pick("1081", 0.4, "bought together")], "events", 0.0).ids
        ['1081']
    """

    picks: list[Pick]
    source: str
    computed_at: float = field(default_factory=time.time)
    note: str = ""

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.picks]

    def to_json(self) -> str:
        body: dict[str, Any] = {"picks": [[p.id, round(p.score, 5), p.reason] for p in self.picks],
                                "source": self.source, "computed_at": self.computed_at}  # fmt: skip
        if self.note:
            body["note"] = self.note
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Recommendation:
        data = json.loads(raw)
        picks = [Pick(str(i), float(s), str(r)) for i, s, r in data["picks"]]
        return cls(picks, data["source"], float(data["computed_at"]), data.get("note", ""))


class RecommendationCache:
    """The cached recommendations of one store: ``storebot:{store}:recs:<kind>`` hashes."""

    def __init__(self, client: redis.Redis, keys: StoreKeys) -> None:
        self.redis = client
        self.keys = keys

    def key(self, kind: str) -> str:
        return self.keys("recs", kind)

    def get(self, kind: str, subject_id: str) -> Recommendation | None:
        raw = self.redis.hget(self.key(kind), subject_id)
        return Recommendation.from_json(raw) if raw else None

    def get_many(self, kind: str, subject_ids: list[str]) -> dict[str, Recommendation]:
        if not subject_ids:
            return {}
        raws = self.redis.hmget(self.key(kind), subject_ids)
        return {sid: Recommendation.from_json(r) for sid, r in zip(subject_ids, raws, strict=True) if r}

    def put_many(self, kind: str, recommendations: Mapping[str, Recommendation], *, replace: bool = False) -> None:
        """Store ``recommendations``; ``replace`` also drops every cached entry not among them (deleted products).

        Only a full computation (``replace``) updates :meth:`meta`: a cache miss or a partial refresh is not one.
        """
        items = {sid: rec.to_json() for sid, rec in recommendations.items()}
        with self.redis.pipeline() as pipe:
            if replace:
                pipe.delete(self.key(kind))
            for start in range(0, len(items), 1000):
                chunk = dict(list(items.items())[start : start + 1000])
                if chunk:
                    pipe.hset(self.key(kind), mapping=chunk)
            if replace:
                meta = {"computed_at": time.time(), "count": len(items)}
                pipe.hset(self.keys("recs", "meta"), kind, json.dumps(meta))
            pipe.execute()

    def meta(self) -> dict[str, Any]:
        raw = self.redis.hgetall(self.keys("recs", "meta"))
        return {k.decode(): json.loads(v) for k, v in raw.items()}
