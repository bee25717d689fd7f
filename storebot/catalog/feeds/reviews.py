"""Build :class:`Review` records from feed fields (CSV columns or JSON keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storebot.catalog.feeds.common import RowCheck, boolean, iso_date, rating, text
from storebot.catalog.models import Review
from storebot.catalog.text import html_to_text, looks_like_html


def build_review(data: Mapping[str, Any], check: RowCheck) -> Review | None:
    """A review from ``id, product_id, rating, title, body, author, date, verified``.

    Example:
        >>> build_review({"id": "r1", "product_id": "jkt-1", "rating": "4.0",
        ...               "date": "2026-03-14T09:30:00Z", "verified": "yes"}, RowCheck(2))
        Review(id='r1', product_id='jkt-1', rating=4, title='', body='', author='', date='2026-03-14', verified=True)
    """
    rid = check.require("id", data.get("id"), "give every review a unique id")
    check.record_id = rid or None
    product_id = check.require("product_id", data.get("product_id"), "name the id of the product reviewed")
    fields = {
        "rating": check.value("rating", rating, data.get("rating")),
        "title": check.value("title", text, data.get("title")),
        "body": check.value("body", text, data.get("body")),
        "author": check.value("author", text, data.get("author")),
        "date": check.value("date", iso_date, data.get("date")),
        "verified": check.value("verified", boolean, data.get("verified")),
    }
    if check.failed:
        return None
    for name in ("title", "body", "author"):  # shoppers' text: markup is never passed on as markup, only its text
        if looks_like_html(fields[name]):
            fields[name] = html_to_text(fields[name])
    return Review(id=rid, product_id=product_id, **fields)
