"""The recommender of one store: computes every kind, caches product kinds, serves them with catalog cards.

``refresh()`` is what the Celery task runs (after a sync's index update, and on the beat schedule): it
computes similar and complementary recommendations for every product, replaces the cache, and prunes
events past retention. ``refresh_complementary(ids)`` redoes only the goes-with lists that new events made
stale (see :mod:`storebot.insights.recommend.event_refresh`). Serving reads the cache (two Redis round trips
plus the catalog read for the cards); a product the cache lacks is computed on demand, alone. Personal and
trending are computed per request from the session's events and chat, the trending counts and the cached
product kinds.

Example:
    >>> rec = Recommender.for_store(client, keys, catalog, index, events, sessions)   # doctest: +SKIP
    >>> rec.refresh()["products"]                                                        # doctest: +SKIP
    180
    >>> rec.product("complementary", "1090").source                                       # doctest: +SKIP
    'events'
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from storebot.catalog.models import Product
from storebot.catalog.repository import CatalogRepository
from storebot.chat.cards import card_from_product
from storebot.chat.session import SessionStore
from storebot.insights.events import EventStore
from storebot.insights.recommend.cache import Pick, Recommendation, RecommendationCache
from storebot.insights.recommend.complementary import ComplementaryFinder, parse_map
from storebot.insights.recommend.similar import SimilarFinder, available
from storebot.retrieval.index import StoreIndex

ON_DEMAND_BASKETS = 2000  # a cache miss reads the baskets only when there are this few
PERSONAL_WEIGHTS = {"similar": 1.0, "complementary": 0.8}


@dataclass
class RecommendationSettings:
    """The knobs, from the settings registry (``RECS_*``)."""

    limit: int = 12
    price_band: float = 2.0
    complementary_map: str = ""

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> RecommendationSettings:
        return cls(int(settings["RECS_LIMIT"]), float(settings["RECS_PRICE_BAND"]),
                   str(settings["RECS_COMPLEMENTARY_MAP"] or ""))  # fmt: skip


class Recommender:
    """Similar, complementary, personal and trending recommendations for one store.

    Args:
        catalog: the store's catalog. index: a callable returning its loaded search index (or None).
        events: its :class:`EventStore`. sessions: its chat sessions (for "personal").
        cache: where product kinds are cached. settings: :class:`RecommendationSettings`.

    Example:
        >>> recommender.product("similar", "1001", limit=4).ids           # doctest: +SKIP
        ['1003', '1012', '1010', '1013']
        >>> recommender.items(recommender.trending(limit=3))               # doctest: +SKIP
        [{'id': '1090', 'title': "Men's Traverse Mid ...", 'price': '169.00', ...}]
    """

    def __init__(
        self,
        catalog: CatalogRepository,
        index: Callable[[], StoreIndex | None],
        events: EventStore,
        sessions: SessionStore,
        cache: RecommendationCache,
        settings: RecommendationSettings | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.events = events
        self.sessions = sessions
        self.cache = cache
        self.settings = settings or RecommendationSettings()

    # -- computing ----------------------------------------------------------------------------------------------

    def _products(self, index: StoreIndex | None) -> dict[str, Product]:
        items = index.catalog_snapshot(self.catalog) if index is not None else self.catalog.iter_products()
        return {p.id: p for p in items}

    def refresh(self) -> dict[str, Any]:
        """Recompute and cache similar and complementary for every product; prune old events."""
        started = time.perf_counter()
        index = self.index()
        products = {p.id: p for p in self.catalog.iter_products()}
        limit = self.settings.limit
        timings: dict[str, float] = {}
        if index is not None:
            t = time.perf_counter()
            finder = SimilarFinder(index.products["text"], products, price_band=self.settings.price_band)
            self.cache.put_many("similar", finder.similar_all(limit), replace=True)
            timings["similar_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        baskets = [basket for _kind, basket in self.events.baskets()]
        complementary = ComplementaryFinder(products, baskets, parse_map(self.settings.complementary_map))
        computed = {pid: complementary.complementary(pid, limit) for pid in products}
        self.cache.put_many("complementary", computed, replace=True)
        timings["complementary_s"] = round(time.perf_counter() - t, 3)
        self.events.prune()
        from_events = sum(1 for rec in computed.values() if rec.source == "events")
        seconds = round(time.perf_counter() - started, 3)
        return {"products": len(products), "baskets": len(baskets), "complementary_from_events": from_events,
                "indexed": index is not None, **timings, "seconds": seconds}  # fmt: skip

    def refresh_complementary(self, product_ids: Iterable[str]) -> dict[str, Any]:
        """Recompute and cache complementary for ``product_ids`` and every product sharing a basket with one.

        What events made stale, without recomputing the whole store: the basket counts are read in full
        (a pair's score depends on both products' popularity), but only the affected lists are ranked.
        """
        started = time.perf_counter()
        products = {p.id: p for p in self.catalog.iter_products()}
        baskets = [basket for _kind, basket in self.events.baskets()]
        finder = ComplementaryFinder(products, baskets, parse_map(self.settings.complementary_map))
        stale = [pid for pid in dict.fromkeys(product_ids) if pid in products]
        affected = set(stale)
        for pid in stale:
            affected.update(finder.pairs.get(pid, ()))
        computed = {pid: finder.complementary(pid, self.settings.limit) for pid in sorted(affected)}
        if computed:
            self.cache.put_many("complementary", computed)
        from_events = sum(1 for rec in computed.values() if rec.source == "events")
        return {"stale": len(stale), "products": len(computed), "complementary_from_events": from_events,
                "baskets": len(baskets), "seconds": round(time.perf_counter() - started, 3)}  # fmt: skip

    def compute(self, kind: str, product_id: str) -> Recommendation:
        """One product's recommendations of ``kind``, computed now (a cache miss); cached for next time."""
        index = self.index()
        products = self._products(index)
        if product_id not in products:
            return Recommendation([], "none", note="no such product")
        if kind == "similar":
            if index is None:
                return Recommendation([], "none", note="the store has no search index yet; sync a catalog")
            rec = SimilarFinder(index.products["text"], products, price_band=self.settings.price_band).similar(
                product_id, self.settings.limit
            )
        else:
            few = self.events.redis.zcard(self.events.keys("events", "sessions")) <= ON_DEMAND_BASKETS
            baskets = [b for _k, b in self.events.baskets()] if few else []
            finder = ComplementaryFinder(products, baskets, parse_map(self.settings.complementary_map))
            rec = finder.complementary(product_id, self.settings.limit)
        self.cache.put_many(kind, {product_id: rec})
        return rec

    # -- serving ------------------------------------------------------------------------------------------------

    def product(self, kind: str, product_id: str, limit: int | None = None) -> Recommendation:
        """Similar or complementary products for ``product_id``: cached, or computed now."""
        rec = self.cache.get(kind, product_id) or self.compute(kind, product_id)
        return self._trim(rec, limit)

    def trending(self, limit: int | None = None) -> Recommendation:
        """The products with the highest decayed event counts (purchases weigh more than views)."""
        limit = limit or self.settings.limit
        top = self.events.trending(limit * 3)
        if not top:
            return Recommendation([], "none", note="no shopper events yet")
        picks = [Pick(pid, score, "popular right now") for pid, score in top]
        return Recommendation(picks, "events")

    def personal(self, session_id: str, limit: int | None = None) -> Recommendation:
        """For a session: neighbours of what it viewed (events) and chatted about, minus what it saw or bought."""
        viewed = self.events.session_products(session_id)
        state = self.sessions.state(session_id)
        chatted = list(dict.fromkeys([*state.subject, *state.focus_ids[:2],
                                      *([state.page_context["product_id"]] if state.page_context.get("product_id")
                                        else [])]))  # fmt: skip
        bought = self.events.session_purchases(session_id)
        seeds: dict[str, tuple[float, str]] = {}
        for rank, pid in enumerate(viewed[:10]):
            seeds.setdefault(pid, (1.0 / (1 + rank), "bought" if pid in bought else "viewed"))
        for rank, pid in enumerate(chatted[:5]):
            seeds.setdefault(pid, (0.8 / (1 + rank), "asked about"))
        if not seeds:
            fallback = self.trending(limit)
            fallback.note = "nothing viewed or discussed yet: trending instead"
            return fallback
        seen = set(viewed) | set(bought) | set(seeds)
        seen |= {item.product_id for group in state.focus_history for item in group}
        seen |= set(state.focus_ids)
        titles = {p.id: p.title for p in self.catalog.get_products(list(seeds))}
        scores: dict[str, float] = defaultdict(float)
        reasons: dict[str, tuple[float, str]] = {}
        for kind, kind_weight in PERSONAL_WEIGHTS.items():
            cached = self.cache.get_many(kind, list(seeds))
            for pid, (weight, how) in seeds.items():
                if pid not in titles:
                    continue
                rec = cached.get(pid) or self.compute(kind, pid)
                for pick in rec.picks:
                    if pick.id in seen:
                        continue
                    gain = weight * kind_weight * max(pick.score, 0.05)
                    scores[pick.id] += gain
                    if gain > reasons.get(pick.id, (0.0, ""))[0]:
                        reasons[pick.id] = (gain, f"because you {how} the {titles[pid]}")
        ranked = sorted(scores.items(), key=lambda s: (-s[1], s[0]))
        picks = [Pick(pid, score, reasons[pid][1]) for pid, score in ranked]
        source = "events" if viewed else "vectors"
        return self._trim(Recommendation(picks, source), limit)

    def _trim(self, rec: Recommendation, limit: int | None) -> Recommendation:
        if limit is not None:
            rec.picks = rec.picks[: max(limit, 0) * 2]  # room for products that sold out since it was computed
        return rec

    def products_of(self, rec: Recommendation, limit: int) -> list[tuple[Product, Pick]]:
        """The recommended products as the catalog has them now: still there and in stock, best first."""
        picks = {p.id: p for p in rec.picks}
        found = self.catalog.get_products(list(picks))
        return [(p, picks[p.id]) for p in found if available(p)][:limit]

    def items(self, rec: Recommendation, limit: int) -> list[dict[str, Any]]:
        """The API's items: catalog cards with the recommendation's score and reason."""
        items = []
        for product, pick in self.products_of(rec, limit):
            card = card_from_product(product)
            items.append({
                "id": card.id, "title": card.title, "price": card.price, "sale_price": card.sale_price,
                "currency": card.currency, "url": card.url, "image": card.image,
                "in_stock": card.availability == "in_stock", "score": round(pick.score, 4), "reason": pick.reason,
            })  # fmt: skip
        return items
