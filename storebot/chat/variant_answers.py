"""Answers to "does it come in blue?" and "is it available in medium?", from a product's variants.

The shopper's words are read against the product's own options: "blue" is the
colour family of Midnight Navy and Glacier Teal, "medium" is size M, "large"
is L. The answer names the catalog colours that match and says, from each
variant's stock, in which sizes they are in stock or sold out. It never
opens with "yes" when the asked size is sold out.

Example:
    >>> from decimal import Decimal
    >>> from storebot.catalog.models import Product, Variant
    >>> shell = Product(id="j1", title="Ridge Shell Jacket", variants=[
    ...     Variant(id=f"j1-{s}-{c}", options={"size": s, "color": c}, price=Decimal("139"), stock=0 if s == "M" else 3)
    ...     for s in ("S", "M", "L") for c in ("Midnight Navy", "Juniper")])
    >>> variant_answer(shell, "does it come in blue?")
    'Yes: the Ridge Shell Jacket comes in Midnight Navy, in stock in S and L, but not in M.'
    >>> variant_answer(shell, "is it available in medium?")
    'Not in M: M is sold out in every colour; S and L are in stock.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storebot.catalog.models import Product, Variant
from storebot.chat.features import is_plural
from storebot.retrieval.normalize import COLOR_FAMILIES, option_name
from storebot.retrieval.query import parse_query
from storebot.retrieval.vocabulary import CatalogVocabulary

# Colour words a shopper may ask for that a product may not have ("does it come in red?").
_COLOUR_WORDS = frozenset(COLOR_FAMILIES) | {"gray", "navy", "olive", "tan", "teal", "khaki", "burgundy", "maroon"}
_ASKED_COLOUR = re.compile(r"\b(?:in|the)\s+(?:a\s+)?(?P<w>[a-z]+)\b(?!['’-])", re.I)
# A size named alone ("what about large in Juniper?"), not a dimension ("how large", "runs large").
_BARE_SIZE = re.compile(r"(?<!\bhow )(?<!\btoo )(?<!\bvery )(?<!\bruns )(?<!\brun )(?<!\bso )\b(?P<w>x{0,2}-?small|"
                        r"medium|x{0,2}-?large|extra[ -]large|extra[ -]small|xxs|xs|xl|xxl|xxxl)\b", re.I)  # fmt: skip
_BARE_NUMBER = re.compile(
    r"\b(?:in|a|an)\s+(\d{1,2}(?:\.5)?)(?![\d.,])(?!\s*(?:%|mm|cm|m\b|kg|g\b|l\b|oz|lb|inch|"
    r"people|person|lumens|°|\"))",
    re.I,
)  # "in 11?", not "in 2 people"
_REFERENCE = re.compile(r"\bthe\s+(?:[\w/-]+\s+){1,2}?(?:one|ones|version)\b", re.I)
_QUESTION_WORDS = re.compile(r"\b(?:what|about|how|and|is|are|it|its|they|them|do|does|you|have|got|any|the|in|of|"
                             r"that|this|those|these|one|ones|please|also)\b")  # fmt: skip
OVERVIEW_CUE = re.compile(r"\b(?:colou?rs?|sizes?|stock|available|availability|options?|variants?|come in)\b", re.I)


@dataclass
class VariantAsk:
    """What a question asks of a product's options: catalog colours and sizes it matches, and words it doesn't.

    Example:
        >>> from decimal import Decimal
        >>> from storebot.catalog.models import Product, Variant
        >>> puffer = Product(id="p1", title="Basecamp Puffer", variants=[
        ...     Variant(id=f"p1-{c}", options={"size": "M", "color": c}, price=Decimal("99"), stock=2)
        ...     for c in ("Midnight Navy", "Glacier Teal", "Storm Grey")])
        >>> read_ask(puffer, "do you have it in blue, medium?")
        VariantAsk(colors=['Midnight Navy', 'Glacier Teal'], sizes=['M'], missing_colors=[], missing_sizes=[])
        >>> read_ask(puffer, "does it come in red?").missing_colors
        ['red']
    """

    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    missing_colors: list[str] = field(default_factory=list)  # "red" for a jacket with no red
    missing_sizes: list[str] = field(default_factory=list)  # "XXXL" for a jacket up to XXL

    def __bool__(self) -> bool:
        return bool(self.colors or self.sizes or self.missing_colors or self.missing_sizes)


def option_values(product: Product, name: str) -> list[str]:
    """The values of option ``name`` ("color", "size") across ``product``'s variants, in catalog order."""
    values: dict[str, None] = {}
    for v in product.variants:
        for key, value in v.options.items():
            if option_name(key) == name:
                values[str(value)] = None
    return list(values)


