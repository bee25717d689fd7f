"""The chat's recommendation intent, answered by the recommender when the shopper means a product in focus.

"What goes with these boots?" asks for complementary products of the boots under discussion; "anything
like this but cheaper?" for similar ones that cost less. A recommendation request about nothing in
particular ("a gift for my dad") keeps the chain's search. Cards still come from the catalog: the
recommender returns ids, the catalog the records.

What the shopper asked for is respected: a category named outside the "goes with ..." phrase filters
the cards ("which **socks** would you pair with these boots?" shows socks; when the recommender knows
too few, a search within that category fills in), and "goes with" never shows the product itself, what
is already in the cart, or (complementary) more of the product's own category. "What else do I need?"
with a cart is about the cart: complements of what is in it, none of its categories again.

Example:
    >>> recommendation_kind("what would go with these boots?"), recommendation_kind("anything like this?")
    ('complementary', 'similar')
    >>> recommendation_kind("a gift for my dad who hikes") is None
    True
    >>> anchor("which socks would you pair with the first boots for winter?")
    'the first boots'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.mentions import find_mentions
from storebot.chat.references import resolve_references
from storebot.chat.session import SessionStore
from storebot.errors import StorebotError
from storebot.insights.events import EventStore
from storebot.insights.recommend import RecommendationCache, Recommender
from storebot.insights.recommend.similar import available, fits
from storebot.retrieval.filters import Filters
from storebot.retrieval.normalize import fold, tokens
from storebot.retrieval.search import search_products

_GOES_WITH = re.compile(
    r"\b(?:go(?:es)?\s+(?:well\s+)?with|go(?:es)?\s+together|pairs?\s+(?:well\s+)?with|match(?:es)?\s+with|"
    r"wear\s+with|accessor(?:y|ies)\s+for|complete\s+the\s+(?:look|kit|outfit)|what\s+else\s+(?:do|should|would|"
    r"will|can)\s+i\s+(?:need|get|buy|bring|pair|add)|(?:get|wear|pair|use|bring)\s+with\s+(?:it|this|these|them|"
    r"those))\b",
    re.IGNORECASE,
)
_LIKE_THIS = re.compile(
    r"\b(?:like\s+(?:this|that|it|these|those|the\s+\w+)|similar|alternatives?|(?:something|anything|one)\s+"
    r"(?:else\s+)?instead|other\s+options?)\b",  # "show me headlamps under $50 instead" is a search
    re.IGNORECASE,
)
_CHEAPER = re.compile(r"\b(?:cheaper|less\s+expensive|lower\s+price|budget|for\s+less)\b", re.IGNORECASE)
# "What else do I need?": a question about the whole kit (the cart), not one product.
_KIT = re.compile(r"\b(?:what\s+else\s+(?:do|should|would|will|can)\s+i\s+(?:need|get|buy|bring|add)|"
                  r"complete\s+the\s+kit|for\s+my\s+(?:trip|kit|cart))\b", re.IGNORECASE)  # fmt: skip
# The words naming what the products should go with: after "go with" / "pair with" / "accessories for", up to
# the end of that noun phrase ("pair with the first boots | for winter").
_ANCHOR = re.compile(r"\b(?:with|accessor(?:y|ies)\s+for)\s+(.+?)(?=\s+(?:for|in|on|under|below|at|to|from|that|"
                     r"which|when|if|so|because|during|while)\b|[?.!,;:]|$)", re.IGNORECASE)  # fmt: skip
# "... with this tent", "... for my boots": a category named this way is what the products go with.
_OWNED = re.compile(r"\b(?:with|for)\s+(?:this|these|that|those|my|our|your|the|a|an)\b(?:\s+[\w'-]+){0,2}\s*$",
                    re.IGNORECASE)  # fmt: skip
_DISTINCTIVE = re.compile(r"\b(?!(?:this|these|that|those|them|the|my|our|your|one|ones|first|second|third|"
                          r"fourth|last|other|new)\b)[a-z0-9]{3,}", re.IGNORECASE)  # fmt: skip
SOURCES = 2  # products in focus whose recommendations are merged ("what goes with these?")
KIT_SOURCES = 3  # cart items whose complements are merged ("what else do I need?")


def recommendation_kind(message: str) -> str | None:
    """``complementary``, ``similar`` or None (a general recommendation: search instead)."""
    if _GOES_WITH.search(message):
        return "complementary"
    if _LIKE_THIS.search(message):
        return "similar"
    return None


def anchor(message: str) -> str:
    """The phrase naming what the products should go with ("the first boots"), or "" when there is none."""
    cue = _GOES_WITH.search(message)
    if cue is None:
        return ""
    joint = max(cue.group().lower().rfind("with"), cue.group().lower().rfind("accessor"))
    found = _ANCHOR.match(message, cue.start() + joint) if joint >= 0 else None
    return found.group(1).strip() if found else ""


def named_categories(message: str, vocabulary: Any) -> list[tuple[str, int, int]]:
    """The store's categories named in ``message``, as (segment, start, end): the longest phrase wins."""
    if vocabulary is None:
        return []
    words = tokens(message)
    longest = max(int(getattr(vocabulary, "max_phrase", 3) or 3), 1)
    found: list[tuple[str, int, int]] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            segments = vocabulary.resolve_categories(" ".join(w for w, _, _ in words[i : i + n]))
            if segments:
                found.extend((segment, words[i][1], words[i + n - 1][2]) for segment in segments)
                i += n
                break
        else:
            i += 1
    return found


