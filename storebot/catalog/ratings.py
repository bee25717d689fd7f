"""Rating aggregates (average and count per product), derived from stored reviews.

Feeds rarely carry trustworthy aggregates, so storebot computes them from the
reviews it holds after every review sync, into the store's ``ratings`` hash
(``product id -> {"avg": 4.3, "count": 12}``). They are derived data: a
recompute from the reviews always gives the same answer.
"""

from __future__ import annotations

import json
from collections import defaultdict

import redis

from storebot.keys import StoreKeys


def refresh_ratings(client: redis.Redis, keys: StoreKeys) -> int:
    """Recompute every product's aggregate from the reviews; returns products rated."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _id, raw in client.hscan_iter(keys("reviews"), count=1000):
        review = json.loads(raw)
        entry = totals[str(review["product_id"])]
        entry[0] += int(review["rating"])
        entry[1] += 1
    fresh = {
        pid: json.dumps({"avg": round(total / count, 2), "count": count}) for pid, (total, count) in totals.items()
    }
    temp = keys("ratings", "rebuild")
    with client.pipeline() as pipe:  # MULTI: readers never see a half-built hash
        pipe.delete(temp)
        if fresh:
            pipe.hset(temp, mapping=fresh)
            pipe.rename(temp, keys("ratings"))
        else:
            pipe.delete(keys("ratings"))
        pipe.execute()
    return len(fresh)


def get_ratings(client: redis.Redis, keys: StoreKeys, product_ids: list[str]) -> dict[str, dict[str, float]]:
    """Aggregates for ``product_ids`` (products with no reviews are absent)."""
    if not product_ids:
        return {}
    values = client.hmget(keys("ratings"), product_ids)
    return {pid: json.loads(v) for pid, v in zip(product_ids, values, strict=True) if v is not None}
