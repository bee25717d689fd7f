"""Product search: parse the query, rank hybrid, apply commerce filters, relax when empty.

1. :func:`~storebot.retrieval.query.parse_query` turns "waterproof jacket under
   $150 in medium" into search text and typed filters (explicit API filters win).
2. :class:`~storebot.retrieval.fusion.HybridRanker` ranks keyword and vector
   candidates together.
3. Filters are checked on the ranked candidates, variant by variant, so "blue,
   size M" returns the matching variant. When too few candidates pass, the
   whole catalog is filtered and ranked; when nothing passes, filters are
   relaxed in :data:`~storebot.retrieval.relax.RELAXATION_ORDER` and the result
   says which were relaxed.
4. A query with nothing left to search ("what's on sale?", "anything under $50",
   "show me the cheapest") has nothing to rank by meaning, so it browses: every
   product that passes, biggest discount first for "on sale", else best rated, or
   in the order the shopper asked for.

Example:
    >>> result = search_products(live_indexes, catalog, "demo", "rain jacket under $150 in M")  # doctest: +SKIP
    >>> result.hits[0].variant.options                                                       # doctest: +SKIP
    {'size': 'M', 'color': 'Slate Blue'}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.catalog.repository import CatalogRepository
from storebot.errors import StorebotError
from storebot.retrieval.documents import affirms, contradicts
from storebot.retrieval.filters import FilterMatch, Filters, buyable, discount
from storebot.retrieval.fusion import FusionConfig, HybridRanker
from storebot.retrieval.index import StoreIndex
from storebot.retrieval.indexer import LiveIndexes
from storebot.retrieval.query import QUERY_STOP_WORDS, ParsedQuery, parse_query
from storebot.retrieval.relax import relax
from storebot.retrieval.spelling import corrected, typo_fixes, unknown_words
from storebot.retrieval.tokenize import normalize

CANDIDATES = 120
MAX_DEPTH = CANDIDATES
"""How deep ``offset`` may page: the ranked candidates. Beyond them, a filter narrows better than a next page."""
SNIPPET_CHARS = 160
RELEVANCE_FLOOR = 0.4
"""Hits scoring under this share of the best unfiltered hit are dropped: a filter that everything passes
("under $100") must not turn a search for shoes into a list of everything cheap."""
BROWSE_KEPT = 1000
"""A browse order remembers its first 1,000 ids (a page is at most ``SEARCH_LIMIT_MAX``), not the whole catalog."""
CLOSE_TO_BEST = 0.7
""":func:`close_matches` keeps the hits scoring at least this share of the best one."""


class IndexNotReady(StorebotError):
    status = 503
    code = "index_not_ready"


@dataclass
class SearchHit:
    """A product found, with the variant that matched the filters and why it ranked."""

    product: Product
    score: float
    variant: Variant | None = None
    signals: dict[str, float] = field(default_factory=dict)
    matched: dict[str, str] = field(default_factory=dict)
    highlights: list[dict[str, Any]] = field(default_factory=list)

    @property
    def price(self) -> Decimal | None:
        if self.variant is not None and self.variant.price is not None:
            return self.variant.sale_price if self.variant.sale_price is not None else self.variant.price
        return self.product.effective_price

    def to_dict(self) -> dict[str, Any]:
        p = self.product
        return {
            "id": p.id,
            "title": p.title,
            "brand": p.brand,
            "category": p.category,
            "url": p.url,
            "image": p.images[0] if p.images else "",
            "price": f"{p.price:.2f}" if p.price is not None else None,
            "sale_price": f"{p.sale_price:.2f}" if p.sale_price is not None else None,
            "currency": p.currency,
            "availability": p.availability,
            "rating_avg": p.rating_avg,
            "rating_count": p.rating_count,
            "score": round(self.score, 4),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "matched_variant": self.variant.to_dict() if self.variant else None,
            "matched": self.matched,
            "highlights": self.highlights,
        }


@dataclass
class SearchResult:
    query: str
    parsed: ParsedQuery
    hits: list[SearchHit]
    filters: Filters
    relaxed: list[str] = field(default_factory=list)
    index_version: int = 0
    offset: int = 0
    next_offset: int | None = None  # where the next page starts; None on the last page
    unmatched: list[str] = field(default_factory=list)  # words of the search no product has ("kayaks", typos)
    corrected_query: str | None = None  # what was searched instead, when words of the query were typos
    corrections: dict[str, str] = field(default_factory=dict)  # typo -> the catalog word searched instead

    @property
    def content_words(self) -> list[str]:
        """The words of the search that could name a product (not the way of asking), lowercased."""
        words = re.findall(r"[^\W\d_]{3,}", normalize(self.parsed.search_text))
        return [w for w in words if w not in QUERY_STOP_WORDS]

    @property
    def nothing_matched(self) -> bool:
        """Whether no word of the search is in any product ("kayaks" in an outdoor store, a typo), or nearly none:
        three or more unknown words beside at most one known is another language rather than a product."""
        words = self.content_words
        unknown = [w for w in words if w in self.unmatched]
        return bool(unknown) and (len(unknown) == len(words) or (len(unknown) >= 3 and len(words) - len(unknown) <= 1))

    @property
    def filters_applied(self) -> dict[str, Any]:
        return self.filters.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "search_text": self.parsed.search_text,
            "sort": self.parsed.sort,
            "filters_applied": self.filters_applied,
            "relaxed": self.relaxed,
            "index_version": self.index_version,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "unmatched_words": self.unmatched,
            "corrected_query": self.corrected_query,
            "corrections": self.corrections,
            "items": [hit.to_dict() for hit in self.hits],
        }


def ranker_for(index: StoreIndex, config: FusionConfig | None = None) -> HybridRanker:
    vectors = {name: store.search_vectors for name, store in index.products.items()}
    return HybridRanker(index.keyword, vectors, config)


def search_products(
    indexes: LiveIndexes,
    catalog: CatalogRepository,
    store_id: str,
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    filters: Filters | None = None,
    spelling: bool = True,
) -> SearchResult:
    """Search one store's products; see the module docstring. ``offset`` pages through the results, at most
    :data:`MAX_DEPTH` deep. With ``spelling``, words no product has that are one typo away from words products
    have are searched as those ("waterprof hikng bots" as "waterproof hiking boot"), and the result says so."""
    query = query.strip()
    if not query and not filters:
        raise StorebotError("The search query is empty.", fix="Send q=... with what the shopper typed.")
    if offset < 0 or offset + limit > MAX_DEPTH:
        raise StorebotError(f"Search results go {MAX_DEPTH} deep: offset + limit must be at most {MAX_DEPTH}.",
                            fix="Narrow the query with a filter (price_max, category, size...) instead of paging "
                                "further.")  # fmt: skip
    want = offset + limit + 1  # one more than the page: whether another page follows
    index = indexes.get(store_id)
    if index is None:
        raise IndexNotReady(
            f"Store {store_id!r} has no search index yet.",
            fix=f"Sync a catalog, or run `storebot index --store {store_id}`.",
        )
    parsed = parse_query(query, index.vocabulary)
    wanted = parsed.filters.merge(filters.resolved(index.vocabulary)) if filters else parsed.filters
    if not parsed.search_text:  # only filters, a sort or the way of asking: nothing to rank by meaning
        hits, relaxed, used = _browse(wanted, catalog, index, want, parsed.sort)
        return _page(SearchResult(query, parsed, hits, used, relaxed, index.version), offset, limit)
    text = parsed.search_text
    unmatched = unknown_words(index.keyword, text, ignore=QUERY_STOP_WORDS)
    fixes = typo_fixes(index.keyword, unmatched, QUERY_STOP_WORDS) if spelling else {}
    if fixes:  # every unknown word is a typo (not another language): search the catalog's words instead
        corrected_query = corrected(query, fixes)
        retried = search_products(indexes, catalog, store_id, corrected_query, limit=limit, offset=offset,
                                  filters=filters, spelling=False)  # fmt: skip
        retried.query, retried.corrected_query, retried.corrections = query, corrected_query, fixes
        return retried
    ranker = ranker_for(index)
    vector = index.embedder.encode_query(text)
    ranked = ranker.rank(text, vector, k=max(CANDIDATES, want))
    floor = ranked[0].score * RELEVANCE_FLOOR if ranked else 0.0
    ranked = [h for h in ranked if h.score >= floor]
    hits, relaxed, used = _filtered(ranked, wanted, catalog, want, ranker, text, vector, index)
    hits = _in_shopping_order(_sorted(hits, parsed.sort) if parsed.sort else hits, text, sorted_by=parsed.sort)
    result = _page(SearchResult(query, parsed, hits, used, relaxed, index.version), offset, limit)
    result.unmatched = unmatched
    terms = _terms(text)
    for hit in result.hits:
        hit.highlights = highlights(hit.product, terms)
    return result


def close_matches(result: SearchResult, ratio: float = CLOSE_TO_BEST) -> list[SearchHit]:
    """The hits a shopper would call matches, for the few cards of a chat answer: without those contradicting a
    yes/no feature the search names, and, unless the shopper asked for an order ("cheapest"), without those
    scoring under ``ratio`` of the best. A page of search results keeps them all, ranked; a card is a claim.

    "Softshell jackets" thus shows the two softshells, not a rain jacket after them; when no hit is clearly
    ahead, all of them stay.
    """
    text, hits = result.parsed.search_text, result.hits
    if not hits or not text:
        return hits
    hits = [h for h in hits if not contradicts(h.product, text)] or hits
    if result.parsed.sort:
        return hits
    # The best that can be bought sets the bar: a sold-out perfect match must not push out an in-stock good one.
    best = max((h.score for h in hits if buyable(h.product, h.variant)), default=max(h.score for h in hits))
    return [h for h in hits if h.score >= best * ratio]


def _page(result: SearchResult, offset: int, limit: int) -> SearchResult:
    """``result`` cut to one page, saying where the next one starts."""
    more = len(result.hits) > offset + limit
    result.hits, result.offset = result.hits[offset : offset + limit], offset
    result.next_offset = offset + limit if more and offset + limit < MAX_DEPTH else None
    return result


def _filtered(
    ranked: list[Any], wanted: Filters, catalog: CatalogRepository, limit: int,
    ranker: HybridRanker, text: str, vector: Any, index: StoreIndex,
) -> tuple[list[SearchHit], list[str], Filters]:  # fmt: skip
    products = {p.id: p for p in catalog.get_products([h.id for h in ranked])}
    if not wanted:
        return (
            [SearchHit(products[h.id], h.score, signals=h.signals) for h in ranked[:limit] if h.id in products],
            [],
            wanted,
        )
    attempts = [(wanted, "")] + list(relax(wanted))
    notes: list[str] = []
    for attempt, note in attempts:
        if note:
            notes.append(note)
        hits = _match(ranked, products, attempt)
        if len(hits) < limit:
            # The ranked candidates ran short: filter the whole catalog and rank only what passes.
            passing = _passing_ids(attempt, catalog, index)
            if passing:
                # Rank the passing products together with the best unfiltered ones, so that scores keep the
                # unfiltered scale (fusion normalises per query) and the relevance floor still means something.
                anchors = {h.id for h in ranked[:limit]}
                allowed = anchors | passing
                reranked = ranker.rank(text, vector, k=limit + len(anchors), allowed=allowed.__contains__)
                top = reranked[0].score if reranked else 0.0
                kept = [h for h in reranked if h.id in passing and h.score >= top * RELEVANCE_FLOOR]
                hits = _fresh(kept, catalog, attempt)
        if hits:
            return hits, notes, attempt
    return [], notes, wanted


def _in_shopping_order(hits: list[SearchHit], text: str, sorted_by: str | None = None) -> list[SearchHit]:
    """``hits`` in the order a shopper wants them: those that can be bought now (in stock in the matched variant,
    or on preorder or backorder) first, sold-out ones after them, and last those whose yes/no features contradict
    the search ("insulated: no" for "insulated bottles"). Sorted by price or rating, relevance no longer orders
    them, so those that state the feature asked for ("waterproof: yes") also come before those that do not say.
    Within each group the ranked (or sorted) order stands."""

    def key(hit: SearchHit) -> tuple[bool, bool, bool]:
        stated = affirms(hit.product, text) if sorted_by else True
        return contradicts(hit.product, text), not stated, not buyable(hit.product, hit.variant)

    return sorted(hits, key=key)


def _filters_key(filters: Filters) -> str:
    """``filters`` as a stable string, for remembering what was worked out from them."""
    return json.dumps(filters.to_dict(), sort_keys=True)


def _passing_ids(filters: Filters, catalog: CatalogRepository, index: StoreIndex) -> frozenset[str]:
    """The ids of the snapshot's products passing ``filters``, worked out once per index version and filter set."""
    key = ("passing", _filters_key(filters))
    snapshot = index.catalog_snapshot(catalog)
    return index.derived(key, lambda: frozenset(p.id for p in snapshot if filters.match(p) is not None))