@dataclass
class GoesWith:
    """What one "goes with" / "like this" message asks for, read against the store's vocabulary.

    Example:
        >>> GoesWith("complementary", categories=["Socks"], anchor="the first boots").categories
        ['Socks']
    """

    kind: str
    categories: list[str] = field(default_factory=list)  # catalog segments the cards must be in ("Socks")
    anchor: str = ""  # the words naming what they go with ("the first boots")
    kit: bool = False  # "what else do I need?": about the cart

    @classmethod
    def read(cls, message: str, vocabulary: Any) -> GoesWith | None:
        kind = recommendation_kind(message)
        if kind is None:
            return None
        words = anchor(message)
        span = fold(message).find(fold(words)) if words else -1
        inside = (span, span + len(words)) if span >= 0 else (-1, -1)
        wanted = [seg for seg, start, end in named_categories(message, vocabulary)
                  if not (inside[0] <= start and end <= inside[1]) and not _OWNED.search(message[:start])]  # fmt: skip
        return cls(kind, list(dict.fromkeys(wanted)), words, bool(_KIT.search(message)))

    def besides(self, sources: list[Product]) -> GoesWith:
        """Without the sources' own categories: "a trip with this tent" names the tent, it does not ask for tents."""
        if self.kind != "complementary":
            return self
        own = {c.lower() for p in sources for c in p.category[-1:]}
        return GoesWith(self.kind, [c for c in self.categories if c.lower() not in own], self.anchor, self.kit)


def apply_recommendations(turn: Any) -> Any:
    """The chain's hook: a "goes with" / "like this" request about products in focus gets the recommender's cards.

    "What would go with these boots?" may classify as a question about the boots; it is a recommendation.
    Anything else passes through untouched.
    """
    from storebot.chat.intent import IntentResult

    intent = turn.intent.intent if turn.intent is not None else None
    ask = GoesWith.read(turn.request.message, turn.vocabulary)
    if ask is None or intent not in ("recommendation", "product_question", "search"):
        return turn
    sources = _sources(turn, ask)
    ask = ask.besides([turn.known[pid][0] for pid in sources if pid in turn.known])
    products = recommended_products(turn, ask=ask, sources=sources)
    if products:
        turn.products = products
        if intent != "recommendation":
            turn.intent = IntentResult("recommendation", 0.75, f"asks for {ask.kind} products of one in focus")
    elif sources and intent in ("recommendation", "search"):  # the search's cards, minus what cannot "go with"
        rules = _Rules.of(turn, ask, sources)
        turn.products = [(p, v) for p, v in turn.products if rules.allows(p)]
    return turn


