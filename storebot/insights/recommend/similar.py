"""Similar products: the source product's stored vector, its nearest neighbours, then MMR for variety.

The vectors are the ones the search index already holds (``StoreIndex.products["text"]``); nothing is
embedded again. A neighbour qualifies when it is in stock, costs within the price band around the
source product, and is not the source itself nor one of its family (the same product for another
audience, "Men's X" beside "Women's X", which a shopper would not call "similar, but different").

Example:
    >>> finder = SimilarFinder(index.products["text"], products, price_band=2.0)   # doctest: +SKIP
    >>> finder.similar("1001", limit=6).ids                                        # doctest: +SKIP
    ['1003', '1010', '1012', ...]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from storebot.catalog.models import Product
from storebot.insights.recommend.cache import Pick, Recommendation
from storebot.retrieval.vectorstore import HnswlibVectorStore

FETCH = 40  # neighbours considered before filtering and MMR (a batch fetches twice as many)
POOL = 20  # the best neighbours (after the category prior) that MMR chooses among
SAME_CATEGORY, SAME_PARENT = 0.06, 0.03  # cosine bonus: a rain jacket is likelier "similar" than a rain mitt
MMR_LAMBDA = 0.7  # relevance vs. variety: mostly relevance, enough variety to avoid five near-twins
_AUDIENCE = re.compile(r"^(?:men's|women's|mens|womens|men|women|kids'?|unisex|boys'?|girls'?)\s+", re.IGNORECASE)


def family(product: Product) -> str:
    """The product's name without its audience prefix: "Men's Ridge Shell" and "Women's Ridge Shell" match."""
    return _AUDIENCE.sub("", product.title.strip()).lower()


AUDIENCES = {"mens": "m", "men": "m", "womens": "w", "women": "w", "kids": "k"}


def audience(product: Product) -> str:
    """Who the product is for, from its tags: "m", "w", "k", or "" (anyone, or unknown)."""
    found = {AUDIENCES[t.lower()] for t in product.tags if t.lower() in AUDIENCES}
    return found.pop() if len(found) == 1 else ""


def fits(source: Product, candidate: Product) -> bool:
    """Same audience, or either is for anyone: women's boots do not come with men's socks."""
    a, b = audience(source), audience(candidate)
    return not a or not b or a == b


def in_price_band(source: Product, candidate: Product, band: float) -> bool:
    """Whether ``candidate`` costs between ``source / band`` and ``source * band`` (unpriced: yes)."""
    a, b = source.effective_price, candidate.effective_price
    if a is None or b is None or a <= 0 or band <= 1:
        return True
    factor = Decimal(str(band))
    return a / factor <= b <= a * factor


def available(product: Product) -> bool:
    """Whether a shopper can buy it now (in stock, or on preorder or backorder)."""
    return product.availability != "out_of_stock"


def diverse(relevance: np.ndarray, vectors: np.ndarray, k: int, lambda_mult: float = MMR_LAMBDA) -> list[int]:
    """Maximal marginal relevance over given relevance scores (cosine plus the category prior), not raw cosine."""
    chosen: list[int] = []
    closest = np.full(len(relevance), -np.inf, dtype=np.float32)  # each candidate's similarity to the chosen
    for _ in range(min(k, len(relevance))):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        gain = lambda_mult * relevance - (1 - lambda_mult) * penalty
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        closest = np.maximum(closest, vectors @ vectors[best])
    return chosen


