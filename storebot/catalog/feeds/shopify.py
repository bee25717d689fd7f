"""Shopify's ``products.json`` (storefront or Admin API export), streamed item by item.

Shopify marks a sale with ``compare_at_price`` (the old price) above
``price`` (what the shopper pays); storebot keeps the regular price in
``price`` and the discounted one in ``sale_price``, so the two are swapped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from storebot.catalog.feeds.common import (
    ParsedRow,
    RowCheck,
    cheapest,
    money,
    text,
    text_list,
    whole_number,
)
from storebot.catalog.feeds.jsonfeed import json_items
from storebot.catalog.feeds.products import ID_FIX, TITLE_FIX, Context
from storebot.catalog.models import Product, Variant
from storebot.catalog.text import html_to_text, sanitize_html

DEFAULT_OPTION = "Default Title"  # Shopify's placeholder option of a product without variants


def parse_shopify(stream: BinaryIO, ctx: Context) -> Iterator[ParsedRow]:
    """Rows of a Shopify ``{"products": [...]}`` export; errors are numbered by item.

    Drafts and archived products (``status`` other than ``active``) are
    skipped: they are not for sale, so the assistant must not offer them.
    """
    for position, obj in json_items(stream, "products"):
        check = RowCheck(position, unit="item")
        if not isinstance(obj, Mapping):
            check.add(None, f"expected a product object, found {type(obj).__name__}")
            yield check.result(None)
            continue
        if obj.get("status") not in (None, "", "active"):
            continue
        yield check.result(shopify_product(obj, check, ctx))


def shopify_product(obj: Mapping[str, Any], check: RowCheck, ctx: Context) -> Product | None:
    """A :class:`Product` from one Shopify product object, or ``None`` with errors in ``check``."""
    pid = check.require("id", obj.get("id"), ID_FIX)
    check.record_id = pid or None
    title = check.require("title", obj.get("title"), TITLE_FIX)
    body = check.value("description", text, obj.get("body_html")) or ""
    handle = check.value("url", text, obj.get("handle")) or ""

    images: list[str] = []
    image_by_id: dict[Any, str] = {}
    for image in obj.get("images") or []:
        if isinstance(image, Mapping) and image.get("src"):
            images.append(str(image["src"]))
            image_by_id[image.get("id")] = str(image["src"])
    if not images and isinstance(obj.get("image"), Mapping) and obj["image"].get("src"):
        images.append(str(obj["image"]["src"]))

    option_names: dict[int, str] = {}
    for i, option in enumerate(obj.get("options") or [], start=1):
        if isinstance(option, Mapping) and option.get("name"):
            position = option.get("position")
            if not isinstance(position, int) or not 1 <= position <= 3:
                position = i
            option_names[position] = str(option["name"]).strip().lower()

    variants = []
    for i, raw in enumerate(obj.get("variants") or []):
        if not isinstance(raw, Mapping):
            check.add(f"variants[{i}]", f"variants[{i}] must be an object")
            continue
        variant = _variant(raw, check, f"variants[{i}].", option_names, image_by_id)
        if variant is not None:
            variants.append(variant)
    price, sale = cheapest((v.price, v.sale_price) for v in variants)

    category = obj.get("category")
    full_name = category.get("full_name") if isinstance(category, Mapping) else None
    product_type = check.value("category", text, obj.get("product_type")) or ""
    # Shopify's standard taxonomy is the better path; product_type is a free-form label.
    path = [product_type] if product_type else []
    if full_name:
        path = check.value("category", text_list, full_name, ">")
    fields = {
        "brand": check.value("brand", text, obj.get("vendor")),
        "tags": check.value("tags", text_list, obj.get("tags")),
        "category": path,
        "attributes": _metafields(obj.get("metafields"), check),
    }
    if check.failed:
        return None
    url = f"{ctx.base_url.rstrip('/')}/products/{handle}" if handle else ""
    return Product(
        id=pid, title=title, description=html_to_text(body), description_html=sanitize_html(body),
        price=price, sale_price=sale, currency=ctx.default_currency, images=images, url=url,
        variants=variants, **fields,
    )  # fmt: skip


def _variant(
    raw: Mapping[str, Any],
    check: RowCheck,
    label: str,
    option_names: dict[int, str],
    image_by_id: dict[Any, str],
) -> Variant | None:
    vid = text(raw.get("id")) or text(raw.get("sku"))
    if not vid:
        check.add(f"{label}id", f"{label}id is missing; every variant needs an id or a sku")
    amount, _ = check.value(f"{label}price", money, raw.get("price")) or (None, None)
    compare, _ = check.value(f"{label}compare_at_price", money, raw.get("compare_at_price")) or (None, None)
    if amount is None and not check.failed:
        check.add(f"{label}price", f"{label}price is missing; give every variant a price like 129.00")
    quantity = check.value(f"{label}stock", whole_number, raw.get("inventory_quantity"))
    if check.failed:
        return None
    price, sale = (compare, amount) if compare is not None and compare > amount else (amount, None)
    # Shopify lets a store oversell, so stock can go below zero; none is left either way.
    stock = None if quantity is None else max(quantity, 0)
    options = {}
    for position in (1, 2, 3):
        value = text(raw.get(f"option{position}"))
        if value and value != DEFAULT_OPTION:
            options[option_names.get(position, f"option{position}")] = value
    title = text(raw.get("title"))
    featured = raw.get("featured_image")
    image = image_by_id.get(raw.get("image_id")) or (featured.get("src", "") if isinstance(featured, Mapping) else "")
    return Variant(
        id=vid, sku=text(raw.get("sku")), title="" if title == DEFAULT_OPTION else title, options=options,
        price=price, sale_price=sale, stock=stock, availability=_availability(raw, stock), image=image or "",
    )  # fmt: skip


def _availability(raw: Mapping[str, Any], stock: int | None) -> str:
    sells_without_stock = raw.get("inventory_policy") == "continue"
    if "available" in raw and raw["available"] is not None:
        if not raw["available"]:
            return "out_of_stock"
        return "backorder" if sells_without_stock and stock is not None and stock <= 0 else "in_stock"
    if stock is None:
        return ""
    if stock > 0:
        return "in_stock"
    return "backorder" if sells_without_stock else "out_of_stock"


def _metafields(raw: Any, check: RowCheck) -> dict[str, str]:
    """Metafields as attributes ``{key: value}``; structured values kept as compact JSON."""
    attributes: dict[str, str] = {}
    for field in raw or []:
        if not isinstance(field, Mapping) or not field.get("key"):
            continue
        value = field.get("value")
        if value is None or value == "":
            continue
        if isinstance(value, Mapping | list):
            written = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
        else:
            written = text(value)
        attributes.setdefault(str(field["key"]), written)
    return attributes
