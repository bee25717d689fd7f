"""The chat's recommendation intent, answered by the recommender when the shopper means a product in focus.

"What goes with these boots?" asks for complementary products of the boots under discussion; "anything
like this but cheaper?" for similar ones that cost less. A recommendation request about nothing in
particular ("a gift for my dad") keeps the chain's search. Cards still come from the catalog: the
recommender returns ids, the catalog the records.

Example:
    >>> recommendation_kind("what would go with these boots?"), recommendation_kind("anything like this?")
    ('complementary', 'similar')
    >>> recommendation_kind("a gift for my dad who hikes") is None
    True
"""

from __future__ import annotations

import re
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.session import SessionStore
from storebot.insights.events import EventStore
from storebot.insights.recommend import RecommendationCache, Recommender

_GOES_WITH = re.compile(
    r"\b(?:go(?:es)?\s+(?:well\s+)?with|go(?:es)?\s+together|pairs?\s+(?:well\s+)?with|match(?:es)?\s+with|"
    r"wear\s+with|accessor(?:y|ies)\s+for|complete\s+the\s+(?:look|kit|outfit)|what\s+else\s+(?:do|should|would|"
    r"will|can)\s+i\s+(?:need|get|buy|bring|pair|add)|(?:get|wear|pair|use|bring)\s+with\s+(?:it|this|these|them|"
    r"those))\b",
    re.IGNORECASE,
)
_LIKE_THIS = re.compile(
    r"\b(?:like\s+(?:this|that|it|these|those|the\s+\w+)|similar|alternatives?|instead|other\s+options?)\b",
    re.IGNORECASE,
)
_CHEAPER = re.compile(r"\b(?:cheaper|less\s+expensive|lower\s+price|budget|for\s+less)\b", re.IGNORECASE)
SOURCES = 2  # products in focus whose recommendations are merged ("what goes with these?")


def recommendation_kind(message: str) -> str | None:
    """``complementary``, ``similar`` or None (a general recommendation: search instead)."""
    if _GOES_WITH.search(message):
        return "complementary"
    if _LIKE_THIS.search(message):
        return "similar"
    return None


def apply_recommendations(turn: Any) -> Any:
    """The chain's hook: a "goes with" / "like this" request about products in focus gets the recommender's cards.

    "What would go with these boots?" may classify as a question about the boots; it is a recommendation.
    Anything else passes through untouched.
    """
    from storebot.chat.intent import IntentResult

    intent = turn.intent.intent if turn.intent is not None else None
    kind = recommendation_kind(turn.request.message)
    if kind is None or intent not in ("recommendation", "product_question", "search"):
        return turn
    products = recommended_products(turn)
    if products:
        turn.products = products
        if intent != "recommendation":
            turn.intent = IntentResult("recommendation", 0.75, f"asks for {kind} products of one in focus")
    return turn


def _sources(turn: Any) -> list[str]:
    """The products the shopper means: named or pointed at, else under discussion, else the page's, else shown."""
    known = turn.known
    state = turn.state
    candidates = [
        list(turn.resolution.product_ids),
        list(state.subject) if state is not None else [],
        [turn.request.page_product_id] if turn.request.page_product_id else [],
        [item.product_id for item in turn.focus[:1]],
    ]
    for group in candidates:
        found = [pid for pid in group if pid in known]
        if found:
            return found[:SOURCES]
    return []


def recommender_for(turn: Any) -> Recommender:
    catalog = turn.deps.catalog
    client, keys = catalog.redis, catalog.keys
    return Recommender(catalog, lambda: turn.index, EventStore(client, keys, catalog), SessionStore(client, keys),
                       RecommendationCache(client, keys))  # fmt: skip


def recommended_products(turn: Any, limit: int = 4) -> list[tuple[Product, Variant | None]]:
    """Cards for a "goes with" / "like this" request about products in focus; empty when it is not one."""
    kind = recommendation_kind(turn.request.message)
    sources = _sources(turn) if kind else []
    if not kind or not sources:
        return []
    recommender = recommender_for(turn)
    cheaper = kind == "similar" and bool(_CHEAPER.search(turn.request.message))
    columns = []
    for pid in sources:
        rec = recommender.product(kind, pid, limit * 3)
        products = [product for product, _pick in recommender.products_of(rec, limit * 3)]
        if cheaper:
            price = turn.known[pid][0].effective_price
            products = [p for p in products if price is not None and p.effective_price is not None
                        and p.effective_price < price]  # fmt: skip
        columns.append(products)
    chosen: list[tuple[Product, Variant | None]] = []
    seen = set(sources)
    for row in range(limit * 3):  # interleave the sources' lists: the best of each first
        for column in columns:
            if row < len(column) and column[row].id not in seen and len(chosen) < limit:
                seen.add(column[row].id)
                chosen.append((column[row], None))
    return chosen
