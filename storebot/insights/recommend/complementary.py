"""Complementary products ("goes with"): from shoppers' baskets first, the catalog's own structure before that.

**Events.** Every session and order is a basket of products. Two products that share baskets go together;
the score is the co-occurrence count normalised by both products' popularity (``c / sqrt(n_a * n_b)``),
shrunk by ``c / (c + 1)`` (one shared basket is weak evidence) and by ``1 - n_b / (N + 5)`` (the share of
all ``N`` baskets holding the candidate), so a bestseller that is in every basket does not go with everything.
Same-category pairs are left out: shoppers compare jackets with jackets, but a jacket does not "go with"
another jacket.

**Cold start.** Before events exist, category pairs are learned from the catalog: two categories go
together when their products share distinctive tags (``hiking``, ``winter``, ``merino``; tags found in
every category, like ``sale``, weigh nothing). A merchant's ``RECS_COMPLEMENTARY_MAP`` names pairs outright
and comes before the learned ones. Events win once a product has any.

Example:
    >>> finder = ComplementaryFinder(products, baskets=[["1090", "1081"], ["1090", "1081", "1001"]])  # doctest: +SKIP
    >>> finder.complementary("1090").source, finder.complementary("1090").ids[0]                     # doctest: +SKIP
    ('events', '1081')
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from storebot.catalog.models import Product
from storebot.insights.recommend.cache import Pick, Recommendation
from storebot.insights.recommend.similar import AUDIENCES, audience, available, family

BASKET_LIMIT = 50  # products per basket counted (pairs grow as its square)
PRIOR_BASKETS = 5  # pseudo-baskets, so that with a handful of baskets no product counts as "in every one"
TOP_CATEGORIES = 3
CANDIDATES_PER_CATEGORY = 60  # best-rated eligible products of a category ranked by shared tags


def parse_map(spec: str) -> dict[str, list[str]]:
    """``"Hiking Boots=Socks|Gaiters; Tents=Sleeping Pads"`` -> ``{"hiking boots": ["socks", "gaiters"], ...}``."""
    pairs: dict[str, list[str]] = {}
    for entry in spec.split(";"):
        if "=" not in entry:
            continue
        left, right = entry.split("=", 1)
        targets = [t.strip().lower() for t in right.split("|") if t.strip()]
        if left.strip() and targets:
            pairs.setdefault(left.strip().lower(), []).extend(targets)
    return pairs


def leaf(product: Product) -> str:
    return product.category[-1].lower() if product.category else ""


class CategoryAffinity:
    """Which categories go together, learned from the tags their products share (or given by a map)."""

    def __init__(self, products: Iterable[Product], mapping: Mapping[str, list[str]] | None = None) -> None:
        members: dict[str, list[Product]] = defaultdict(list)
        for product in products:
            if leaf(product):
                members[leaf(product)].append(product)
        self.members = dict(members)
        self.mapping = {k: v for k, v in (mapping or {}).items()}
        profile: dict[str, Counter[str]] = {}
        for cat, items in members.items():
            counts = Counter(t.lower() for p in items for t in set(p.tags))
            profile[cat] = Counter({t: n / len(items) for t, n in counts.items() if t not in AUDIENCES})
        spread = Counter(t for prof in profile.values() for t in prof)
        n = max(len(profile), 1)
        idf = {t: math.log(n / c) for t, c in spread.items()}
        self.learned: dict[str, list[tuple[str, float]]] = {}
        for a, pa in profile.items():
            scores = []
            for b, pb in profile.items():
                if a == b or _related(a, b, members):
                    continue
                score = sum(min(pa[t], pb[t]) * idf[t] for t in pa.keys() & pb.keys())
                if score > 0:
                    scores.append((b, score))
            self.learned[a] = sorted(scores, key=lambda s: -s[1])[:TOP_CATEGORIES]

    def for_product(self, product: Product) -> tuple[list[tuple[str, float]], str]:
        """The categories that go with ``product`` and the source: ``map`` or ``catalog``."""
        for segment in reversed([c.lower() for c in product.category]):
            targets = self.mapping.get(segment)
            if targets:
                known = [t for t in targets if t in self.members]
                if known:
                    return [(t, 1.0 / (1 + i)) for i, t in enumerate(known)], "map"
        return self.learned.get(leaf(product), []), "catalog"


def _related(a: str, b: str, members: Mapping[str, list[Product]]) -> bool:
    """Whether two leaf categories sit under the same parent (rain and insulated jackets): substitutes."""
    pa = {tuple(p.category[:-1]) for p in members[a]}
    pb = {tuple(p.category[:-1]) for p in members[b]}
    deep = {path for path in pa & pb if len(path) >= 2}
    return bool(deep)


class ComplementaryFinder:
    """ "Goes with" recommendations for every product of a store.

    Args:
        products: the store's products by id.
        baskets: product ids per session or order (from :meth:`EventStore.baskets`).
        mapping: the parsed ``RECS_COMPLEMENTARY_MAP``.

    Example:
        >>> ComplementaryFinder(products, baskets=[["1090", "1081"]]).complementary("1090").ids   # doctest: +SKIP
        ['1081', ...]
    """

    def __init__(
        self,
        products: Mapping[str, Product],
        baskets: Iterable[list[str]] = (),
        mapping: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.products = products
        self.affinity = CategoryAffinity(products.values(), mapping)
        self.seen: Counter[str] = Counter()
        self.baskets = 0
        self.pairs: dict[str, Counter[str]] = defaultdict(Counter)
        for basket in baskets:
            items = [pid for pid in dict.fromkeys(basket) if pid in products][:BASKET_LIMIT]
            self.seen.update(items)
            self.baskets += 1
            for i, a in enumerate(items):
                for b in items[i + 1 :]:
                    self.pairs[a][b] += 1
                    self.pairs[b][a] += 1
        self._ranked: dict[str, list[Product]] = {}
        self._trait_cache: dict[str, tuple[str, str, str, frozenset[str]]] = {}

    def complementary(self, product_id: str, limit: int = 12) -> Recommendation:
        source = self.products.get(product_id)
        if source is None:
            return Recommendation([], "none", note="no such product")
        picks = self._from_events(source, limit)
        taken = {p.id for p in picks}
        fallback, fallback_source = self._from_catalog(source, limit, taken)
        if picks:
            return Recommendation((picks + fallback)[:limit], "events")
        if fallback:
            return Recommendation(fallback, fallback_source)
        return Recommendation([], "none", note="no events yet and no related categories in the catalog")

    def _traits(self, product: Product) -> tuple[str, str, str, frozenset[str]]:
        """(family, leaf, audience, lower-cased tags), computed once per product: this runs per candidate."""
        traits = self._trait_cache.get(product.id)
        if traits is None:
            tags = frozenset(t.lower() for t in product.tags)
            traits = self._trait_cache[product.id] = (family(product), leaf(product), audience(product), tags)
        return traits

    def _eligible(self, source: Product, candidate: Product) -> bool:
        """Same rules as :func:`fits`, on cached traits: another category, another family, same audience."""
        if candidate.id == source.id or not available(candidate):
            return False
        own, theirs = self._traits(source), self._traits(candidate)
        if own[0] == theirs[0] or own[1] == theirs[1]:
            return False
        return not own[2] or not theirs[2] or own[2] == theirs[2]

    def _from_events(self, source: Product, limit: int) -> list[Pick]:
        counts = self.pairs.get(source.id)
        if not counts:
            return []
        n_a = self.seen[source.id]
        scored = []
        for pid, c in counts.items():
            candidate = self.products[pid]
            if self._eligible(source, candidate):
                n_b = self.seen[pid]
                score = c / math.sqrt(n_a * n_b) * (c / (c + 1)) * (1 - n_b / (self.baskets + PRIOR_BASKETS))
                scored.append((score, pid, c))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [Pick(pid, score, f"shoppers chose it with the {source.title} ({c} baskets)")
                for score, pid, c in scored[:limit]]  # fmt: skip

    def _from_catalog(self, source: Product, limit: int, taken: set[str]) -> tuple[list[Pick], str]:
        categories, origin = self.affinity.for_product(source)
        if not categories:
            return [], origin
        top = max(score for _, score in categories)
        tags = self._traits(source)[3]
        columns = []
        for category, score in categories:
            ranked = []
            for p in self._ranked_members(category):  # the best-rated first; enough of them to rank by tags
                if p.id not in taken and self._eligible(source, p):
                    ranked.append(p)
                    if len(ranked) >= CANDIDATES_PER_CATEGORY:
                        break
            column = []
            for p in ranked:
                overlap = len(tags & self._traits(p)[3]) / max(len(tags), 1)
                column.append((score / top * (0.6 + 0.4 * overlap), p))
            column.sort(key=lambda s: -s[0])
            columns.append(column)
        picks: list[Pick] = []
        why = "often paired" if origin == "map" else "pairs well"
        for row in range(limit):  # interleave: the best of each category before seconds
            for column in columns:
                if row < len(column) and len(picks) < limit:
                    score, p = column[row]
                    picks.append(Pick(p.id, score, f"{why} with {leaf(source)}: {leaf(p)}"))
        return picks, origin

    def _ranked_members(self, category: str) -> list[Product]:
        if category not in self._ranked:
            members = self.affinity.members.get(category, [])
            self._ranked[category] = sorted(members, key=lambda p: (-(p.rating_avg or 0) * p.rating_count, p.id))
        return self._ranked[category]
