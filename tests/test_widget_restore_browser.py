"""A reloaded storefront restores the conversation as it looked, in real Chromium: each answer's product cards
(with the catalog's price now) and its "Based on N reviews" sources.

A live app serves the demo catalog with the Ridge Shell jackets' reviews analysed (as in
tests/test_widget_sources_browser.py), so a question about what reviewers say is answered from the review summary:
a card for the jacket and the reviews it cites, with no model call.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from storebot.catalog.sync import SyncOptions, sync_feed
from tests.conftest import FIXTURES, ROOT
from tests.test_widget_sources_browser import ROOT_JS, ask, live, page, serious_axe_violations  # noqa: F401

pytestmark = pytest.mark.browser
SHOT = ROOT / "tests" / "screenshots" / "restored-conversation.png"
QUESTION = "what do reviewers say about the fit of the Ridge Shell Jacket?"


def put_jacket_on_sale(served: dict, price: str) -> None:  # type: ignore[type-arg]
    """The merchant marks the men's Ridge Shell down to ``price`` (from $139) after the conversation."""
    products = json.loads((FIXTURES / "products.json").read_text())["products"]
    jacket = next(p for p in products if p["id"] == 1001)
    for variant in jacket["variants"]:
        variant["price"], variant["compare_at_price"] = price, "139.00"
    feed = io.BytesIO(json.dumps({"products": [jacket]}).encode())
    sync_feed(served["services"].redis, served["keys"], feed, SyncOptions(fmt="shopify", kind="products"))


def shown(answer) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """What an answer shows: its text, cards, sources toggle and cited review ids."""
    sources = answer.locator("[part~='sources']")
    return {
        "text": answer.locator("[part~='bubble']").inner_text(),
        "cards": answer.locator("[part~='card']").evaluate_all("els => els.map(e => e.dataset.productId)"),
        "toggle": sources.locator("summary").inner_text().strip(),
        "reviews": sources.locator("li[data-review-id]").evaluate_all("els => els.map(e => e.dataset.reviewId)"),
    }


def test_a_reloaded_page_restores_the_answers_cards_and_sources(page, live) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    answer = ask(page, f"{live['url']}/products/1001", QUESTION)
    before = shown(answer)
    assert before["cards"] == ["1001"] and "$139.00" in answer.locator("[part~='price']").inner_text()
    assert re.fullmatch(r"Based on \d+ reviews?", before["toggle"]) and len(before["reviews"]) >= 2, before

    put_jacket_on_sale(live, "109.00")
    page.reload()
    page.locator("storebot-chat [part='launcher']").click()
    restored = page.locator("storebot-chat [data-role='assistant'][data-state='done']")
    restored.first.wait_for(timeout=30_000)
    assert restored.count() == 1 and page.locator("storebot-chat [data-role='shopper']").inner_text().endswith(QUESTION)
    after = shown(restored.first)
    assert after == before, "the restored answer shows the same text, cards, toggle and reviews"

    card = restored.first.locator("[part~='card']")
    price = card.locator("[part~='price']")
    assert price.locator(".sale").inner_text() == "$109.00" and price.locator(".was").inner_text() == "$139.00"
    assert card.locator("[part~='add-to-cart']").is_enabled()
    assert restored.first.locator("[part~='feedback-up']").count() == 1, "the restored answer can still be rated"
    assert not page.evaluate(f"{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open"), "collapsed"
    SHOT.parent.mkdir(exist_ok=True)
    card.scroll_into_view_if_needed()
    page.locator("storebot-chat [role='dialog']").screenshot(path=str(SHOT))

    toggle = restored.first.locator("[part~='sources'] summary")
    toggle.press("Enter")
    page.wait_for_function(f"{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open")
    assert restored.first.locator("[part~='sources'] li[data-review-id] q").first.is_visible()
    toggle.scroll_into_view_if_needed()
    page.locator("storebot-chat [role='dialog']").screenshot(path=str(SHOT.with_name("restored-sources.png")))
    assert not serious_axe_violations(page)