def _browse(wanted: Filters, catalog: CatalogRepository, index: StoreIndex, limit: int,
            sort: str | None) -> tuple[list[SearchHit], list[str], Filters]:  # fmt: skip
    """Every product passing ``wanted`` (relaxed like a search when none does), in the browse order.

    The index's catalog snapshot finds the candidates; the ones shown are read again from the catalog (current
    price, stock and ratings) and checked again.
    """
    notes: list[str] = []
    for attempt, note in [(wanted, ""), *relax(wanted)]:
        if note:
            notes.append(note)
        key = ("browse", _filters_key(attempt), sort)
        ordered = index.derived(key, lambda: _browse_order(attempt, catalog, index, sort))  # noqa: B023
        if not ordered:
            continue
        fresh = [m for p in catalog.get_products(ordered[: limit * 2]) if (m := attempt.match(p)) is not None]
        hits = [_hit(1.0 / (1 + rank), {}, m) for rank, m in enumerate(fresh[:limit])]
        if hits:
            return hits, notes, attempt
    return [], notes, wanted


def _browse_order(filters: Filters, catalog: CatalogRepository, index: StoreIndex, sort: str | None) -> list[str]:
    """The ids of every product in the snapshot passing ``filters``, in the browse order."""
    passing = [m for p in index.catalog_snapshot(catalog) if (m := filters.match(p)) is not None]
    if sort in ("price_asc", "price_desc"):
        ordered = [h.product.id for h in _sorted([_hit(0.0, {}, m) for m in passing], sort)]
    else:  # by rating; a sale by discount first unless the shopper asked for the best rated
        ratings = catalog.get_ratings([m.product.id for m in passing])
        ordered = [m.product.id for m in sorted(passing, key=_browse_key(filters.on_sale and sort is None, ratings))]
    sold_out = {m.product.id for m in passing if not buyable(m.product, m.variant)}
    return sorted(ordered, key=sold_out.__contains__)[:BROWSE_KEPT]  # what can be bought now first


