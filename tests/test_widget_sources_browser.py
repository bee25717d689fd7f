"""What an answer is based on, in real Chromium: the widget's "Based on N reviews" disclosure under an answer.

A live app serves the demo catalog (its products and policies, and the reviews of the two Ridge Shell jackets,
analysed into review summaries as the worker would). A question about what reviewers say is answered from the
summary, which cites review ids; the disclosure lists those reviews. A policy question lists the policies by title.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from storebot.catalog.ingest import SNIFF_BYTES, resolve_format
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.embedded_redis import free_port
from storebot.insights.review_analysis import analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.retrieval.indexer import update_index
from tests.browser import serving, storefront_app
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.browser
AXE = ROOT / "widgets" / "node_modules" / "axe-core" / "axe.min.js"
SHOT = Path("/tmp/notes/sources.png")
RIDGE_SHELLS = {"1001", "1002"}  # the men's and women's Ridge Shell Rain Jacket
ROOT_JS = "document.querySelector('storebot-chat').shadowRoot"


def demo_feed(name: str, kind: str) -> tuple[io.BytesIO, str]:
    raw = (FIXTURES / name).read_bytes()
    if kind == "reviews":  # analysing all 1,165 demo reviews takes minutes; the jackets' 40-odd take seconds
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["product_id"] in RIDGE_SHELLS)
        raw = out.getvalue().encode()
    return io.BytesIO(raw), resolve_format("auto", name, raw[:SNIFF_BYTES], kind)


@contextlib.contextmanager
def ridge_shell_storefront(redis_url: str, embedder, data_dir: str) -> Iterator[dict]:  # type: ignore[no-untyped-def, type-arg]
    """The storefront served on a free port, with the Ridge Shell slice of the demo synced, indexed and its
    reviews analysed: ``{"url", "services", "keys"}``."""
    port = free_port()
    app, services, store = storefront_app(redis_url, data_dir, port)
    services.__dict__["embedder"] = embedder
    keys = services.keys(store.id)
    for kind, name in (("products", "products.json"), ("reviews", "reviews.csv"), ("policies", "policies.json")):
        feed, fmt = demo_feed(name, kind)
        sync_feed(services.redis, keys, feed, SyncOptions(fmt=fmt, kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    analyze_reviews(services.catalog(store.id), ReviewInsightsStore(services.redis, keys), services.embedder)
    with serving(app, port, redis_url=redis_url, key_prefix=app.config["KEY_PREFIX"]):
        yield {"url": f"http://127.0.0.1:{port}/shop/{store.id}", "services": services, "keys": keys}


@pytest.fixture(scope="module")
def live(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[no-untyped-def, type-arg]
    with ridge_shell_storefront(redis_url, embedder, str(tmp_path_factory.mktemp("live"))) as served:
        yield served


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    # axe is injected inline, hence bypass_csp; the widget itself runs under the storefront's strict CSP elsewhere.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def ask(page, url: str, question: str):  # type: ignore[no-untyped-def]
    """Open the widget on ``url``, ask, and return the finished answer's locator."""
    page.goto(url)
    page.locator("storebot-chat [part='launcher']").click()
    page.locator("storebot-chat [role='dialog']").wait_for(state="visible")
    box = page.locator("storebot-chat form textarea")
    box.fill(question)
    box.press("Enter")
    answer = page.locator("storebot-chat [data-role='assistant'][data-state='done']").last
    answer.wait_for(timeout=120_000)
    return answer


def is_open(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(f"{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open"))


def cited_in(text: str) -> set[str]:
    """The review ids an answer cites: "... (reviews 1, 13, 2, 20)." -> {"1", "13", "2", "20"}; "(review 911)" too."""
    return {rid for group in re.findall(r"\breviews? (\w*\d\w*(?:, \w*\d\w*)*)", text) for rid in group.split(", ")}


