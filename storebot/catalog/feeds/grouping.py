"""Join rows that share an ``item_group_id`` into one product with variants.

CSV and Google feeds list each variant as its own row and tie them together
with ``item_group_id``. The rows of a group need not be adjacent, so groups
are buffered until the feed ends and only then emitted. The tradeoff: memory
grows with the number of grouped rows (one small :class:`Variant` per row plus
the first row's product fields per group), not with the file size, and grouped
products arrive after every ungrouped one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from storebot.catalog.feeds.common import ParsedRow, RowCheck, text, text_list
from storebot.catalog.feeds.products import Context, build_product, build_variant, written_currency
from storebot.catalog.models import Variant

# Product-level fields taken from the group's first row; the rest are per variant.
_PER_VARIANT = ("id", "sku", "title", "options", "price", "sale_price", "currency", "stock", "availability", "image")


@dataclass
class _Group:
    line: int
    currency: str
    first: dict[str, Any]
    titles: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    images: dict[str, None] = field(default_factory=dict)  # ordered and de-duplicated
    attributes: dict[str, str] = field(default_factory=dict)


class VariantGroups:
    """Buffers grouped rows and turns each group into one product at the end.

    A bad row is reported at once (with the group's id as ``record_id``) and
    left out; the group's product is still built from its good rows.

    Example:
        >>> groups = VariantGroups(Context())
        >>> groups.add("JKT", {"id": "JKT-M", "title": "Jacket M", "price": "10",
        ...                    "options": {"size": "M"}}, RowCheck(2))
        >>> [row.record.variants[0].options for row in groups.finish()]
        [{'size': 'M'}]
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.groups: dict[str, _Group] = {}

    def add(self, group_id: str, data: Mapping[str, Any], check: RowCheck) -> ParsedRow | None:
        """Buffer one row; returns a ``ParsedRow`` to report now only when the row is bad."""
        check.record_id = group_id
        group = self.groups.get(group_id)
        currency = group.currency if group else written_currency(data, self.ctx.default_currency)
        variant = build_variant(data, check, currency)
        if variant is None:
            return check.result(None)
        if variant.image == "":
            images = text_list(data.get("images"), "|")
            variant.image = images[0] if images else ""
        if group is None:
            product_fields = {k: v for k, v in data.items() if k not in _PER_VARIANT}
            group = self.groups[group_id] = _Group(check.line, currency, product_fields)
        group.variants.append(variant)
        if variant.title:
            group.titles.append(variant.title)
        group.images.update(dict.fromkeys(text_list(data.get("images"), "|")))
        for name, value in (data.get("attributes") or {}).items():
            group.attributes.setdefault(name, value)
        return None

    def finish(self) -> Iterator[ParsedRow]:
        """One ``ParsedRow`` per group, at the line of its first good row."""
        for group_id, group in self.groups.items():
            check = RowCheck(group.line, record_id=group_id)
            data = {
                **group.first,
                "id": group_id,
                "title": common_title(group.titles),
                "images": list(group.images),
                "attributes": group.attributes,
            }
            product = build_product(data, check, self.ctx, variants=group.variants, currency=group.currency)
            yield check.result(product)
        self.groups.clear()


_TRAILING = " -–—,/|(:"


def common_title(titles: list[str]) -> str:
    """The shared start of variant titles ("Ridge Jacket - M" + "Ridge Jacket - L" -> "Ridge Jacket").

    Falls back to the first title when the variants share too little.
    """
    titles = [text(t) for t in titles if t]
    if not titles:
        return ""
    if len(set(titles)) == 1:
        return titles[0]
    prefix = os.path.commonprefix(titles)
    # Cut back to a word boundary, so "Jacket Blue"/"Jacket Black" gives "Jacket".
    if any(len(t) > len(prefix) and t[len(prefix)].isalnum() for t in titles) and prefix[-1:].isalnum():
        prefix = re.sub(r"\S+$", "", prefix)
    prefix = prefix.rstrip(_TRAILING)
    return prefix if len(prefix) >= 3 else titles[0]