def _browse_key(by_discount: bool | None, ratings: dict[str, dict[str, float]]) -> Any:
    """Best rated first (then most reviewed, then by title), after the biggest discount when ``by_discount``."""

    def rating(m: FilterMatch) -> tuple[Any, ...]:
        stats = ratings.get(m.product.id, {})
        return (-float(stats.get("avg", 0)), -float(stats.get("count", 0)), m.product.title)

    if by_discount:
        return lambda m: (-round(discount(m.product, m.variant), 2), *rating(m))
    return rating


def _fresh(ranked: list[Any], catalog: CatalogRepository, filters: Filters) -> list[SearchHit]:
    """``ranked`` hits found in the index's snapshot, read again from the catalog (today's price, stock and
    ratings) and checked again."""
    return _match(ranked, {p.id: p for p in catalog.get_products([h.id for h in ranked])}, filters)


def _match(ranked: list[Any], products: dict[str, Product], filters: Filters) -> list[SearchHit]:
    hits = []
    for h in ranked:
        product = products.get(h.id)
        match = filters.match(product) if product is not None else None
        if match is not None:
            hits.append(_hit(h.score, h.signals, match))
    return hits


def _hit(score: float, signals: dict[str, float], match: FilterMatch) -> SearchHit:
    return SearchHit(match.product, score, match.variant, signals, dict(match.matched))