def serious_axe_violations(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document.querySelector('storebot-chat'), {resultTypes: ['violations']})")
    return [(v["id"], v["impact"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_a_review_answer_shows_the_reviews_it_cites(page, live) -> None:  # type: ignore[no-untyped-def]
    answer = ask(page, f"{live['url']}/products/1001", "what do reviewers say about the fit of the Ridge Shell Jacket?")
    text = answer.locator("[part~='bubble']").inner_text()
    assert "runs small" in text, text
    sources = answer.locator("[part~='sources']")
    toggle = sources.locator("summary")
    assert re.fullmatch(r"Based on \d+ reviews?", toggle.inner_text().strip()), toggle.inner_text()
    assert not is_open(page), "the disclosure starts collapsed"
    assert not sources.locator("li").first.is_visible()

    toggle.focus()  # (focusing scrolls the toggle into view: the answer's place is measured after that)
    bubble_top = answer.locator("[part~='bubble']").bounding_box()["y"]  # type: ignore[index]
    assert page.evaluate(f"{ROOT_JS}.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    page.wait_for_function(f"{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open")
    page.keyboard.press(" ")
    page.wait_for_function(f"!{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open")
    page.keyboard.press(" ")
    page.wait_for_function(f"{ROOT_JS}.querySelector('[data-role=assistant] details.sources').open")

    items = sources.locator("li[data-review-id]")
    ids = items.evaluate_all("els => els.map(e => e.dataset.reviewId)")
    assert ids and len(ids) == int(re.search(r"\d+", toggle.inner_text()).group()), ids  # type: ignore[union-attr]
    assert cited_in(text) and cited_in(text) == set(ids), (text, ids)  # exactly the reviews the answer cites
    for review_id, item in zip(ids, items.all(), strict=True):
        assert item.locator(".ref").inner_text() == f"#{review_id}"
        assert re.fullmatch(r"Rated [0-5] out of 5", item.locator("[role='img']").get_attribute("aria-label") or "")
        quote = item.locator("q").inner_text()
        assert 20 < len(quote) <= 201, quote
    assert answer.locator("[part~='bubble']").bounding_box()["y"] == bubble_top, "opening moved the answer"  # type: ignore[index]

    SHOT.parent.mkdir(parents=True, exist_ok=True)
    answer.locator("[part~='bubble']").scroll_into_view_if_needed()
    page.evaluate(f"{ROOT_JS}.querySelector('.scroll').scrollTop -= 12")  # the answer's top edge, not flush
    page.locator("storebot-chat [role='dialog']").screenshot(path=str(SHOT))
    page.evaluate("document.querySelector('storebot-chat').setAttribute('theme', 'dark')")
    page.locator("storebot-chat [role='dialog']").screenshot(path=str(SHOT.with_name("sources-dark.png")))
    assert not serious_axe_violations(page)


def without_sources_event(route) -> None:  # type: ignore[no-untyped-def]
    """Pass the chat stream through with its `sources` event cut out, as an older server would send it."""
    response = route.fetch()
    body = re.sub(r"event: sources\ndata: .*?\n\n", "", response.text())
    assert body != response.text(), "the stream had no sources event to remove"
    route.fulfill(response=response, body=body)


def test_the_listed_reviews_are_the_ones_the_answer_cites(page, live) -> None:  # type: ignore[no-untyped-def]
    # Without a `sources` event the widget lists the final response's citations (ChatResponse.citations).
    page.route("**/api/v1/chat/stream*", without_sources_event)
    answer = ask(page, f"{live['url']}/products/1001", "what do people say about the Ridge Shell Jacket?")
    text = answer.locator("[part~='bubble']").inner_text()
    # The name fits the men's and the women's jacket; asked on the men's page, it is the men's.
    assert "Men's Ridge Shell" in text and "Women's" not in text, text
    answer.locator("[part~='sources'] summary").press("Enter")
    ids = answer.locator("[part~='sources'] li[data-review-id]").evaluate_all("els => els.map(e => e.dataset.reviewId)")
    assert len(ids) >= 2 and set(ids) == cited_in(text), (text, ids)


@pytest.mark.slow  # a policy answer gets its closing line from the bundled chat model
def test_a_policy_answer_names_the_policies_it_used(page, live) -> None:  # type: ignore[no-untyped-def]
    answer = ask(page, live["url"], "what is your returns policy?")
    toggle = answer.locator("[part~='sources'] summary")
    assert re.fullmatch(r"Based on (our policy: .+|\d+ store policies)", toggle.inner_text().strip())
    toggle.press("Enter")
    names = answer.locator("[part~='sources'] li.policy").evaluate_all("els => els.map(e => e.dataset.policy)")
    assert "Returns & Exchanges" in names, names  # the policy's title, sent in the sources event
    assert not answer.locator("[part~='sources'] li[data-review-id]").count()
    page.locator("storebot-chat [role='dialog']").screenshot(path=str(SHOT.with_name("sources-policy.png")))
