"""Typed search filters: what a shopper asked for, and which variant of a product satisfies it.

:class:`Filters` come from a parsed query (:func:`storebot.retrieval.query.parse_query`)
or from API query parameters (:meth:`Filters.from_params`), or both merged.
Within one field the values are alternatives ("blue or black"); across
fields they all apply. A product passes when one of its variants satisfies
every variant-level constraint at once, so "blue, size M" is never answered
by a product that has blue only in S and M only in black.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from storebot.catalog.models import Product, Variant, money_from, money_to_str
from storebot.retrieval.normalize import fold, gender_group, option_name, phrase_key, size_key, size_parts, tokens
from storebot.retrieval.vocabulary import CatalogVocabulary

_LIST_FIELDS = ("colors", "sizes", "brands", "categories", "gender")
_CONSTRAINT = {"colors": "color", "sizes": "size", "brands": "brand", "categories": "category", "gender": "gender"}
_AVAILABILITY_RANK = {"preorder": 1, "backorder": 1}  # can be bought now, unlike out_of_stock
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass
class FilterMatch:
    """A product that passed, the variant that did it, the price that was checked and what matched.

    ``matched`` maps each constraint that applied to the catalog value that met
    it, e.g. ``{"color": "Slate Blue", "size": "M", "price": "129.00"}``.
    """

    product: Product
    variant: Variant | None
    price: Decimal | None
    matched: dict[str, str] = field(default_factory=dict)


@dataclass
class Filters:
    """Constraints on products. Empty lists and None mean "any".

    Prices are compared in the store's currency: ``currency`` only records the
    one the shopper named, so the caller can warn when it is not the store's.
    ``in_stock=False`` is the same as None: storebot never hides in-stock items.
    ``on_sale=True`` keeps variants whose price to pay now (the sale price) is
    below their regular price; ``on_sale=False`` is the same as None, since a
    discount is never a reason to hide an item.

    Example:
        >>> from storebot.catalog.models import Product, Variant
        >>> jacket = Product(id="j1", title="Ridge Shell", brand="Alder", variants=[
        ...     Variant(id="j1-s", options={"color": "Slate Blue", "size": "S"}, price=Decimal("129")),
        ...     Variant(id="j1-m", options={"color": "Slate Blue", "size": "M"}, price=Decimal("129"))])
        >>> Filters(colors=["blue"], sizes=["M"], price_max=Decimal("150")).match(jacket).variant.id
        'j1-m'
        >>> Filters(sizes=["XL"]).match(jacket) is None
        True
        >>> Filters(on_sale=True).match(jacket) is None  # no variant has a sale price
        True
    """

    price_min: Decimal | None = None
    price_max: Decimal | None = None
    currency: str | None = None
    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    gender: list[str] = field(default_factory=list)
    in_stock: bool | None = None
    on_sale: bool | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.active())

    def active(self) -> list[str]:
        """Names of the constraints that apply: ``price``, ``color``, ``size``, ``attr:<name>``..."""
        names = ["price"] if self.price_min is not None or self.price_max is not None else []
        names += [_CONSTRAINT[name] for name in _LIST_FIELDS if getattr(self, name)]
        names += ["in_stock"] if self.in_stock else []
        names += ["on_sale"] if self.on_sale else []
        return names + [f"attr:{name}" for name, values in self.attributes.items() if values]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; only the constraints that are set appear."""
        data: dict[str, Any] = {}
        for name in ("price_min", "price_max"):
            if getattr(self, name) is not None:
                data[name] = money_to_str(getattr(self, name))
        if self.currency:
            data["currency"] = self.currency
        data.update({name: list(getattr(self, name)) for name in _LIST_FIELDS if getattr(self, name)})
        for name in ("in_stock", "on_sale"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if any(self.attributes.values()):
            data["attributes"] = {name: list(values) for name, values in self.attributes.items() if values}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Filters:
        return cls(
            price_min=money_from(data.get("price_min")),
            price_max=money_from(data.get("price_max")),
            currency=data.get("currency") or None,
            **{name: list(data.get(name) or []) for name in _LIST_FIELDS},
            in_stock=data.get("in_stock"),
            on_sale=data.get("on_sale"),
            attributes={str(k): list(v) for k, v in (data.get("attributes") or {}).items()},
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any], vocabulary: CatalogVocabulary | None = None) -> Filters:
        """Filters from API query parameters, e.g. ``?price_max=150&color=blue&size=M&in_stock=true&on_sale=true``.

        Lists may repeat a parameter or separate values with commas; option
        filters are ``attr.<option>=value`` (``attr.material=merino``). Unknown
        parameters are ignored, since the same query string carries ``q`` and
        paging. With a ``vocabulary``, shopper words become catalog values
        ("blue" -> every blue the store sells). The parsing lives in
        :mod:`storebot.retrieval.params`.

        Raises:
            StorebotError: for a price that is not a non-negative number, a
                price_min above price_max, an in_stock or on_sale that is not a
                boolean, or an unknown gender.
        """
        from storebot.retrieval.params import filters_from_params  # params builds Filters: imported late

        return filters_from_params(params, vocabulary)

    def resolved(self, vocabulary: CatalogVocabulary) -> Filters:
        """A copy whose colours, sizes, brands and categories are the catalog's own values where it knows them."""

        def resolve(values: list[str], lookup: Any) -> list[str]:
            return _unique([found for value in values for found in (lookup(value) or [value])])

        return replace(
            self,
            colors=resolve(self.colors, vocabulary.resolve_colors),
            sizes=resolve(self.sizes, vocabulary.resolve_sizes),
            brands=resolve(self.brands, vocabulary.resolve_brands),
            categories=resolve(self.categories, vocabulary.resolve_categories),
        )

    def merge(self, other: Filters) -> Filters:
        """These filters overridden field by field by ``other`` (explicit parameters over parsed ones)."""
        merged = replace(self, attributes={**self.attributes, **{k: v for k, v in other.attributes.items() if v}})
        for name in (*_LIST_FIELDS, "price_min", "price_max", "currency", "in_stock", "on_sale"):
            value = getattr(other, name)
            if value not in (None, []):
                setattr(merged, name, list(value) if isinstance(value, list) else value)
        low, high = merged.price_min, merged.price_max
        if low is not None and high is not None and low > high:
            # Contradiction between a parsed and an explicit bound: the explicit one stands alone.
            merged.price_min, merged.price_max = (low, None) if other.price_min is not None else (None, high)
        return merged

    def match(self, product: Product) -> FilterMatch | None:
        """The best variant of ``product`` that satisfies every constraint, or None if none does.

        Among satisfying variants, in-stock ones win, then exact size and colour
        matches over partial ones ("S/M" for M), then the feed's order.
        """
        matched: dict[str, str] = {}
        if self.brands:
            if not any(phrase_key(product.brand) == phrase_key(brand) for brand in self.brands):
                return None
            matched["brand"] = product.brand
        if self.categories:
            hit = _category_hit(product.category, self.categories, product.title)
            if hit is None:
                return None
            matched["category"] = hit
        if self.gender:
            group = product_gender(product)
            # Unlabelled products (tents, bottles) are for anyone; unisex fits men and women.
            if group is not None and group not in self.gender and not (group == "unisex" and "kids" not in self.gender):
                return None
            if group is not None:
                matched["gender"] = group
        attributes = {option_name(k): str(v) for k, v in product.attributes.items()}
        best: tuple[tuple[int, ...], Variant | None, Decimal | None, dict[str, str]] | None = None
        for variant in product.variants or [None]:
            checked = self._check_variant(product, variant, attributes)
            if checked is not None and (best is None or checked[0] > best[0]):
                best = checked
        if best is None:
            return None
        _, variant, price, variant_matched = best
        return FilterMatch(product=product, variant=variant, price=price, matched={**matched, **variant_matched})

    def _check_variant(
        self, product: Product, variant: Variant | None, attributes: dict[str, str]
    ) -> tuple[tuple[int, ...], Variant | None, Decimal | None, dict[str, str]] | None:
        options = {option_name(k): str(v) for k, v in variant.options.items()} if variant else {}
        matched: dict[str, str] = {}
        rank = [0, 0, 0]
        for name, wanted in (("color", self.colors), ("size", self.sizes), *self.attributes.items()):
            if not wanted:
                continue
            value = options.get(name) or attributes.get(name)
            how = _value_match(name, value, wanted) if value else 0
            if not how:
                return None
            matched[name if name in ("color", "size") else f"attr:{name}"] = str(value)
            if name in ("size", "color"):
                rank[1 if name == "size" else 2] = how
        holder: Variant | Product = variant or product
        stocked = holder.availability == "in_stock" and holder.stock != 0
        if self.in_stock:
            if not stocked:
                return None
            matched["in_stock"] = "in_stock"
        rank[0] = 2 if stocked else _AVAILABILITY_RANK.get(holder.availability, 0)
        if self.on_sale:
            regular, sale = _sale_pair(product, variant)
            if sale is None:
                return None
            matched["on_sale"] = f"{money_to_str(sale)} (was {money_to_str(regular)})"
        price = _price(product, variant)
        if self.price_min is not None or self.price_max is not None:
            if price is None or not _within(price, self.price_min, self.price_max):
                return None
            matched["price"] = money_to_str(price) or ""
        return tuple(rank), variant, price, matched

    def describe(self) -> str:
        """A short human phrase for the constraints: ``"Slate Blue, size M, under $150"``."""
        parts = [*self.colors, *(f"size {s}" for s in self.sizes), *self.brands, *self.categories, *self.gender]
        parts += [value for values in self.attributes.values() for value in values]
        if self.price_min is not None or self.price_max is not None:
            parts.append(price_phrase(self.price_min, self.price_max, self.currency))
        return ", ".join(parts + (["in stock"] if self.in_stock else []) + (["on sale"] if self.on_sale else []))


