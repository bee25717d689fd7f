"""Reading a store's catalog back out of Redis.

Records live in one hash per collection (``storebot:{store}:products``,
``...:reviews``, ``...:policies``) as JSON; see :mod:`storebot.catalog.sync`
for how they get there.

Example:
    >>> catalog = CatalogRepository(redis.Redis(), StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> catalog.get_product("1001").title  # doctest: +SKIP
    'Ridge Shell Rain Jacket'
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import redis

from storebot.catalog.models import Policy, Product, Review
from storebot.catalog.ratings import get_ratings
from storebot.errors import NotFound
from storebot.keys import StoreKeys


class ProductCache:
    """Parsed products shared by a process, keyed by id and content hash, so a changed product is never stale.

    Parsing a product's JSON costs about a millisecond for a product with a dozen variants; search fetches
    a hundred candidates per query, so re-parsing them every time would dominate its latency.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], tuple[str, Product]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], digest: str) -> Product | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != digest:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[str, str], digest: str, product: Product) -> None:
        with self._lock:
            self._items[key] = (digest, product)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class CatalogRepository:
    """Read access to one store's products, reviews and policies."""

    def __init__(self, client: redis.Redis, keys: StoreKeys, cache: ProductCache | None = None) -> None:
        self.redis = client
        self.keys = keys
        self.cache = cache

    def count(self, kind: str = "products") -> int:
        return int(self.redis.hlen(self.keys(kind)))

    def version(self, kind: str = "products") -> int:
        return int(self.redis.get(self.keys("version", kind)) or 0)

    def get_product(self, product_id: str) -> Product:
        products = self.get_products([product_id])
        if not products:
            raise NotFound(
                f"No product {product_id!r} in this store.",
                fix="List the products with GET /api/v1/products, or sync the feed that has it.",
            )
        return products[0]

    def get_ratings(self, product_ids: list[str]) -> dict[str, dict[str, float]]:
        """Review aggregates (``{"avg": 4.4, "count": 12}``) by product id; products with no reviews are absent."""
        return get_ratings(self.redis, self.keys, product_ids)

    def get_products(self, product_ids: list[str]) -> list[Product]:
        """Products by id, in the order asked, skipping unknown ids; ratings merged in."""
        if not product_ids:
            return []
        ratings = get_ratings(self.redis, self.keys, product_ids)
        products = []
        for product in self._load(product_ids):
            pid = product.id
            if pid in ratings and not product.rating_count:
                product.rating_avg = ratings[pid]["avg"]
                product.rating_count = int(ratings[pid]["count"])
            products.append(product)
        return products

    def _load(self, product_ids: list[str]) -> list[Product]:
        """Products in the order asked; parsed ones come from the cache while their content hash holds."""
        if self.cache is None:
            raws = self.redis.hmget(self.keys("products"), product_ids)
            return [Product.from_dict(json.loads(r)) for r in raws if r is not None]
        digests = self.redis.hmget(self.keys("hashes", "products"), product_ids)
        found: dict[str, Product] = {}
        missing = []
        for pid, digest in zip(product_ids, digests, strict=True):
            if digest is None:
                continue
            cached = self.cache.get((self.keys.store_id, pid), digest.decode())
            if cached is None:
                missing.append((pid, digest.decode()))
            else:
                found[pid] = cached
        if missing:
            raws = self.redis.hmget(self.keys("products"), [pid for pid, _ in missing])
            for (pid, digest), raw in zip(missing, raws, strict=True):
                if raw is not None:
                    found[pid] = Product.from_dict(json.loads(raw))
                    self.cache.put((self.keys.store_id, pid), digest, found[pid])
        # Copies: callers merge ratings into what they get back, and the cache must stay as stored.
        return [copy.copy(found[pid]) for pid in product_ids if pid in found]

    def iter_products(self, batch: int = 500) -> Iterator[Product]:
        for _pid, raw in self.redis.hscan_iter(self.keys("products"), count=batch):
            yield Product.from_dict(json.loads(raw))

    def product_ids(self) -> list[str]:
        return sorted(k.decode() for k in self.redis.hkeys(self.keys("products")))

    def page(self, kind: str, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """A stable, id-ordered page of records for the API."""
        ids = sorted(k.decode() for k in self.redis.hkeys(self.keys(kind)))
        chosen = ids[offset : offset + limit]
        if kind == "products":
            items = [p.to_dict() for p in self.get_products(chosen)]
        else:
            raws = self.redis.hmget(self.keys(kind), chosen) if chosen else []
            items = [json.loads(r) for r in raws if r is not None]
        next_offset = offset + limit if offset + limit < len(ids) else None
        return {"items": items, "total": len(ids), "offset": offset, "limit": limit, "next_offset": next_offset}

    def iter_reviews(self, batch: int = 1000) -> Iterator[Review]:
        """Every review of the store, in no particular order."""
        for _rid, raw in self.redis.hscan_iter(self.keys("reviews"), count=batch):
            yield Review.from_dict(json.loads(raw))

    def get_reviews(self, review_ids: list[str]) -> list[Review]:
        """Reviews by id, in the order asked, skipping unknown ids."""
        raws = self.redis.hmget(self.keys("reviews"), review_ids) if review_ids else []
        return [Review.from_dict(json.loads(r)) for r in raws if r is not None]

    def reviews_for(self, product_id: str) -> list[Review]:
        ids = sorted(m.decode() for m in self.redis.smembers(self.keys("product_reviews", product_id)))
        if not ids:
            return []
        raws = self.redis.hmget(self.keys("reviews"), ids)
        reviews = [Review.from_dict(json.loads(r)) for r in raws if r is not None]
        return sorted(reviews, key=lambda r: (r.date, r.id), reverse=True)

    def policies(self) -> list[Policy]:
        raws = self.redis.hvals(self.keys("policies"))
        return sorted((Policy.from_dict(json.loads(r)) for r in raws), key=lambda p: p.id)

    def pending_changes(self, kind: str = "products") -> dict[str, str]:
        """Ids touched since the indexer last drained them: ``id -> upsert|delete``."""
        raw = self.redis.hgetall(self.keys("changes", kind))
        return {k.decode(): v.decode() for k, v in raw.items()}
