"""Winner questions in a chat turn: "which one is the warmest?" about the cards shown, or on a page with none.

The ranking itself is :mod:`storebot.chat.superlatives`; here a turn decides what it ranks: the products the message
names, else the cards on screen, else (on a product page with no list) the best matches in the page's category.

Example:
    >>> rank_shown(turn, "comparison")  # doctest: +SKIP
    True
    >>> turn.ranked_answer  # doctest: +SKIP
    'The Glacier 0 Down Sleeping Bag is the warmest of these: comfort temperature -12 °C / 10 °F (...).'
"""

from __future__ import annotations

from typing import Any

from storebot.chat.intent import IntentResult
from storebot.chat.superlatives import ABOUT_SHOWN, ABOUT_VARIANTS, WINNER_QUESTION, asked_measure, rank_by_superlative


def winner_without_a_list(turn: Any) -> bool:
    """A winner question ("which one is the lightest?") with fewer than two products shown, on a product's page."""
    message = turn.request.message
    shown = [f for f in turn.focus if f.product_id in turn.known]
    return (len(shown) < 2 and bool(page_category(turn)) and asked_measure(message) is not None
            and WINNER_QUESTION.search(message) is not None and not ABOUT_VARIANTS.search(message)
            and len(turn.resolution.product_ids) < 2)  # fmt: skip


def page_category(turn: Any) -> str:
    """The leaf category of the page's product ("Tents"), or ""."""
    page = turn.known.get(turn.request.page_product_id or "")
    return page[0].category[-1] if page and page[0].category else ""


def rank_shown(turn: Any, intent: str) -> bool:
    """Answer a superlative about the products on screen from their records; whether it did. Products the message
    names ("which is lighter, the Stillwater 2 or the Trailhead 2?") are ranked among themselves, in the order named."""
    named = [turn.known[pid] for pid in turn.resolution.product_ids if pid in turn.known]
    if len(named) == 1 and turn.resolution.kind in ("name", "attribute", "page"):
        return False  # "is the Moss one lighter?": one product, named; a question about it
    shown = named if len(named) >= 2 else [turn.known[f.product_id] for f in turn.focus if f.product_id in turn.known]
    message = turn.request.message
    about_shown = intent in ("comparison", "product_question") or ABOUT_SHOWN.search(message)
    ranked = rank_by_superlative(message, shown) if about_shown and WINNER_QUESTION.search(message) else None
    if ranked is None:
        return False
    turn.ranked_answer, turn.products = ranked.text, (named if len(named) >= 2 else ranked.products)
    turn.intent = IntentResult("comparison", 0.8, "a superlative about the products shown")
    return True
