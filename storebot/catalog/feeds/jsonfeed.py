"""storebot's own JSON and JSON Lines feeds, and the streaming JSON reader they share.

A JSON feed is an array of records shaped like ``Product.to_dict()`` (or
``Review``/``Policy``), or an object holding one such array under
``"products"``, ``"reviews"`` or ``"policies"``. It is read with ``ijson``,
one item at a time, so a large feed never sits in memory whole. JSON Lines
holds one record per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, BinaryIO

import ijson

from storebot.catalog.feeds.common import ParsedRow, RowCheck
from storebot.catalog.feeds.detect import KINDS
from storebot.catalog.feeds.policies import build_policy
from storebot.catalog.feeds.products import Context, build_product
from storebot.catalog.feeds.reviews import build_review
from storebot.catalog.models import Policy, Product, Review
from storebot.errors import FeedError

_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


class _LineReader:
    """Hands ijson at most one line per read, so a parse error can be pinned to its line."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.line = 1  # where the latest chunk starts
        self._newlines = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson probes the stream's type with read(0)
        chunk = self.stream.readline(size)
        if chunk:
            self.line = self._newlines + 1
            self._newlines += chunk.count(b"\n")
        return chunk


def json_items(stream: BinaryIO, kind: str) -> Iterator[tuple[int, Any]]:
    """``(1-based position, value)`` of each item in the feed's ``kind`` array.

    Raises FeedError, naming the line, when the document is not JSON or not
    one of the accepted shapes.
    """
    reader = _LineReader(stream)
    events = ijson.basic_parse(reader, use_float=False)
    try:
        yield from _walk(events, kind, reader)
        for _ in events:  # the rest of the document must still be valid
            pass
    except ijson.JSONError as exc:
        message, fix = _explain(str(exc))
        raise FeedError(message, line=reader.line, fix=fix) from None


def _walk(events: Iterator[tuple[str, Any]], kind: str, reader: _LineReader) -> Iterator[tuple[int, Any]]:
    shape_fix = f'Make the file a JSON array of {kind}, or an object like {{"{kind}": [...]}}.'
    event, value = next(events)
    if event == "start_array":
        yield from _array(events)
        return
    if event != "start_map":
        raise FeedError(f"the JSON document is a single {event}, not a list of {kind}", line=reader.line, fix=shape_fix)
    keys = []
    for event, key in events:
        if event == "end_map":
            break
        keys.append(key)
        event, value = next(events)
        if key == kind:
            if event != "start_array":
                raise FeedError(f'"{kind}" must be a JSON array', line=reader.line, fix=shape_fix)
            yield from _array(events)
            return
        if key in KINDS and event == "start_array":
            raise FeedError(
                f"this is a feed of {key}, not {kind}", line=reader.line, fix=f"Upload it as {key}, or check the file."
            )
        _skip(events, event)  # another key, e.g. export metadata
    if "id" in keys:
        raise FeedError(
            f"the JSON is a single record, not a list of {kind}", line=reader.line,
            fix="Wrap the records in [...]; if the file holds one object per line, upload it as jsonl.",
        )  # fmt: skip
    found = ", ".join(repr(k) for k in keys) or "no keys"
    raise FeedError(f'the JSON object has no "{kind}" array (it has {found})', line=reader.line, fix=shape_fix)


def _array(events: Iterator[tuple[str, Any]]) -> Iterator[tuple[int, Any]]:
    for position, (event, value) in enumerate(events, start=1):
        if event == "end_array":
            return
        yield position, _build(events, event, value)


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    # Walks past a value without building it: it may be large and is not needed.
    depth = int(event in _STARTS)
    while depth:
        event, _ = next(events)
        depth += (event in _STARTS) - (event in _ENDS)


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
    if event not in _STARTS:
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    while depth:
        event, value = next(events)
        builder.event(event, value)
        depth += (event in _STARTS) - (event in _ENDS)
    return builder.value


def _explain(error: str) -> tuple[str, str]:
    """A merchant-readable message and fix for an ijson/yajl error text."""
    if "premature EOF" in error or "Incomplete JSON" in error:
        return "the JSON ends too early", "The file looks cut short: upload it again, or check its end."
    if "trailing garbage" in error or "Additional data" in error:
        return (
            "there is more after the JSON document ends",
            "A JSON file holds one array or object. If it has one object per line, upload it as jsonl.",
        )
    if "UTF8" in error or "utf-8" in error.lower():
        return "the JSON is not valid UTF-8", "Re-save the file as UTF-8."
    first = re.sub(r"^b['\"]", "", error).split("\n")[0].strip().rstrip(".")
    return f"the JSON is broken ({first})", "Fix the JSON at this line; `python -m json.tool` shows the spot."


def build_record(obj: Any, check: RowCheck, kind: str, ctx: Context) -> Product | Review | Policy | None:
    """The record of ``kind`` from one decoded JSON object."""
    if not isinstance(obj, Mapping):
        check.add(None, f"expected a JSON object for each of the {kind}, found {type(obj).__name__}")
        return None
    if kind == "products":
        return build_product(obj, check, ctx)
    if kind == "reviews":
        return build_review(obj, check)
    return build_policy(obj, check)


def parse_json(stream: BinaryIO, kind: str, ctx: Context) -> Iterator[ParsedRow]:
    """Rows of a JSON feed; row errors are numbered by item position."""
    for position, obj in json_items(stream, kind):
        check = RowCheck(position, unit="item")
        yield check.result(build_record(obj, check, kind, ctx))


def parse_jsonl(stream: BinaryIO, kind: str, ctx: Context) -> Iterator[ParsedRow]:
    """Rows of a JSON Lines feed: one object per line, blank lines skipped."""
    first = True
    for line, raw in enumerate(stream, start=1):
        if line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        is_first, first = first, False
        check = RowCheck(line)
        try:
            obj = json.loads(raw.strip().decode("utf-8"), parse_float=Decimal, parse_constant=Decimal)
        except UnicodeDecodeError:
            check.add(None, "the line is not valid UTF-8; re-save the file as UTF-8")
            yield check.result(None)
            continue
        except json.JSONDecodeError as exc:
            if is_first and raw.strip() in (b"[", b"{"):
                raise FeedError(
                    "this is a JSON document spread over lines, not JSON Lines", line=line,
                    fix="Upload it as json, or write one complete object per line.",
                ) from None  # fmt: skip
            reason = f"{exc.msg} at column {exc.colno}"
            check.add(None, f"the line is not valid JSON ({reason}); write one complete object per line")
            yield check.result(None)
            continue
        if is_first and isinstance(obj, list):
            raise FeedError(
                "the first line holds a JSON array, not one object", line=line,
                fix="Upload the file as json, or write one object per line.",
            )  # fmt: skip
        yield check.result(build_record(obj, check, kind, ctx))
