"""CSV and TSV feeds: a header row, then one record per row, read as a stream.

Headers default to storebot's field names (``id, title, description, brand,
category, tags, price, sale_price, currency, availability, stock, images,
url``, plus ``attr.<name>`` columns for attributes); a mapping renames them,
e.g. ``{"title": "Name", "price": "Variant Price"}``. Rows with an
``item_group_id`` are variants of one product (see :mod:`.grouping`).

Bytes that are not UTF-8 sink only the row they are in: the text is decoded
with ``surrogateescape`` and a row holding escaped bytes is reported.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from storebot.catalog.feeds.common import (
    ParsedRow,
    RowCheck,
    has_surrogates,
    readable,
    text_list,
    undecodable_message,
)
from storebot.catalog.feeds.grouping import VariantGroups
from storebot.catalog.feeds.policies import build_policy
from storebot.catalog.feeds.products import Context, build_product
from storebot.catalog.feeds.reviews import build_review
from storebot.errors import FeedError

PRODUCT_COLUMNS = (
    "id", "title", "description", "description_html", "brand", "category", "tags", "price", "sale_price",
    "currency", "availability", "stock", "images", "image_link", "url", "item_group_id", "sku",
    "size", "color", "material",
)  # fmt: skip
COLUMNS = {
    "products": PRODUCT_COLUMNS,
    "reviews": ("id", "product_id", "rating", "title", "body", "author", "date", "verified"),
    "policies": ("id", "title", "body"),
}
REQUIRED = {"products": ("id", "title"), "reviews": ("id", "product_id", "rating"), "policies": ("id", "body")}
ALIASES = {"url": ("link",), "stock": ("quantity",), "description_html": ("body_html",)}
OPTION_COLUMNS = ("size", "color", "material")
BROKEN_ROW = (
    "the row's quotes are broken; wrap a value holding the separator or a line break in double quotes, "
    'write a quote inside a value twice (""), and put nothing between a closing quote and the separator'
)
QUOTE_FIX = (
    "Check the quotes from this line on: a value holding a comma, tab or line break must be "
    'wrapped in double quotes, and a quote inside a value written twice ("").'
)


def parse_table(
    stream: BinaryIO,
    delimiter: str,
    kind: str,
    mapping: Mapping[str, str] | None,
    ctx: Context,
) -> Iterator[ParsedRow]:
    """Rows of a CSV (``delimiter=","``; ``";"`` is sniffed) or TSV (``"\\t"``) feed."""
    rows = read_rows(stream, delimiter)
    header = read_header(rows)
    columns, extras = resolve_columns(header, mapping or {}, kind)
    groups = VariantGroups(ctx)
    for line, cells in rows:
        check = RowCheck(line)
        if cells is None:
            check.add(None, BROKEN_ROW)
            yield check.result(None)
            continue
        data = _cells_to_fields(cells, header, columns, check)
        if check.failed:
            check.record_id = readable(data.get("item_group_id") or data.get("id") or "") or None
            yield check.result(None)
        elif kind == "reviews":
            yield check.result(build_review(data, check))
        elif kind == "policies":
            yield check.result(build_policy(data, check))
        else:
            options = _product_extras(data, cells, extras)
            group_id = data.get("item_group_id", "").strip()
            if not group_id:
                for name, value in options.items():  # no variants: sizes and colours describe the product
                    data["attributes"].setdefault(name, value)
                yield check.result(build_product(data, check, ctx))
                continue
            data["options"] = options
            bad = groups.add(group_id, data, check)
            if bad is not None:
                yield bad
    yield from groups.finish()


def _product_extras(data: dict[str, Any], cells: list[str], extras: dict[str, dict[str, int]]) -> dict[str, str]:
    """Fill ``attributes`` and ``images`` into ``data``; return the row's variant options."""
    attributes = {name: cells[i].strip() for name, i in extras["attr"].items() if i < len(cells)}
    data["attributes"] = {k: v for k, v in attributes.items() if v}
    options = {name: cells[i].strip() for name, i in extras["option"].items() if i < len(cells)}
    for name in OPTION_COLUMNS:
        options.setdefault(name, data.get(name, "").strip())
    data["images"] = text_list(data.pop("image_link", ""), "|") + text_list(data.get("images"), "|")
    return {k: v for k, v in options.items() if v}