def _cart(turn: Any) -> list[str]:
    """The cart's product ids from the page context, loaded into ``turn.known``."""
    raw = turn.request.page_context.get("cart") or []
    ids = [str(i) for i in (raw if isinstance(raw, list) else []) if isinstance(i, (str, int)) and str(i)]
    ids = list(dict.fromkeys(ids))[:50]
    missing = [pid for pid in ids if pid not in turn.known]
    for product in turn.deps.catalog.get_products(missing) if missing else []:
        turn.known.setdefault(product.id, (product, None))
    return [pid for pid in ids if pid in turn.known]


def _anchored(turn: Any, words: str) -> list[str]:
    """The products the anchor phrase names: a reference to shown cards ("the first boots"), else a name."""
    if not words:
        return []
    page = turn.request.page_product_id
    resolution = resolve_references(words, turn.focus, history_focus=turn.history_focus,
                                    page_product_id=page if page in turn.known else None,
                                    vocabulary=turn.vocabulary)  # fmt: skip
    ids = [pid for pid in resolution.product_ids if pid in turn.known]
    if ids and resolution.kind != "none":
        return ids
    named_kinds = {c.lower() for c, _, _ in named_categories(words, turn.vocabulary)}
    if named_kinds:  # "my tent": the tent on the page, in the cart or under discussion
        state = turn.state
        around = [page, *_cart(turn), *(state.subject if state is not None else [])]
        ids = [pid for pid in dict.fromkeys(around) if pid in turn.known
               and named_kinds & {c.lower() for c in turn.known[pid][0].category}]  # fmt: skip
        if ids:
            return ids
    if not _DISTINCTIVE.search(words):  # "these", "the first one": nothing to search by name
        return []
    try:  # "what goes with the Stillwater 2 tent?": a product named, not shown yet
        hits = search_products(turn.deps.indexes, turn.deps.catalog, turn.deps.store.id, words, limit=3).hits
    except StorebotError:
        return []
    named = [hit.product for hit in hits if any(m.kind == "name" for m in find_mentions(words, [hit.product]))]
    for product in named[:1]:
        turn.known.setdefault(product.id, (product, None))
    return [p.id for p in named[:1]]


def _sources(turn: Any, ask: GoesWith) -> list[str]:
    """The products the shopper means: the cart for "what else do I need?", else the ones named or pointed at,
    else under discussion, else the page's, else the cart's, else the first shown."""
    known, state = turn.known, turn.state
    cart = _cart(turn)
    if ask.kit and cart:
        return cart[:KIT_SOURCES]
    candidates = [
        _anchored(turn, ask.anchor),
        list(turn.resolution.product_ids),
        list(state.subject) if state is not None else [],
        [turn.request.page_product_id] if turn.request.page_product_id else [],
        cart,
        [item.product_id for item in turn.focus[:1]],
    ]
    for group in candidates:
        found = [pid for pid in group if pid in known]
        if found:
            return found[:SOURCES]
    return []


def _leaf(product: Product) -> str:
    return product.category[-1].lower() if product.category else ""


@dataclass
class _Rules:
    """Which products may answer one request: not a source, not in the cart, the asked-for category, and for
    "goes with" not a source's (or, unasked, the cart's) own category."""

    excluded_ids: set[str]
    excluded_leaves: set[str]
    wanted: set[str]
    audience: list[Product]

    @classmethod
    def of(cls, turn: Any, ask: GoesWith, sources: list[str]) -> _Rules:
        cart = _cart(turn)
        products = [turn.known[pid][0] for pid in dict.fromkeys([*sources, *cart]) if pid in turn.known]
        leaves: set[str] = set()
        if ask.kind == "complementary":
            own = [p for p in products if p.id in sources or not ask.categories]
            leaves = {_leaf(p) for p in own if _leaf(p)}
        wanted = {c.lower() for c in ask.categories}
        return cls({*sources, *cart}, leaves - wanted, wanted,
                   [turn.known[pid][0] for pid in sources if pid in turn.known])  # fmt: skip

    def in_category(self, product: Product) -> bool:
        return not self.wanted or bool(self.wanted & {c.lower() for c in product.category})

    def allows(self, product: Product) -> bool:
        return (product.id not in self.excluded_ids and _leaf(product) not in self.excluded_leaves
                and self.in_category(product))  # fmt: skip

    def suits(self, product: Product) -> bool:
        """Same audience as a source: men's boots do not come with women's socks."""
        return not self.audience or any(fits(source, product) for source in self.audience)