def read_ask(product: Product, question: str) -> VariantAsk:
    """The colours and sizes of ``product`` that ``question`` asks about (see the module docstring).

    "the black one" only points at a product ("is the black one waterproof?"), unless nothing else is asked.
    """
    rest = _REFERENCE.sub(" ", question)
    other = _BARE_SIZE.sub(" ", _QUESTION_WORDS.sub(" ", rest.lower()))  # "the grey one in large?" asks for grey
    if rest != question and re.search(r"\b(?!size\b)[a-z]{3,}", other):
        question = rest
    colors, sizes = option_values(product, "color"), option_values(product, "size")
    if not colors and not sizes:
        return VariantAsk()
    vocab = CatalogVocabulary.from_products([product])
    filters = parse_query(question, vocab).filters
    ask = VariantAsk([c for c in colors if c in filters.colors], [s for s in sizes if s in filters.sizes])
    ask.missing_sizes = [s for s in filters.sizes if s not in sizes] if sizes else []
    if not ask.sizes and not ask.missing_sizes and sizes:
        for m in _BARE_SIZE.finditer(question):
            ask.sizes += [s for s in vocab.resolve_sizes(m.group("w")) if s not in ask.sizes]
        ask.sizes += [n for n in _BARE_NUMBER.findall(question) if n in sizes and n not in ask.sizes]
    if not ask.colors and colors:
        ask.missing_colors = [m.group("w").lower() for m in _ASKED_COLOUR.finditer(question)
                              if m.group("w").lower() in _COLOUR_WORDS]  # fmt: skip
    return ask


def variant_answer(product: Product, question: str) -> str | None:
    """Which asked colours and sizes of ``product`` exist and are in stock; None when none are asked."""
    ask = read_ask(product, question)
    if not ask:
        return None
    grid = _Grid(product)
    title = product.title
    if ask.missing_colors:
        missing = _join(ask.missing_colors, "or")
        return f"No, we don't have the {title} in {missing}; {_it(title)} in {_join(grid.colors)}."
    if ask.missing_sizes:
        missing = grid.sizes_label(ask.missing_sizes).replace(" and ", " or ")
        return f"No, we don't have the {title} in {missing}; {_it(title)} in {grid.offered_sizes()}."
    if ask.sizes:
        return " ".join(grid.size_answer(title, size, ask.colors) for size in ask.sizes[:2])
    return grid.color_answer(title, ask.colors)


def options_overview(product: Product) -> str | None:
    """The colours and sizes ``product`` comes in, and what is sold out; None for a product without options."""
    grid = _Grid(product)
    if not grid.colors and not grid.sizes:
        return None
    title, verb = product.title, "come" if is_plural(product.title) else "comes"
    if product.availability != "in_stock":
        return f"The {title} {'are' if verb == 'come' else 'is'} out of stock."
    offered = [f"in {_join(grid.colors)}"] if len(grid.colors) > 1 else []
    if len(grid.sizes) > 1:
        offered.append(f"in {grid.offered_sizes()}")
    head = f"The {title} {verb} {', '.join(offered)}." if offered else ""
    gone = grid.sold_out_summary()
    tail = f"Sold out: {gone}." if gone else "Every option is in stock."
    return f"{head} {tail}".strip()


