"""Where review insights live in Redis: the store's sentiment model, per-review analyses, per-product summaries.

Keys (per store, from :class:`~storebot.keys.StoreKeys`):

- ``storebot:{store}:insights:model``: the sentiment model as JSON numbers;
- ``storebot:{store}:insights:reviews``: hash review id -> analysis JSON;
- ``storebot:{store}:insights:summaries``: hash product id -> summary JSON;
- ``storebot:{store}:insights:meta``: JSON with the discovered aspects, the model kind, when and on which
  version of the reviews the analysis ran.

A new analysis replaces the old one in one MULTI/EXEC, so readers never see half of each.

Example:
    >>> store = ReviewInsightsStore(redis.Redis(), StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> store.summary("1001")["fit"]["signal"]                                      # doctest: +SKIP
    'runs_small'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import redis

from storebot.insights.sentiment import SentimentModel
from storebot.keys import StoreKeys


class ReviewInsightsStore:
    """Read and replace one store's review insights.

    Example:
        >>> insights = ReviewInsightsStore(client, keys)   # doctest: +SKIP
        >>> insights.meta() is None                        # not analysed yet  # doctest: +SKIP
        True
    """

    def __init__(self, client: redis.Redis, keys: StoreKeys) -> None:
        self.redis = client
        self.keys = keys

    def _key(self, part: str) -> str:
        return self.keys("insights", part)

    def model(self) -> SentimentModel | None:
        raw = self.redis.get(self._key("model"))
        return SentimentModel.from_dict(json.loads(raw)) if raw else None

    def meta(self) -> dict[str, Any] | None:
        raw = self.redis.get(self._key("meta"))
        return json.loads(raw) if raw else None

    def summary(self, product_id: str) -> dict[str, Any] | None:
        raw = self.redis.hget(self._key("summaries"), product_id)
        return json.loads(raw) if raw else None

    def review(self, review_id: str) -> dict[str, Any] | None:
        raw = self.redis.hget(self._key("reviews"), review_id)
        return json.loads(raw) if raw else None

    def reviews(self, review_ids: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Analyses of the given reviews (all when None)."""
        if review_ids is None:
            for _rid, raw in self.redis.hscan_iter(self._key("reviews"), count=1000):
                yield json.loads(raw)
            return
        if review_ids:
            for raw in self.redis.hmget(self._key("reviews"), review_ids):
                if raw is not None:
                    yield json.loads(raw)

    def summaries(self) -> Iterator[dict[str, Any]]:
        for _pid, raw in self.redis.hscan_iter(self._key("summaries"), count=500):
            yield json.loads(raw)

    def replace(self, model: SentimentModel, analyses: list[dict[str, Any]], summaries: list[dict[str, Any]],
                meta: dict[str, Any]) -> None:  # fmt: skip
        """Swap in a whole new analysis atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self._key("model"), json.dumps(model.to_dict()))
        pipe.delete(self._key("reviews"), self._key("summaries"))
        for start in range(0, len(analyses), 1000):
            chunk = analyses[start : start + 1000]
            pipe.hset(self._key("reviews"), mapping={a["id"]: json.dumps(a) for a in chunk})
        if summaries:
            pipe.hset(self._key("summaries"), mapping={s["product_id"]: json.dumps(s) for s in summaries})
        pipe.set(self._key("meta"), json.dumps(meta))
        pipe.execute()