def recommender_for(turn: Any) -> Recommender:
    catalog = turn.deps.catalog
    client, keys = catalog.redis, catalog.keys
    return Recommender(catalog, lambda: turn.index, EventStore(client, keys, catalog), SessionStore(client, keys),
                       RecommendationCache(client, keys), getattr(turn.deps, "recommendations", None))  # fmt: skip


def recommended_products(
    turn: Any, limit: int = 4, *, ask: GoesWith | None = None, sources: list[str] | None = None
) -> list[tuple[Product, Variant | None]]:
    """Cards for a "goes with" / "like this" request about products in focus; empty when it is not one."""
    ask = ask or GoesWith.read(turn.request.message, turn.vocabulary)
    if ask is None:
        return []
    if sources is None:
        sources = _sources(turn, ask)
        ask = ask.besides([turn.known[pid][0] for pid in sources if pid in turn.known])
    if not sources:
        return []
    rules = _Rules.of(turn, ask, sources)
    recommender = recommender_for(turn)
    cheaper = ask.kind == "similar" and bool(_CHEAPER.search(turn.request.message))
    depth = limit * 3
    columns = []
    for pid in sources:
        rec = recommender.product(ask.kind, pid, depth)
        products = [product for product, _pick in recommender.products_of(rec, depth)]
        if cheaper:
            price = turn.known[pid][0].effective_price
            products = [p for p in products if price is not None and p.effective_price is not None
                        and p.effective_price < price]  # fmt: skip
        columns.append([p for p in products if rules.allows(p)])
    merged: list[Product] = []
    seen = set(sources)
    for row in range(depth):  # interleave the sources' lists: the best of each first
        for column in columns:
            if row < len(column) and column[row].id not in seen:
                seen.add(column[row].id)
                merged.append(column[row])
    if ask.kind == "complementary" and not ask.categories:
        merged = _one_of_each_first(merged)
    chosen: list[tuple[Product, Variant | None]] = [(p, None) for p in merged[:limit]]
    seen = set(sources) | {p.id for p, _ in chosen}
    if ask.categories and len(chosen) < limit:
        for product, variant in _category_search(turn, ask, rules, limit * 2):
            if product.id not in seen and len(chosen) < limit:
                seen.add(product.id)
                chosen.append((product, variant))
    return chosen


def _one_of_each_first(products: list[Product]) -> list[Product]:
    """A pad, a pack and a jacket before a second pad: "what goes with it" shows the kit, not one shelf."""
    firsts: dict[str, Product] = {}
    for product in products:
        firsts.setdefault(_leaf(product), product)
    leading = list(firsts.values())
    return leading + [p for p in products if p not in leading]


def _category_search(turn: Any, ask: GoesWith, rules: _Rules, limit: int) -> list[tuple[Product, Variant | None]]:
    """The asked-for categories searched with the message's own words ("socks ... for winter"), in stock first."""
    text = turn.request.message
    cue = _GOES_WITH.search(text)
    if cue is not None:  # "pair with the first boots" -> "the first boots": socks made for boots rank first
        end = cue.end() + (text[cue.end() :].find(ask.anchor) + len(ask.anchor) if ask.anchor else 0)
        own = ask.anchor if named_categories(ask.anchor, turn.vocabulary) else ""
        own = own or " ".join(dict.fromkeys(_leaf(p) for p in rules.audience if _leaf(p)))  # "go with these"
        text = f"{text[: cue.start()]} {own} {text[end:]}"
    found: list[tuple[Product, Variant | None]] = []
    for category in ask.categories:
        query = text if re.search(r"[a-z]{3}", text, re.IGNORECASE) else category
        try:
            hits = search_products(turn.deps.indexes, turn.deps.catalog, turn.deps.store.id, query, limit=limit,
                                   filters=Filters(categories=[category])).hits  # fmt: skip
        except StorebotError:
            continue
        found += [(h.product, h.variant) for h in hits if rules.allows(h.product) and rules.suits(h.product)]
    return sorted(found, key=lambda pair: not available(pair[0]))