class _Grid:
    """A product's variants as a colour x size table of "in stock?"."""

    def __init__(self, product: Product) -> None:
        self.colors, self.sizes = option_values(product, "color"), option_values(product, "size")
        self.stock: dict[tuple[str | None, str | None], bool] = {}
        for v in product.variants:
            key = (_option(v, "color"), _option(v, "size"))
            self.stock[key] = self.stock.get(key, False) or v.availability == "in_stock"

    def has(self, color: str | None, size: str | None) -> bool:
        return any(ok for (c, s), ok in self.stock.items() if color in (None, c) and size in (None, s))

    def sizes_label(self, sizes: list[str]) -> str:
        numeric = all(re.fullmatch(r"\d+(?:\.5)?", s) for s in sizes)
        if sizes == self.sizes and len(sizes) > 4:
            return f"sizes {sizes[0]} to {sizes[-1]}" if numeric else f"{sizes[0]} to {sizes[-1]}"
        return ("size " if len(sizes) == 1 else "sizes ") * numeric + _join(sizes)

    def offered_sizes(self) -> str:
        label = self.sizes_label(self.sizes)
        return label if label.startswith("size") else f"sizes {label}"

    def size_answer(self, title: str, size: str, colors: list[str]) -> str:
        label = self.sizes_label([size])
        wanted = colors or self.colors
        have = [c for c in wanted if self.has(c, size)] if wanted else ([None] if self.has(None, size) else [])
        lacking = [c for c in wanted if c not in have]
        if have and not lacking:
            if colors:
                both = {1: "", 2: "both "}.get(len(colors), "all ")
                return f"Yes: the {title} comes in {_join(colors)}, {both}in stock in {label}."
            every = " in every colour" if len(self.colors) > 1 else ""
            return f"Yes: the {title} {_is(title)} in stock in {label}{every}."
        if have:
            missing = _join(lacking, "or")
            return f"Yes: in {label}, the {title} {_is(title)} in stock in {_join(have)}, but not in {missing}."
        if not self.has(None, size) or not colors:
            gone = [s for s in self.sizes if not self.has(None, s)] if not colors else [size]
            left = [s for s in self.sizes if self.has(None, s)] if not colors else []
            sentence = f"Not in {label}: {self._state(gone, 'sold out', title)}"
            sentence += " in every colour" if len(self.colors) > 1 else ""
            if left:
                sentence += f"; {self._state(left, 'in stock', title)}"
            sentence += "."
        else:
            others = [c for c in self.colors if self.has(c, size)]
            sentence = (f"Not in {_join(colors, 'or')}: in {label}, the {title} {_is(title)} in stock in "
                        f"{_join(others)}, but not in {_join(colors, 'or')}.")  # fmt: skip
        for color in colors:
            left = [s for s in self.sizes if self.has(color, s)]
            if left:
                sentence += f" In {color}, {self._left(left, title)}."
            else:
                sentence += f" {color} is sold out in every size."
        return sentence

    def _left(self, left: list[str], title: str) -> str:
        """ "S and XL are in stock", or "every size but 11 is in stock" when most sizes are left."""
        lacking = [s for s in self.sizes if s not in left]
        if len(left) > 4 and lacking and not any("/" in s for s in lacking):
            return f"every size but {_join(lacking)} is in stock"
        return self._state(left, "in stock", title)

    def _state(self, sizes: list[str], state: str, title: str) -> str:
        """ "M and L are sold out"; a combined size ("S/M") is said as "it is sold out in S/M", which reads
        the same and is not mistaken for size M."""
        if any("/" in s for s in sizes):
            return f"{'they are' if is_plural(title) else 'it is'} {state} in {self.sizes_label(sizes)}"
        return f"{self.sizes_label(sizes)} {_be(sizes)} {state}"

    def color_answer(self, title: str, colors: list[str]) -> str:
        head = f"Yes: the {title} {'come' if is_plural(title) else 'comes'} in {_join(colors)}"
        if not any(self.has(color, None) for color in colors):  # it exists, but none of it is left: no "Yes"
            those = "that colour is" if len(colors) == 1 else "those colours are"
            gone = "sold out in every size" if self.sizes else "sold out in every option"
            return f"The{head[len('Yes: the') :]}, but {those} {gone}."
        if not self.sizes:
            gone = [c for c in colors if not self.has(c, None)]
            return head + (f", but we've run out of {_join(gone)}." if gone else ", in stock.")
        groups: dict[tuple[str, ...], list[str]] = {}
        for color in colors:
            groups.setdefault(tuple(s for s in self.sizes if self.has(color, s)), []).append(color)
        if len(groups) == 1:
            ((left, _),) = groups.items()
            return head + ", " + self._sizes_clause(list(left), len(colors)) + "."
        clauses = [f"in {_join(group)}, {self._sizes_clause(list(left), 1)}" for left, group in groups.items()]
        return head + ": " + "; ".join(clauses) + "."

    def _sizes_clause(self, left: list[str], count: int) -> str:
        both = {1: "", 2: "both "}.get(count, "all ")
        if left == self.sizes:
            return (
                f"{both}in stock in every size ({self.sizes[0]} to {self.sizes[-1]})"
                if len(left) > 1
                else (f"{both}in stock")
            )
        if not left:
            return "sold out in every size"
        lacking = [s for s in self.sizes if s not in left]
        if len(left) > 4:
            return f"{both}in stock in every size but {_join(lacking)}"
        return f"{both}in stock in {self.sizes_label(left)}, but not in {_join(lacking, 'or')}"

    def sold_out_summary(self) -> str:
        """ "M and L in every colour, and XXL in Juniper": every sold-out combination, grouped."""
        everywhere = [s for s in self.sizes if not self.has(None, s)] if len(self.colors) > 1 else []
        items = [f"{self.sizes_label(everywhere)} in every colour"] if everywhere else []
        if not self.colors:
            return _join([s for s in self.sizes if not self.has(None, s)])
        for color in self.colors:
            gone = [s for s in self.sizes if s not in everywhere and not self.has(color, s)]
            if not self.sizes and not self.has(color, None):
                items.append(color)
            elif gone and len(gone) == len([s for s in self.sizes if s not in everywhere]):
                items.append(f"{color} in every size")
            elif gone:
                items.append(f"{self.sizes_label(gone)} in {color}")
        return "; ".join(items)


def _option(variant: Variant, name: str) -> str | None:
    return next((str(v) for k, v in variant.options.items() if option_name(k) == name), None)


def _is(title: str) -> str:
    return "are" if is_plural(title) else "is"


def _it(title: str) -> str:
    return "they come" if is_plural(title) else "it comes"


def _be(items: list[str]) -> str:
    return "is" if len(items) == 1 else "are"


def _join(items: list[str], conjunction: str = "and") -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}" if items else ""
