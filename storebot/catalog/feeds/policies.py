"""Build :class:`Policy` records (shipping, returns, FAQ) from feed fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storebot.catalog.feeds.common import RowCheck, text
from storebot.catalog.models import Policy
from storebot.catalog.text import html_to_text, looks_like_html


def build_policy(data: Mapping[str, Any], check: RowCheck) -> Policy | None:
    """A policy from ``id, title, body``; an HTML body becomes plain text, a missing title the id.

    Example:
        >>> build_policy({"id": "returns", "body": "<p>30 days.</p>"}, RowCheck(1))
        Policy(id='returns', title='Returns', body='30 days.')
    """
    pid = check.require("id", data.get("id"), 'give every policy an id such as "shipping" or "returns"')
    check.record_id = pid or None
    body = check.require("body", data.get("body"), "add the policy's text")
    title = check.value("title", text, data.get("title"))
    if check.failed:
        return None
    # Store pages are usually exported as HTML; the assistant quotes text.
    if looks_like_html(body):
        body = html_to_text(body)
    return Policy(id=pid, title=title or pid.replace("_", " ").replace("-", " ").capitalize(), body=body)