class SimilarFinder:
    """Similar-product recommendations from one store's product vectors.

    Args:
        vectors: the index's product vector store (``StoreIndex.products["text"]``).
        products: the store's products by id (the candidates' stock, price and title come from here).
        price_band: candidates cost within ``price / band`` and ``price * band``.

    Example:
        >>> products = {p.id: p for p in catalog.iter_products()}                 # doctest: +SKIP
        >>> SimilarFinder(index.products["text"], products).similar("1001").source   # doctest: +SKIP
        'vectors'
    """

    def __init__(
        self, vectors: HnswlibVectorStore, products: Mapping[str, Product], *, price_band: float = 2.0
    ) -> None:
        self.vectors = vectors
        self.products = products
        self.price_band = price_band
        self._traits: dict[str, tuple[str, str, float]] = {}  # id -> (family, audience, price), once per finder

    def _traits_of(self, product: Product) -> tuple[str, str, float]:
        traits = self._traits.get(product.id)
        if traits is None:
            price = float(product.effective_price) if product.effective_price is not None else 0.0
            traits = self._traits[product.id] = (family(product), audience(product), price)
        return traits

    def _allowed(self, source: Product, pid: str) -> bool:
        """Same rules as :func:`fits` and :func:`in_price_band`, on precomputed traits (this runs per neighbour)."""
        candidate = self.products.get(pid)
        if candidate is None or pid == source.id or not available(candidate):
            return False
        own_family, own_audience, own_price = self._traits_of(source)
        their_family, their_audience, their_price = self._traits_of(candidate)
        if own_family == their_family or (own_audience and their_audience and own_audience != their_audience):
            return False
        if own_price <= 0 or their_price <= 0 or self.price_band <= 1:
            return True
        return own_price / self.price_band <= their_price <= own_price * self.price_band

    def similar(self, product_id: str, limit: int = 12) -> Recommendation:
        """One product's similar products (a cache miss, or the chat asking)."""
        source = self.products.get(product_id)
        found, matrix = self.vectors.get_vectors([product_id])
        if source is None or not found:
            return Recommendation([], "none", note="the product is not in the search index yet")
        hits = self.vectors.search_vectors(matrix[0], FETCH, filter=lambda pid: self._allowed(source, pid))
        return self._choose(source, matrix[0], hits, limit, None)

    def similar_all(self, limit: int = 12, chunk: int = 1000) -> dict[str, Recommendation]:
        """Every product's similar products: one batched graph query per ``chunk`` products, then the filters.

        The unfiltered neighbours are fetched in bulk (hnswlib's batch query on every core); a product whose
        neighbours are mostly filtered out (out of stock, outside the price band) walks the whole catalog by
        similarity instead (one matrix product), so no product is left with a short list.
        """
        ids, matrix = self.vectors.get_vectors(list(self.products))
        rows = {pid: i for i, pid in enumerate(ids)}
        result = {pid: Recommendation([], "none", note="the product is not in the search index yet")
                  for pid in self.products if pid not in rows}  # fmt: skip
        for start in range(0, len(ids), chunk):
            block = ids[start : start + chunk]
            try:
                neighbours = self.vectors.search_many(matrix[start : start + chunk], 2 * FETCH)
            except RuntimeError:  # the graph found fewer than k for some row: ask row by row
                neighbours = [self.vectors.search_vectors(matrix[rows[pid]], 2 * FETCH) for pid in block]
            for pid, hits in zip(block, neighbours, strict=True):
                source = self.products[pid]
                kept = [(cid, sim) for cid, sim in hits if self._allowed(source, cid)]
                if len(kept) < limit:  # most neighbours filtered out: walk the whole catalog by similarity
                    kept = self._exact(source, matrix[rows[pid]], matrix, ids)
                result[pid] = self._choose(source, matrix[rows[pid]], kept, limit, (matrix, rows))
        return result

    def _exact(self, source: Product, query: np.ndarray, matrix: np.ndarray, ids: list[str]) -> list[tuple[str, float]]:
        sims = matrix @ query
        kept: list[tuple[str, float]] = []
        for row in np.argsort(-sims):
            if self._allowed(source, ids[row]):
                kept.append((ids[row], float(sims[row])))
                if len(kept) >= FETCH:
                    break
        return kept

    def _choose(self, source: Product, query: np.ndarray, hits: list[tuple[str, float]], limit: int,
                known: tuple[np.ndarray, dict[str, int]] | None) -> Recommendation:  # fmt: skip
        if not hits:
            return Recommendation([], "vectors", note="no in-stock product in the price band is close enough")
        # A small prior for the same category, then MMR over the best: variety, but among the right kind of thing.
        cosine = dict(hits)
        scores = {pid: sim + self._kinship(source, self.products[pid]) for pid, sim in hits}
        pool = sorted(scores, key=lambda pid: -scores[pid])[:POOL]
        if known is not None:
            matrix, rows = known
            ids, candidates = pool, matrix[[rows[pid] for pid in pool]]
        else:
            ids, candidates = self.vectors.get_vectors(pool)
        relevance = np.array([scores[pid] for pid in ids], dtype=np.float32)
        chosen = diverse(relevance, candidates, min(limit, len(ids)))
        picks = [Pick(ids[i], cosine[ids[i]], self._reason(source, self.products[ids[i]])) for i in chosen]
        return Recommendation(picks, "vectors")

    @staticmethod
    def _kinship(source: Product, candidate: Product) -> float:
        if source.category and source.category == candidate.category:
            return SAME_CATEGORY
        return SAME_PARENT if source.category[:-1] and source.category[:-1] == candidate.category[:-1] else 0.0

    @staticmethod
    def _reason(source: Product, candidate: Product) -> str:
        leaf = candidate.category[-1] if candidate.category else ""
        same = bool(leaf) and source.category[-1:] == candidate.category[-1:]
        a, b = source.effective_price, candidate.effective_price
        cheaper = a is not None and b is not None and b < a
        if same:
            return f"another {leaf.lower().rstrip('s')}" + (", for less" if cheaper else "") if leaf else "similar"
        return f"similar to the {source.title}" + (", for less" if cheaper else "")
