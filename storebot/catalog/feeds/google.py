"""Google Merchant Center feeds: RSS 2.0 (or Atom) XML with ``g:`` fields, and TSV.

Both shapes carry the same attribute names (``id``, ``title``, ``price`` as
``"129.00 USD"``, ``item_group_id``, ...). Each item becomes a dict of
storebot fields; items sharing an ``item_group_id`` become one product whose
variants are keyed by their size, colour, material and pattern.

The XML is parsed with a defused expat parser whose target builds only the
current ``<item>``, so memory holds one item at a time, and each item's line
is read from expat as its start tag is seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ErrorString

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from storebot.catalog.feeds.common import (
    ParsedRow,
    RowCheck,
    has_surrogates,
    readable,
    text_list,
    undecodable_message,
)
from storebot.catalog.feeds.grouping import VariantGroups
from storebot.catalog.feeds.products import Context, build_product
from storebot.catalog.feeds.tabular import BROKEN_ROW, read_header, read_rows
from storebot.errors import FeedError

G_NS = "http://base.google.com/ns/1.0"
_READ_NS = ("", G_NS, "http://www.w3.org/2005/Atom")
OPTIONS = ("size", "color", "material", "pattern")
EXTRA_ATTRIBUTES = ("gender", "age_group", "condition", "gtin", "mpn")
# Google attribute -> storebot field, for naming the field in row errors.
FIELD_OF = {"link": "url", "image_link": "images", "additional_image_link": "images", "quantity": "stock"}
XML_FIX = "Fix the XML at this line (an unclosed tag or a bare & is the usual cause); an XML validator shows the spot."

Values = dict[str, list[str]]


def parse_google_xml(stream: BinaryIO, ctx: Context) -> Iterator[ParsedRow]:
    """Rows of a Merchant Center RSS/Atom feed, each at its ``<item>``'s line."""
    groups = VariantGroups(ctx)
    for line, item in xml_items(stream):
        values, details = _item_values(item)
        yield from _emit(values, details, RowCheck(line), groups, ctx)
    yield from groups.finish()


def parse_google_tsv(stream: BinaryIO, ctx: Context) -> Iterator[ParsedRow]:
    """Rows of a Merchant Center TSV feed (headers are attribute names, ``g:`` optional)."""
    rows = read_rows(stream, "\t")
    header = [_attribute_name(h) for h in read_header(rows)]
    if "id" not in header:
        listing = ", ".join(repr(h) for h in header if h)
        raise FeedError(
            "there is no 'id' column", line=1, fix=f"Add Google's id column. The feed's columns are: {listing}."
        )
    groups = VariantGroups(ctx)
    for line, cells in rows:
        check = RowCheck(line)
        if cells is None:
            check.add(None, BROKEN_ROW)
            yield check.result(None)
            continue
        values: Values = {}
        details: list[tuple[str, str]] = []
        for name, cell in zip(header, cells, strict=False):
            if has_surrogates(cell):
                field = FIELD_OF.get(name, name)
                check.add(field, f"{field} {undecodable_message(cell)}")
            elif name == "product_detail":
                # Google's text form: "section_name:attribute_name:attribute_value".
                parts = [p.strip() for p in cell.split(":", 2)]
                if len(parts) >= 2 and parts[-2] and parts[-1]:
                    details.append((parts[-2], parts[-1]))
            elif name == "additional_image_link":
                values.setdefault(name, []).extend(text_list(cell))
            elif name:
                values.setdefault(name, []).append(cell)
        yield from _emit(values, details, check, groups, ctx)
    yield from groups.finish()


def _emit(
    values: Values, details: list[tuple[str, str]], check: RowCheck, groups: VariantGroups, ctx: Context
) -> Iterator[ParsedRow]:
    data, group_id = google_fields(values, details)
    if check.failed:  # undecodable bytes: nothing in the row can be trusted
        check.record_id = readable(group_id or data["id"]) or None
        yield check.result(None)
    elif group_id:
        bad = groups.add(group_id, data, check)
        if bad is not None:
            yield bad
    else:
        for name, value in data.pop("options").items():  # no variants: they describe the product
            data["attributes"].setdefault(name, value)
        yield check.result(build_product(data, check, ctx))