def read_rows(stream: BinaryIO, delimiter: str) -> Iterator[tuple[int, list[str] | None]]:
    """``(line where the row starts, cells)`` for every non-blank row, the header first.

    Cells are ``None`` for a row whose quoting is broken: the reader skips to
    the next line, so only that row is lost. A quote that is never closed
    swallows the rest of the file, so it raises FeedError instead.
    """
    text = open_text(stream)
    first = text.readline()
    if delimiter == "," and first.count(";") > first.count(","):
        delimiter = ";"  # Excel in many European locales saves CSV with semicolons
    # strict: '"a" ,b' is reported rather than silently read as 'a ' (and EOF inside quotes noticed).
    reader = csv.reader(itertools.chain([first], text), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "end of data" in str(exc) or "field limit" in str(exc):
                raise FeedError("a quoted value is never closed", line=start, fix=QUOTE_FIX) from None
            yield start, None
            continue
        if any(cell.strip() for cell in cells):
            yield start, cells


def read_header(rows: Iterator[tuple[int, list[str] | None]]) -> list[str]:
    """The header row's names, checked for being there and readable."""
    try:
        line, header = next(rows)
    except StopIteration:
        raise FeedError(
            "the file is empty", line=1, fix="Upload a file whose first row names the columns (id,title,price,...)."
        ) from None
    if header is None:
        raise FeedError("the header row cannot be read", line=line, fix=QUOTE_FIX)
    if any(has_surrogates(name) for name in header):
        raise FeedError("the header row is not valid UTF-8", line=line, fix="Re-save the file as UTF-8.")
    return [name.strip() for name in header]


def resolve_columns(
    header: list[str], mapping: Mapping[str, str], kind: str
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Which column holds each storebot field, and the ``attr.``/``option.`` columns.

    Raises FeedError when the mapping names a field or column that does not
    exist, or a required column is missing.
    """
    known = COLUMNS[kind]
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)
        index.setdefault(name.lower(), i)
    listing = ", ".join(repr(h) for h in header if h) or "(none)"
    columns: dict[str, int] = {}
    extras: dict[str, dict[str, int]] = {"attr": {}, "option": {}}

    for field, column in mapping.items():
        if not column:
            continue  # a form's "not mapped" entry: fall back to the default header
        prefix, _, name = field.partition(".")
        if field not in known and not (kind == "products" and prefix in extras and name):
            raise FeedError(
                f"the mapping names {field!r}, which is not a storebot {kind} field",
                fix=f"Map these fields: {', '.join(known)}"
                + (", or attr.<name> / option.<name>." if kind == "products" else "."),
            )
        found = index.get(column, index.get(str(column).strip().lower()))
        if found is None:
            raise FeedError(
                f"the mapping points {field!r} at the column {column!r}, which the header does not have",
                line=1,
                fix=f"Map {field!r} to one of the feed's columns: {listing}.",
            )
        if prefix in extras and name:
            extras[prefix][name] = found
        else:
            columns[field] = found

    for field in known:
        if field in columns:
            continue
        for name in (field, *ALIASES.get(field, ())):
            if name in index:
                columns[field] = index[name]
                break
    if kind == "products":
        for i, name in enumerate(header):
            prefix, _, rest = name.partition(".")
            if prefix.lower() in extras and rest:
                extras[prefix.lower()].setdefault(rest.strip(), i)

    for field in REQUIRED[kind]:
        if field not in columns:
            raise FeedError(
                f"there is no {field!r} column",
                line=1,
                fix=f"Name a column {field!r}, or map it, e.g. mapping={{{field!r}: '<your column>'}}. "
                f"The feed's columns are: {listing}.",
            )
    return columns, extras


def _cells_to_fields(cells: list[str], header: list[str], columns: dict[str, int], check: RowCheck) -> dict[str, Any]:
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        check.add(
            None,
            f"the row has {len(cells)} values but the header has {len(header)} columns; "
            "wrap values that contain the separator in double quotes",
        )
    field_of = {i: f for f, i in columns.items()}
    for i, cell in enumerate(cells):
        if has_surrogates(cell):
            name = field_of.get(i) or (header[i] if i < len(header) else f"column {i + 1}")
            check.add(name, f"{name} {undecodable_message(cell)}")
    return {f: cells[i] for f, i in columns.items() if i < len(cells)}


class _Rejoined(io.RawIOBase):
    """A stream whose first bytes were already read, put back together."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            data, self.head = self.head[: len(buffer)], self.head[len(buffer) :]
        else:
            data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_text(stream: BinaryIO) -> io.TextIOWrapper:
    """Decode a byte stream lazily: UTF-8 (BOM optional) or BOM-marked UTF-16.

    The caller's stream is never closed: the wrappers sit on :class:`_Rejoined`.
    """
    head = stream.read(2)
    # Excel's "Unicode text" export is UTF-16 with a BOM; decode it rather than refuse it.
    encoding = "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    return io.TextIOWrapper(
        io.BufferedReader(_Rejoined(head, stream)), encoding=encoding, errors="surrogateescape", newline=""
    )