def price_phrase(low: Decimal | None, high: Decimal | None, currency: str | None = None) -> str:
    """``"under $150"``, ``"over $50"`` or ``"$50–$80"``."""
    symbol = _SYMBOLS.get(currency or "", "")

    def amount(value: Decimal) -> str:
        return f"{symbol}{value:.0f}" if value == value.to_integral_value() else f"{symbol}{value:.2f}"

    if low is not None and high is not None:
        return f"{amount(low)}–{amount(high)}"
    return f"under {amount(high)}" if high is not None else f"over {amount(low)}" if low is not None else ""


def product_gender(product: Product) -> str | None:
    """The gender group a product is made for, from its attributes, options or title; None if unlabelled."""
    for name, value in product.attributes.items():
        if option_name(name) == "gender" and (group := gender_group(str(value))):
            return group
    for variant in product.variants[:1]:
        for name, value in variant.options.items():
            if option_name(name) == "gender" and (group := gender_group(str(value))):
                return group
    groups = {gender_group(word) for word, _, _ in tokens(product.title)} - {None}
    return groups.pop() if len(groups) == 1 else None


def _value_match(name: str, value: str, wanted: list[str]) -> int:
    """2 for an exact match, 1 for a partial one ("S/M" for M, "Slate Blue" for blue), 0 for none."""
    if name == "size":
        key = size_key(value)
        keys = {size_key(w) for w in wanted}
        return 2 if key in keys else 1 if keys.intersection(size_parts(key)) else 0
    have = phrase_key(value)
    best = 0
    for want in wanted:
        want_key = phrase_key(want)
        if want_key == have:
            return 2
        if want_key and set(want_key) <= set(have):
            best = 1
    return best