def google_fields(values: Values, details: list[tuple[str, str]]) -> tuple[dict[str, Any], str]:
    """Storebot fields and the ``item_group_id`` from Google attribute values."""

    def first(name: str) -> str:
        return next((v.strip() for v in values.get(name, ()) if v.strip()), "")

    product_type, google_category = first("product_type"), first("google_product_category")
    attributes = {name: first(name) for name in EXTRA_ATTRIBUTES if first(name)}
    if google_category and (product_type or google_category.isdigit()):
        attributes["google_product_category"] = google_category
    for name, value in details:
        attributes.setdefault(name, value)
    images = [first("image_link")] + [v.strip() for v in values.get("additional_image_link", [])]
    data = {
        "id": first("id"),
        "title": first("title"),
        "description": first("description"),
        "url": first("link"),
        "images": [url for url in images if url],
        "availability": first("availability"),
        "price": first("price"),
        "sale_price": first("sale_price"),
        "brand": first("brand"),
        "stock": first("quantity") or first("sell_on_google_quantity"),
        "category": product_type or ("" if google_category.isdigit() else google_category),
        "attributes": attributes,
        "options": {name: first(name) for name in OPTIONS if first(name)},
    }
    return data, first("item_group_id")


def _attribute_name(header: str) -> str:
    # "g:image_link", "Image link" and "shipping(country:price)" all name an attribute.
    name = header.strip().lower().split("(", 1)[0].strip()
    return name.removeprefix("g:").replace(" ", "_")


def _item_values(item: Element) -> tuple[Values, list[tuple[str, str]]]:
    values: Values = {}
    details: list[tuple[str, str]] = []
    for child in item:
        namespace, _, name = child.tag.rpartition("}")
        if namespace.lstrip("{") not in _READ_NS:
            continue
        if name == "product_detail":
            parts = {sub.tag.rpartition("}")[2]: "".join(sub.itertext()).strip() for sub in child}
            if parts.get("attribute_name") and parts.get("attribute_value"):
                details.append((parts["attribute_name"], parts["attribute_value"]))
            continue
        href = child.get("href") if name == "link" else None  # Atom writes <link href="..."/>
        values.setdefault(name, []).append(href or "".join(child.itertext()))
    return values, details


class _ItemCollector:
    """Expat target that builds only ``<item>``/``<entry>`` subtrees, noting the line each starts on."""

    def __init__(self) -> None:
        self.parser: Any = None
        self.items: deque[tuple[int, Element]] = deque()
        self.root: str | None = None
        self._builder: TreeBuilder | None = None
        self._depth = 0
        self._line = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self._builder is not None:
            self._depth += 1
            self._builder.start(tag, attrib)
            return
        name = tag.rpartition("}")[2]
        line = self.parser.parser.CurrentLineNumber
        if self.root is None:
            self.root = name
            if name not in ("rss", "feed"):
                raise FeedError(
                    f"the XML's root element is <{name}>, not <rss>", line=line,
                    fix="Upload a Google Merchant Center RSS 2.0 or Atom feed.",
                )  # fmt: skip
        elif name in ("item", "entry"):
            self._builder, self._depth, self._line = TreeBuilder(), 1, line
            self._builder.start(tag, attrib)

    def end(self, tag: str) -> None:
        if self._builder is None:
            return
        self._builder.end(tag)
        self._depth -= 1
        if self._depth == 0:
            self.items.append((self._line, self._builder.close()))
            self._builder = None

    def data(self, data: str) -> None:
        if self._builder is not None:
            self._builder.data(data)

    def close(self) -> None:
        return None


def xml_items(stream: BinaryIO, chunk_size: int = 1 << 16) -> Iterator[tuple[int, Element]]:
    """``(line, element)`` for each ``<item>``/``<entry>``, parsed incrementally."""
    collector = _ItemCollector()
    parser = DefusedXMLParser(target=collector)
    collector.parser = parser
    expat = parser.parser
    while True:
        chunk = stream.read(chunk_size)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except ParseError as exc:
            line, column = exc.position
            reason = ErrorString(exc.code) if isinstance(exc.code, int) else str(exc)
            raise FeedError(f"the XML is broken ({reason}, column {column + 1})", line=line, fix=XML_FIX) from None
        except DefusedXmlException:
            raise FeedError(
                "the XML declares entities, which storebot refuses for safety", line=expat.CurrentLineNumber,
                fix="Remove the <!DOCTYPE>/<!ENTITY> declarations; a product feed does not need them.",
            ) from None  # fmt: skip
        while collector.items:
            yield collector.items.popleft()
        if not chunk:
            return
