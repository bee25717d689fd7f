"""Catalog feed parsers: every supported feed in, storebot records out, as a stream.

:func:`parse_feed` reads a binary stream in one of :data:`FORMATS` and yields
a :class:`ParsedRow` per record: the record, or ``None`` and the
:class:`RowError`\\ s that explain, with the line and field, how to fix the
row. Bad rows never stop the parse; a feed that is unreadable as a whole
raises :class:`~storebot.errors.FeedError`, possibly midway through the
iteration, so a caller must not commit anything before the iteration ends.

Rows are yielded as they are read, except products grouped by
``item_group_id`` (CSV/TSV/Google), which are held until the feed ends.

Example:
    >>> import io
    >>> feed = io.BytesIO(b"id,title,price\\njkt-1,Ridge Shell Jacket,149.00\\nbad,,abc\\n")
    >>> [(row.line, row.record and row.record.price) for row in parse_feed(feed, "csv")]
    [(2, Decimal('149.00')), (3, None)]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO

from storebot.catalog.feeds.common import ParsedRow, RowError
from storebot.catalog.feeds.detect import FORMATS, FORMATS_FOR, KINDS, check_kind, detect_format
from storebot.catalog.feeds.google import parse_google_tsv, parse_google_xml
from storebot.catalog.feeds.jsonfeed import parse_json, parse_jsonl
from storebot.catalog.feeds.products import Context
from storebot.catalog.feeds.shopify import parse_shopify
from storebot.catalog.feeds.tabular import parse_table
from storebot.errors import FeedError

__all__ = ["FORMATS", "KINDS", "ParsedRow", "RowError", "detect_format", "parse_feed"]

MAPPED_FORMATS = ("csv", "tsv")


def parse_feed(
    stream: BinaryIO,
    fmt: str,
    *,
    kind: str = "products",
    mapping: Mapping[str, str] | None = None,
    default_currency: str = "USD",
    base_url: str = "",
) -> Iterator[ParsedRow]:
    """Parse a feed lazily; arguments are checked now, the stream only as it is iterated.

    Args:
        stream: the feed's bytes, read sequentially (it is not closed).
        fmt: one of :data:`FORMATS`; see :func:`detect_format`.
        kind: one of :data:`KINDS`.
        mapping: storebot field -> the feed's column header, for csv and tsv.
        default_currency: the currency of prices written without one.
        base_url: the storefront's URL, for Shopify product links and site-relative URLs.

    Raises:
        FeedError: for an unknown format or kind, or a mapping given for a
            format without columns; later, during iteration, for a feed that
            is unreadable as a whole.
    """
    check_kind(kind)
    if fmt not in FORMATS:
        raise FeedError(f"unknown feed format {fmt!r}", fix=f"Use one of: {', '.join(FORMATS)}.")
    if fmt not in FORMATS_FOR[kind]:
        raise FeedError(
            f"{fmt} feeds hold products, not {kind}", fix=f"Upload {kind} as one of: {', '.join(FORMATS_FOR[kind])}."
        )
    if mapping and fmt not in MAPPED_FORMATS:
        raise FeedError(
            f"a column mapping applies to csv and tsv feeds, not {fmt}",
            fix="Drop the mapping, or export the feed as CSV with your own column names.",
        )
    ctx = Context(default_currency=default_currency.strip().upper() or "USD", base_url=base_url)
    if fmt in MAPPED_FORMATS:
        return parse_table(stream, "," if fmt == "csv" else "\t", kind, mapping, ctx)
    if fmt == "json":
        return parse_json(stream, kind, ctx)
    if fmt == "jsonl":
        return parse_jsonl(stream, kind, ctx)
    if fmt == "shopify":
        return parse_shopify(stream, ctx)
    if fmt == "google-xml":
        return parse_google_xml(stream, ctx)
    return parse_google_tsv(stream, ctx)