def _category_hit(path: list[str], wanted: list[str], title: str = "") -> str | None:
    """The category segment of ``path`` that answers one of ``wanted``, or None.

    A product whose title ends with the wanted category's words is in it too, wherever the feed filed it: the
    "Windward Softshell Jacket" filed under "Fleece & Midlayers" is one of the store's jackets.

    Example:
        >>> _category_hit(["Apparel", "Rain Jackets"], ["Jackets"])
        'Rain Jackets'
        >>> _category_hit(["Apparel", "Fleece & Midlayers"], ["Jackets"], "Windward Softshell Jacket")
        'Jackets'
        >>> _category_hit(["Apparel", "Fleece & Midlayers"], ["Jackets"], "Jacket Hanger") is None
        True
    """
    segments = {phrase_key(segment): segment for segment in path}
    title_key: tuple[str, ...] | None = None  # computed only when no segment answers
    for want in wanted:
        want_keys = [phrase_key(part) for part in want.split(">") if part.strip()]
        if len(want_keys) > 1:  # a path, "Gear > Tents": every segment must be there
            if all(key in segments for key in want_keys):
                return " > ".join(path)
            continue
        key = want_keys[0] if want_keys else ()
        for have, segment in segments.items():
            # Exact, or the head of the segment ("runners" ~ "Trail Runners"), or one side of "Hats & Gloves".
            if key and (have == key or have[-len(key) :] == key or _has_part(have, key)):
                return segment
        if key and title:
            title_key = phrase_key(title) if title_key is None else title_key
            if title_key[-len(key) :] == key:
                return want
    return None


def _has_part(have: tuple[str, ...], key: tuple[str, ...]) -> bool:
    text, part = f" {' '.join(have)} ", f" {' '.join(key)} "
    return "and" in have and (f"{part}and " in text or f" and{part}" in text)


def buyable(product: Product, variant: Variant | None = None) -> bool:
    """Whether ``variant`` (or the product, without one) can be bought now: in stock, or on preorder or backorder.

    Example:
        >>> buyable(Product(id="p", title="Tent", stock=0)), buyable(Product(id="q", title="Tent", stock=3))
        (False, True)
    """
    holder: Variant | Product = variant or product
    return (holder.availability == "in_stock" and holder.stock != 0) or holder.availability in _AVAILABILITY_RANK


def _price(product: Product, variant: Variant | None) -> Decimal | None:
    if variant is not None and (variant.price is not None or variant.sale_price is not None):
        return variant.sale_price if variant.sale_price is not None else variant.price
    return product.effective_price


def _sale_pair(product: Product, variant: Variant | None) -> tuple[Decimal | None, Decimal | None]:
    """``(regular, sale)`` prices of what the shopper would buy; ``sale`` is None unless it is below ``regular``.

    A variant with a price of its own decides alone; one without takes the product's, as :func:`_price` does.
    """
    holder: Variant | Product = product
    if variant is not None and (variant.price is not None or variant.sale_price is not None):
        holder = variant
    regular, sale = holder.price, holder.sale_price
    return regular, sale if regular is not None and sale is not None and sale < regular else None


def discount(product: Product, variant: Variant | None) -> float:
    """The share taken off the regular price of what the shopper would buy: 0.25 for 25% off, 0.0 when none.

    Example:
        >>> from storebot.catalog.models import Product, Variant
        >>> discount(Product(id="p", title="Mug", variants=[]), Variant(id="v", price=Decimal("40"),
        ...          sale_price=Decimal("30")))
        0.25
    """
    regular, sale = _sale_pair(product, variant)
    return float((regular - sale) / regular) if regular and sale is not None else 0.0


def _within(price: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or price >= low) and (high is None or price <= high)


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(fold(value), value)
    return list(seen.values())
