"""Build :class:`Product` and :class:`Variant` records from feed fields.

The tabular, JSON and Google parsers all reduce a row to a dict keyed by
storebot field names (``id``, ``title``, ``price``, ``options``, ...) and hand
it here, so that validation and its messages are the same whatever the feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from storebot.catalog.feeds.common import (
    BadValue,
    RowCheck,
    absolute_url,
    availability,
    category_path,
    cheapest,
    currency_code,
    money,
    stock,
    string_map,
    text,
    text_list,
)
from storebot.catalog.models import Product, Variant
from storebot.catalog.text import html_to_text, looks_like_html, sanitize_html

ID_FIX = "every product needs a unique id (its SKU or handle works)"
TITLE_FIX = "add the product's name"


@dataclass(frozen=True)
class Context:
    """Feed-wide settings: the currency of prices written without one, and the store's URL.

    Example:
        >>> Context(default_currency="EUR", base_url="https://shop.example.com").default_currency
        'EUR'
    """

    default_currency: str = "USD"
    base_url: str = ""


def describe(raw_text: Any, raw_html: Any = None) -> tuple[str, str]:
    """``(plain text, sanitised HTML)`` of a description given as text, HTML or both."""
    plain, html = text(raw_text), text(raw_html)
    if html:
        return plain or html_to_text(html), sanitize_html(html)
    if looks_like_html(plain):
        return html_to_text(plain), sanitize_html(plain)
    return plain, ""


def written_currency(data: Mapping[str, Any], fallback: str) -> str:
    """The currency a row declares, or writes next to its price, else ``fallback``."""
    try:
        declared = currency_code(data.get("currency"))
        if declared:
            return declared
        for key in ("price", "sale_price"):
            code = money(data.get(key))[1]
            if code:
                return code
    except BadValue:
        pass  # reported where the field is validated
    return fallback


def prices(
    data: Mapping[str, Any], check: RowCheck, currency: str, label: str = ""
) -> tuple[Decimal | None, Decimal | None]:
    """The validated ``(price, sale_price)`` of a row whose currency must be ``currency``."""
    price, price_code = check.value(f"{label}price", money, data.get("price")) or (None, None)
    sale, sale_code = check.value(f"{label}sale_price", money, data.get("sale_price")) or (None, None)
    declared = check.value(f"{label}currency", currency_code, data.get("currency"))
    written = {"currency": declared, "price": price_code, "sale_price": sale_code}
    for name, code in written.items():
        if code and code != currency:
            field = f"{label}{name}"
            check.add(field, f"{field} is in {code} but the product is in {currency}; use one currency per product")
    if sale is not None and price is None:
        check.add(
            f"{label}sale_price",
            f"{label}sale_price is set but {label}price is empty; put the regular price in price "
            "and the discounted one in sale_price",
        )
    elif sale is not None and price is not None:
        if sale > price:
            check.add(
                f"{label}sale_price",
                f"{label}sale_price {sale} is higher than price {price}; leave sale_price empty when "
                "the item is not on sale",
            )
        elif sale == price:
            sale = None  # "on sale" for the full price is no sale
    return price, sale


def build_variant(data: Mapping[str, Any], check: RowCheck, currency: str, label: str = "") -> Variant | None:
    """A variant from fields ``id, sku, title, options, price, sale_price, stock, availability, image``."""
    vid = check.require(f"{label}id", data.get("id"), "every variant needs its own id (its SKU works)")
    price, sale = prices(data, check, currency, label)
    options = check.value(f"{label}options", string_map, data.get("options"))
    count = check.value(f"{label}stock", stock, data.get("stock"))
    avail = check.value(f"{label}availability", availability, data.get("availability"))
    sku = check.value(f"{label}sku", text, data.get("sku"))
    title = check.value(f"{label}title", text, data.get("title"))
    image = check.value(f"{label}image", text, data.get("image"))
    if check.failed:
        return None
    return Variant(
        id=vid, sku=sku, title=title, options=options, price=price, sale_price=sale,
        stock=count, availability=avail, image=image,
    )  # fmt: skip


def build_product(
    data: Mapping[str, Any],
    check: RowCheck,
    ctx: Context,
    *,
    variants: list[Variant] | None = None,
    currency: str | None = None,
) -> Product | None:
    """A product from storebot-named fields, or ``None`` with the problems in ``check``.

    ``variants`` are prebuilt variants (grouped rows); without them, a
    ``variants`` list in ``data`` (our JSON schema) is built here. A product
    without a price of its own takes its cheapest variant's.
    """
    pid = check.require("id", data.get("id"), ID_FIX)
    check.record_id = pid or check.record_id
    title = check.require("title", data.get("title"), TITLE_FIX)
    if looks_like_html(title):  # markup in a title is never passed on as markup (cards, API): its text only
        title = html_to_text(title)
        if not title:
            check.add("title", "title holds only HTML markup and no text; write the product's name as plain text")
    currency = currency or written_currency(data, ctx.default_currency)
    price, sale = prices(data, check, currency)
    described = check.value("description", describe, data.get("description"), data.get("description_html"))
    plain, html = described or ("", "")

    if variants is None:
        variants = []
        raw_variants = data.get("variants") or []
        if not isinstance(raw_variants, list):
            check.add("variants", "variants must be a list of variant objects")
            raw_variants = []
        for i, raw in enumerate(raw_variants):
            label = f"variants[{i}]."
            if not isinstance(raw, Mapping):
                check.add(f"variants[{i}]", f"variants[{i}] must be an object with an id and a price")
                continue
            if raw.get("price") in (None, "") and price is not None:
                # A variant without a price of its own sells at the product's.
                raw = {**raw, "price": price, "sale_price": sale}
            variant = build_variant(raw, check, currency, label)
            if variant is not None:
                variants.append(variant)
    if price is None and variants:
        price, sale = cheapest((v.price, v.sale_price) for v in variants)

    fields = {
        "brand": check.value("brand", text, data.get("brand")),
        "category": check.value("category", category_path, data.get("category")),
        "tags": check.value("tags", text_list, data.get("tags")),
        "availability": check.value("availability", availability, data.get("availability")),
        "stock": check.value("stock", stock, data.get("stock")),
        "attributes": check.value("attributes", string_map, data.get("attributes")),
        "images": check.value("images", _images, data.get("images")),
        "url": check.value("url", text, data.get("url")),
    }
    rating_avg, rating_count = _ratings(data, check)
    if check.failed:
        return None
    fields["url"] = absolute_url(fields["url"], ctx.base_url)
    fields["images"] = [absolute_url(u, ctx.base_url) for u in fields["images"]]
    for variant in variants:
        variant.image = absolute_url(variant.image, ctx.base_url)
    return Product(
        id=pid, title=title, description=plain, description_html=html, price=price, sale_price=sale,
        currency=currency, variants=variants, rating_avg=rating_avg, rating_count=rating_count, **fields,
    )  # fmt: skip


def _images(raw: Any) -> list[str]:
    # "url1|url2" in CSV cells; a plain list in JSON. Commas can occur inside URLs.
    return text_list(raw, "|")


def _ratings(data: Mapping[str, Any], check: RowCheck) -> tuple[float | None, int]:
    # Only present when re-importing our own export; reviews recompute them.
    avg, count = data.get("rating_avg"), data.get("rating_count")
    try:
        value = None if avg in (None, "") else float(avg)
        number = int(count or 0)
    except (TypeError, ValueError):
        check.add("rating_avg", "rating_avg and rating_count must be numbers; or leave them out")
        return None, 0
    return value, number