def _sorted(hits: list[SearchHit], sort: str) -> list[SearchHit]:
    if sort == "rating":
        return sorted(hits, key=lambda h: (-(h.product.rating_avg or 0), -h.score))
    missing = Decimal("Infinity")
    if sort == "price_asc":
        return sorted(hits, key=lambda h: (h.price if h.price is not None else missing, -h.score))
    if sort == "price_desc":
        return sorted(hits, key=lambda h: (-(h.price or 0), -h.score))
    return hits


def _terms(text: str) -> list[str]:
    return sorted({t for t in re.findall(r"[\w-]+", text.lower()) if len(t) > 2}, key=len, reverse=True)


def highlights(product: Product, terms: list[str]) -> list[dict[str, Any]]:
    """Where the query's words occur in the title and description, as character offsets.

    Offsets rather than markup, so that a client never has to inject HTML.
    """
    if not terms:
        return []
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")", re.IGNORECASE)
    found = []
    title_matches = [[m.start(), m.end()] for m in pattern.finditer(product.title)]
    if title_matches:
        found.append({"field": "title", "text": product.title, "matches": title_matches})
    first = pattern.search(product.description)
    if first:
        start = max(product.description.rfind(" ", 0, max(first.start() - 40, 0)) + 1, 0)
        snippet = product.description[start : start + SNIPPET_CHARS]
        found.append({"field": "description", "text": snippet,
                      "matches": [[m.start(), m.end()] for m in pattern.finditer(snippet)]})  # fmt: skip
    return found
