"""Search filters from API query parameters: ``?price_max=150&color=blue&size=M&in_stock=true&on_sale=true``.

The web views call :meth:`storebot.retrieval.filters.Filters.from_params`,
which delegates here. Every malformed value raises a
:class:`~storebot.errors.StorebotError` that says what to send instead, so a
shopper's client gets a 400 with a fix, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from storebot.errors import StorebotError
from storebot.retrieval.normalize import GENDERS, fold, gender_group, option_name

if TYPE_CHECKING:
    from storebot.retrieval.filters import Filters
    from storebot.retrieval.vocabulary import CatalogVocabulary

#: Query parameter -> the :class:`Filters` field it sets (aliases included).
PARAMS = {
    "price_min": "price_min", "min_price": "price_min", "price_max": "price_max", "max_price": "price_max",
    "color": "colors", "colour": "colors", "colors": "colors", "colours": "colors", "size": "sizes",
    "sizes": "sizes", "brand": "brands", "brands": "brands", "category": "categories", "categories": "categories",
    "gender": "gender", "in_stock": "in_stock", "on_sale": "on_sale", "currency": "currency",
}  # fmt: skip
_BOOLEANS = ("in_stock", "on_sale")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def filters_from_params(params: Mapping[str, Any], vocabulary: CatalogVocabulary | None = None) -> Filters:
    """The :class:`Filters` that API query parameters ask for; see :meth:`Filters.from_params`.

    Example:
        >>> f = filters_from_params({"price_max": "150", "color": "blue,black", "on_sale": "true"})
        >>> f.price_max, f.colors, f.on_sale
        (Decimal('150'), ['blue', 'black'], True)
    """
    from storebot.retrieval.filters import Filters

    filters = Filters()
    for key in params:
        name = PARAMS.get(key)
        values = _param_values(params, key)
        if key.startswith("attr.") and len(key) > 5 and values:
            filters.attributes.setdefault(option_name(key[5:]), []).extend(values)
        elif name in ("price_min", "price_max"):
            setattr(filters, name, _price_param(key, values))
        elif name in _BOOLEANS and values:
            setattr(filters, name, _bool_param(key, values[-1]))
        elif name == "currency" and values:
            filters.currency = values[-1].upper()
        elif name == "gender":
            filters.gender += [_gender_param(key, value) for value in values]
        elif name:
            getattr(filters, name).extend(values)
    if filters.price_min is not None and filters.price_max is not None and filters.price_min > filters.price_max:
        raise StorebotError(
            f"price_min {filters.price_min} is above price_max {filters.price_max}",
            fix="Send the lower bound as price_min and the upper as price_max.",
        )
    return filters.resolved(vocabulary) if vocabulary is not None else filters


def _param_values(params: Mapping[str, Any], key: str) -> list[str]:
    raw = params.getlist(key) if hasattr(params, "getlist") else params[key]
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _price_param(key: str, values: list[str]) -> Decimal | None:
    if not values:
        return None
    raw = values[-1]
    try:
        value = Decimal(raw.lstrip("$€£ "))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise StorebotError(f"{key} {raw!r} is not a number", fix=f"Send e.g. {key}=150.")
    if value < 0:
        raise StorebotError(f"{key} {raw!r} is negative", fix=f"Send a price of 0 or more, e.g. {key}=150.")
    return value


def _bool_param(key: str, raw: str) -> bool:
    if fold(raw) in _TRUE | _FALSE:
        return fold(raw) in _TRUE
    raise StorebotError(f"{key} {raw!r} is not true or false", fix=f"Send {key}=true or {key}=false.")


def _gender_param(key: str, raw: str) -> str:
    group = gender_group(raw)
    if group is None:
        raise StorebotError(f"{key} {raw!r} is not a gender storebot knows", fix=f"Send one of: {', '.join(GENDERS)}.")
    return group
