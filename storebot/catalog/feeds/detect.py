"""Guess a feed's format from its file name and first bytes."""

from __future__ import annotations

import json
import os

from storebot.errors import FeedError

FORMATS = ("csv", "tsv", "json", "jsonl", "shopify", "google-xml", "google-tsv")
KINDS = ("products", "reviews", "policies")
FORMATS_FOR = {
    "products": FORMATS,
    "reviews": ("csv", "tsv", "json", "jsonl"),
    "policies": ("csv", "tsv", "json", "jsonl"),
}

_SHOPIFY_KEYS = (b'"body_html"', b'"vendor"', b'"product_type"', b'"handle"')
# Header names only Google's TSV uses; storebot's own TSV says url/images/category instead.
_GOOGLE_HEADERS = {
    "link", "image_link", "additional_image_link", "google_product_category", "product_type",
    "gtin", "mpn", "condition",
}  # fmt: skip


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise FeedError(f"unknown feed kind {kind!r}", fix=f"Use one of: {', '.join(KINDS)}.")


def detect_format(filename: str, head: bytes, kind: str = "products") -> str:
    """The format of a feed named ``filename`` whose first bytes are ``head``.

    The content decides when it is clear; the extension breaks ties.

    Example:
        >>> detect_format("feed.xml", b'<rss xmlns:g="http://base.google.com/ns/1.0">')
        'google-xml'
    """
    check_kind(kind)
    ext = os.path.splitext(filename.lower())[1]
    if head.startswith(b"PK\x03\x04"):
        raise FeedError(
            "the file is a spreadsheet or zip archive, not a feed",
            fix="Export the sheet as CSV (in Excel: File > Save As > CSV UTF-8) and upload that.",
        )
    sample = _decode(head)
    start = sample.lstrip()[:1]
    fmt = ""
    if ext in (".jsonl", ".ndjson"):
        fmt = "jsonl"
    elif start in ("{", "[") or ext == ".json":
        if kind == "products" and b'"products"' in head and any(key in head for key in _SHOPIFY_KEYS):
            fmt = "shopify"
        elif _looks_jsonl(sample):
            fmt = "jsonl"
        else:
            fmt = "json"
    elif start == "<" or ext in (".xml", ".rss", ".atom"):
        if "base.google.com/ns/1.0" not in sample:
            raise FeedError(
                "the XML is not a Google Merchant Center feed",
                fix='Declare xmlns:g="http://base.google.com/ns/1.0" on <rss>, or pass the format explicitly.',
            )
        fmt = "google-xml"
    elif sample.strip():
        first_line = sample.lstrip().splitlines()[0]
        if "\t" in first_line:
            names = {n.strip().lower().removeprefix("g:").replace(" ", "_") for n in first_line.split("\t")}
            google = "id" in names and bool(names & _GOOGLE_HEADERS)
            fmt = "google-tsv" if google and kind == "products" else "tsv"
        elif "," in first_line or ";" in first_line or ext == ".csv":
            fmt = "csv"
        elif ext in (".tsv", ".tab"):
            fmt = "tsv"
    if fmt not in FORMATS_FOR[kind]:
        if fmt:
            raise FeedError(
                f"the file looks like {fmt}, which is not a format for {kind}",
                fix=f"Upload {kind} as one of: {', '.join(FORMATS_FOR[kind])}.",
            )
        raise FeedError(
            f"cannot tell the format of {filename or 'the upload'!r}",
            fix=f"Name the file .csv, .tsv, .json, .jsonl or .xml, or pass the format: {', '.join(FORMATS_FOR[kind])}.",
        )
    return fmt


def _decode(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    return head.decode("utf-8-sig", "ignore")


def _looks_jsonl(sample: str) -> bool:
    """Whether the first line is a whole JSON object and the next starts another."""
    lines = [line for line in sample.split("\n") if line.strip()]
    if len(lines) < 2 or not lines[1].lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except ValueError:
        return False
