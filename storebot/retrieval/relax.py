"""Loosen filters one step at a time when a search finds nothing.

The search service tries the shopper's filters, then each set that
:func:`relax` yields, and stops at the first that matches something; it
tells the shopper what gave way ("relaxed: size (M)"). The steps are
cumulative and always run in :data:`RELAXATION_ORDER`, which puts first
what costs a shopper least to give up:

1. ``in_stock`` - an item that is right in every way but out of stock today
   is the closest answer; it can be back-ordered or watched.
2. ``on_sale`` - a discount is a wish about the price, not about the item:
   the right item at its regular price still answers the question, and the
   note tells the shopper that none of it is on sale. It goes before the
   budget is stretched, so "sale tents under $300" shows tents under $300
   at full price rather than discounted ones over budget.
3. ``price_widen`` - a budget stretched by 20% ($180 for "under $150") keeps
   every other wish intact; most budgets bend that far.
4. ``attributes`` - material, width, capacity: fine-grained preferences.
5. ``color`` - taste, not need; and the colour words stay in the search text,
   so ranking still puts blue first once the filter is gone.
6. ``brand`` - loyalty, but substitutable, and also kept in the search text.
7. ``gender`` - a cut preference; many shoppers buy across it, and the word
   stays in the search text too.
8. ``price`` - the budget as a whole. Dropped before size because an item
   over budget is still a choice the shopper can make, while one that does
   not fit is no use at any price; and since the steps accumulate, a budget
   nobody meets (a common dead end) must not cost the shopper their size.
9. ``size`` - fit is a need. When it goes, the note says their size is the
   problem, which is itself the answer ("no M in stock").
10. ``category`` - last: it is *what* they asked for. Results outside it
    answer a different question.

Example:
    >>> from storebot.retrieval.filters import Filters
    >>> steps = relax(Filters(sizes=["M"], colors=["Moss"], in_stock=True, on_sale=True))
    >>> [note for _, note in steps]
    ['in stock', 'on sale', 'colour (Moss)', 'size (M)']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal

from storebot.retrieval.filters import Filters, price_phrase

#: The order in which :func:`relax` gives constraints up; see the module docstring for why.
RELAXATION_ORDER: tuple[str, ...] = (
    "in_stock", "on_sale", "price_widen", "attributes", "color", "brand", "gender", "price", "size", "category",
)  # fmt: skip
#: How far ``price_widen`` stretches each bound (a fraction of it).
PRICE_STRETCH = Decimal("0.20")
_CENT = Decimal("0.01")
_SHOWN = 3  # values listed in a note before "+N more"

Step = Callable[[Filters, Filters], "tuple[Filters, str] | None"]


def relax(filters: Filters) -> Iterator[tuple[Filters, str]]:
    """Yield ever looser copies of ``filters`` with a note on what each step gave up.

    Steps that do not apply (no size was asked for) are skipped, so every
    yielded set differs from the one before. ``filters`` itself is not yielded
    and is not modified.
    """
    current = filters
    for name in RELAXATION_ORDER:
        step = _STEPS[name](current, filters)
        if step is not None:
            current, note = step
            yield current, note


def _in_stock(current: Filters, original: Filters) -> tuple[Filters, str] | None:
    return (replace(current, in_stock=None), "in stock") if current.in_stock else None


def _on_sale(current: Filters, original: Filters) -> tuple[Filters, str] | None:
    return (replace(current, on_sale=None), "on sale") if current.on_sale else None


def _price_widen(current: Filters, original: Filters) -> tuple[Filters, str] | None:
    if current.price_min is None and current.price_max is None:
        return None
    low = None if current.price_min is None else (current.price_min * (1 - PRICE_STRETCH)).quantize(_CENT)
    high = None if current.price_max is None else (current.price_max * (1 + PRICE_STRETCH)).quantize(_CENT)
    widened = replace(current, price_min=low, price_max=high)
    return widened, f"price widened by {PRICE_STRETCH * 100:.0f}% (now {price_phrase(low, high, current.currency)})"


def _attributes(current: Filters, original: Filters) -> tuple[Filters, str] | None:
    asked = {name: values for name, values in current.attributes.items() if values}
    if not asked:
        return None
    note = ", ".join(f"{name.replace('_', ' ')} ({_listed(values)})" for name, values in asked.items())
    return replace(current, attributes={}), note


def _dropping(field_name: str, label: str) -> Step:
    def step(current: Filters, original: Filters) -> tuple[Filters, str] | None:
        values = getattr(current, field_name)
        return (replace(current, **{field_name: []}), f"{label} ({_listed(values)})") if values else None

    return step


def _price(current: Filters, original: Filters) -> tuple[Filters, str] | None:
    if current.price_min is None and current.price_max is None:
        return None
    # The note quotes the shopper's own budget, not the widened one.
    asked = price_phrase(original.price_min, original.price_max, original.currency)
    return replace(current, price_min=None, price_max=None, currency=None), f"price ({asked})"


def _listed(values: list[str]) -> str:
    shown = ", ".join(values[:_SHOWN])
    return shown if len(values) <= _SHOWN else f"{shown}, +{len(values) - _SHOWN} more"


_STEPS: dict[str, Step] = {
    "in_stock": _in_stock,
    "on_sale": _on_sale,
    "price_widen": _price_widen,
    "attributes": _attributes,
    "color": _dropping("colors", "colour"),
    "brand": _dropping("brands", "brand"),
    "gender": _dropping("gender", "gender"),
    "price": _price,
    "size": _dropping("sizes", "size"),
    "category": _dropping("categories", "category"),
}
