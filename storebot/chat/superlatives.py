""" "Which one is the warmest?": the products on screen ranked by the figure that decides it, and a winner named.

A superlative about the products just shown (warmest, lightest, brightest, most waterproof, best rated, cheapest)
is answered from their records: the figure each has for it, compared in one unit, the best named first. Products
without the figure are left out of the ranking and said to be; no figure at all means no answer here (the usual
comparison answers instead).

Example:
    >>> from decimal import Decimal
    >>> from storebot.catalog.models import Product
    >>> bags = [Product(id="a", title="Campfire 40", attributes={"temperature_comfort": "10 °C / 50 °F"}),
    ...         Product(id="b", title="Glacier 0", attributes={"temperature_comfort": "-12 °C / 10 °F"})]
    >>> ranked = rank_by_superlative("which one is the warmest?", [(p, None) for p in bags])
    >>> ranked.text
    'The Glacier 0 is the warmer of the two: comfort temperature -12 °C / 10 °F (the Campfire 40: 10 °C / 50 °F).'
    >>> [p.id for p, _ in ranked.products]
    ['b', 'a']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from storebot.catalog.models import Product, Variant
from storebot.chat.amounts import find_quantities
from storebot.chat.cards import price_label

Item = tuple[Product, Variant | None]


@dataclass(frozen=True)
class Measure:
    """One superlative: the words that ask for it, where its figure is, and which end is best."""

    words: str  # a regex alternation
    name: str  # "warmest"
    comparative: str  # "warmer": said of two products
    keys: tuple[str, ...] = ()  # attributes holding the figure, most specific first
    dimension: str = ""  # the amounts dimension the figure is read in
    lowest_wins: bool = False
    figure: Callable[[Product, Variant | None], tuple[float, str] | None] | None = None  # when not an attribute


RATING_PRIOR = (3.5, 3)  # as if every product also had 3 reviews of 3.5★: one 5★ review does not beat 4.8★ from 21


def _rating(product: Product, _variant: Variant | None) -> tuple[float, str] | None:
    count, average = product.rating_count, product.rating_avg
    if not count or average is None:
        return None
    prior, weight = RATING_PRIOR
    reviews = "1 review" if count == 1 else f"{count} reviews"
    return (float(average) * count + prior * weight) / (count + weight), f"{average:.1f}★ from {reviews}"


def _price(product: Product, variant: Variant | None) -> tuple[float, str] | None:
    holder = variant if variant is not None and variant.price is not None else product
    price = holder.sale_price if holder.sale_price is not None else holder.price
    return (float(price), price_label(product, variant)) if price is not None else None


_WEIGHTS = ("weight", "packed_weight", "trail_weight")
MEASURES = (
    Measure(r"warm(?:est|er)", "warmest", "warmer", ("temperature_comfort", "temperature_rating", "temperature_limit"),
            "temp", lowest_wins=True),
    Measure(r"light(?:est|er)|weighs? (?:the )?least", "lightest", "lighter", _WEIGHTS, "mass", lowest_wins=True),
    Measure(r"heav(?:iest|ier)|weighs? (?:the )?most", "heaviest", "heavier", _WEIGHTS, "mass"),
    Measure(r"bright(?:est|er)", "brightest", "brighter", ("max_output", "brightness", "lumens"), "light"),
    Measure(r"(?:most|more) waterproof", "most waterproof", "more waterproof", ("waterproof_rating",), "length"),
    Measure(r"(?:best|highest|top)[\s-](?:rated|reviewed)|best reviews|(?:better|best) rated", "best rated",
            "better rated", figure=_rating),
    Measure(r"cheap(?:est|er)|least expensive|lowest price", "cheapest", "cheaper", lowest_wins=True, figure=_price),
)  # fmt: skip
# A question asking for a winner ("which one is the warmest?", "the brightest one?", "what's the lightest?"), not one
# about a product picked by a superlative ("does the cheapest one come in black?").
WINNER_QUESTION = re.compile(r"\bwhich\b|\bwhat(?:'s| is| are)\s+(?:the|your)\b|\bof (?:them|these|those|the \w+)\b"
                             r"|^\s*(?:and\s+|ok\s+)?(?:the|your)\s+\w+(?:est|er)\b", re.IGNORECASE)  # fmt: skip
# "Which colour is cheapest?", "which size is lightest?": a question about one product's variants, not a ranking.
ABOUT_VARIANTS = re.compile(r"\b(?:colou?rs?|sizes?|versions?|options?|variants?|lengths?|widths?)\b", re.IGNORECASE)
# Words that point at the products on screen: "which one", "of them", "of these", "the brightest one?".
ABOUT_SHOWN = re.compile(r"\b(?:which|of (?:them|these|those|the two|the three|the four)|one|ones)\b", re.IGNORECASE)


@dataclass
class Ranked:
    """The answer to a superlative: its text, and the products ranked best first (those without the figure last)."""

    text: str
    products: list[Item]


def asked_measure(question: str) -> Measure | None:
    """The superlative ``question`` asks for ("the lightest tent" -> lightest), or None."""
    return next((m for m in MEASURES if re.search(rf"\b(?:{m.words})\b", question, re.IGNORECASE)), None)


def rank_by_superlative(question: str, shown: Sequence[Item]) -> Ranked | None:
    """The products ``shown`` ranked for a superlative ``question``, or None if it asks none or no figure decides.
    The caller decides that the question is about the products shown (see :data:`ABOUT_SHOWN`)."""
    measure = asked_measure(question)
    if measure is None or len(shown) < 2 or ABOUT_VARIANTS.search(question):
        return None
    figures = [(item, _figure(measure, *item)) for item in shown]
    known = [(item, fig) for item, fig in figures if fig is not None]
    if len(known) < 2:
        return None
    known.sort(key=lambda pair: pair[1][0] if measure.lowest_wins else -pair[1][0])
    (winner, (_, text)), rest = known[0], known[1:]
    label = _label(measure, winner[0])
    others = ", ".join(f"the {item[0].title}: {fig[1]}" for item, fig in rest)
    best = f"{measure.comparative} of the two" if len(known) == 2 else f"{measure.name} of these"
    answer = f"The {winner[0].title} is the {best}: {label}{text} ({others})."
    missing = [item for item, fig in figures if fig is None]
    if missing:
        one = len(missing) == 1
        if measure.figure is _rating:
            answer += f" {_names(missing)} {'has' if one else 'have'} no reviews yet."
        else:
            answer += f" {_names(missing)} {'does' if one else 'do'} not list {_what(measure)}."
    return Ranked(answer, [item for item, _ in known] + missing)


def _figure(measure: Measure, product: Product, variant: Variant | None) -> tuple[float, str] | None:
    """The product's figure for ``measure``: its value in the dimension's base unit, and the text that gives it."""
    if measure.figure is not None:
        return measure.figure(product, variant)
    for key in measure.keys:
        value = product.attributes.get(key)
        if not value:
            continue
        found = [q for q in find_quantities(str(value)) if q.dim == measure.dimension]
        if found:
            return found[0].base, str(value)
    return None


def _label(measure: Measure, product: Product) -> str:
    if measure.figure is not None:
        return ""
    key = next((k for k in measure.keys if product.attributes.get(k)), measure.keys[0])
    words = key.split("_")
    return " ".join(words[::-1] if words[0] == "temperature" else words) + " "  # "comfort temperature", "weight"


def _what(measure: Measure) -> str:
    """What a product without the figure does not list: "a price" or "its weight"."""
    return f"its {measure.keys[0].replace('_', ' ')}" if measure.keys else "a price"


def _names(items: Sequence[Item]) -> str:
    titles = [f"the {p.title}" for p, _ in items]
    joined = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + f" and {titles[-1]}"
    return joined[0].upper() + joined[1:]
