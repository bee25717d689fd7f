"""The merchant dashboard in real Chromium (Debian's, driven by Playwright) against a live server with the demo store.

The server runs the real app in a thread over real Redis: the demo catalog (180 products, 1,165 reviews, policies)
synced through sync jobs, plus one feed with bad rows; the real index and embedding model; a real chat turn through
the chat API with the bundled local model. Screenshots land in tests/screenshots/ (gitignored) to be looked at.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from playwright.sync_api import expect

from storebot.app import create_app
from storebot.catalog.ingest import SNIFF_BYTES, resolve_format, run_sync
from storebot.catalog.sync import SyncOptions
from storebot.chat.history_view import answer_metadata, short_quote
from storebot.chat.types import Citation
from storebot.embedded_redis import free_port
from storebot.insights.review_analysis import AnalysisSettings, analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.retrieval.indexer import update_index
from storebot.tuning.pipeline import models_for, runs_for
from tests.browser import serving
from tests.conftest import FIXTURES, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # the shared fixture embeds the catalog
SHOTS = ROOT / "tests" / "screenshots"
AXE = ROOT / "widgets" / "node_modules" / "axe-core" / "axe.min.js"
BAD_FEED = b"id,title,price\n9001,Trail Mug,12.00\n9002,Broken Price Mug,twelve\n9003,,8.00\n"
CHART_PRODUCT = "1002"  # Women's Ridge Shell Rain Jacket: 26 reviews over 14 months
INSIGHT_PRODUCTS = {"1002", "1026", "1103", "1060"}  # the demo's most-reviewed products
HOSTILE_QUOTE = '<img src=x onerror="window.pwned=1">Zip <b>broke</b> in a week'


def _sync(services, store_id: str, kind: str, name: str, data: bytes) -> str:  # type: ignore[no-untyped-def]
    fmt = resolve_format("auto", name, data[:SNIFF_BYTES], kind)
    jobs = services.jobs(store_id)
    job_id = jobs.create(kind=kind, fmt=fmt, filename=name, options={})
    jobs.start(job_id)
    run_sync(services.redis, services.keys(store_id), jobs, job_id, io.BytesIO(data), SyncOptions(fmt=fmt, kind=kind))
    return job_id


def _sync_demo_slice(services, store_id: str, product_ids: set[str]) -> None:  # type: ignore[no-untyped-def]
    """The demo's products ``product_ids`` and their reviews, synced into ``store_id``."""
    feed = json.loads((FIXTURES / "products.json").read_text())
    feed["products"] = [p for p in feed["products"] if str(p["id"]) in product_ids]
    _sync(services, store_id, "products", "products.json", json.dumps(feed).encode())
    reader = csv.DictReader((FIXTURES / "reviews.csv").open(newline=""))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
    writer.writeheader()
    writer.writerows(r for r in reader if r["product_id"] in product_ids)
    _sync(services, store_id, "reviews", "reviews.csv", out.getvalue().encode())


@pytest.fixture(scope="module")
def live(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    prefix = f"d{uuid.uuid4().hex[:8]}"
    config = {"REDIS_URL": redis_url, "KEY_PREFIX": prefix, "TESTING": True, "CELERY": {"task_default_queue": prefix}}
    app = create_app(config | {"DATA_DIR": str(tmp_path_factory.mktemp("dash"))})
    services = app.extensions["storebot"]
    services.__dict__["embedder"] = embedder
    store, secret = services.stores.create("Northwind Trail Co.", [f"http://127.0.0.1:{port}"], store_id="demo")
    for kind, name in (("products", "products.json"), ("policies", "policies.json")):
        _sync(services, store.id, kind, name, (FIXTURES / name).read_bytes())
    bad_job = _sync(services, store.id, "products", "mugs.csv", BAD_FEED)
    # Embedding 1,165 reviews takes minutes on a busy machine: the index holds products and policies, and the
    # reviews are synced after it (in the catalog, listed and charted, not in the vector index).
    update_index(services.redis, services.keys(store.id), services.index_root, services.embedder)
    _sync(services, store.id, "reviews", "reviews.csv", (FIXTURES / "reviews.csv").read_bytes())

    client = app.test_client()
    pk = {"X-Storebot-Key": store.publishable_key}
    question = {"message": "a waterproof rain jacket under $150", "session_id": "real-chat-0001"}
    answer = client.post("/api/v1/chat", json=question, headers=pk).json
    assert answer["cards"], answer
    client.post("/api/v1/chat/real-chat-0001/feedback", json={"rating": "down", "comment": "too pricey"}, headers=pk)
    sessions = services.sessions(store.id)
    for n, (question, reply) in enumerate([("do you ship to Canada?", "Yes, in 5 to 8 days."),
                                           ("need a tent for two", "Here are two tents.")]):  # fmt: skip
        session = sessions.open(f"seeded-chat-{n:04d}")
        session.history.add_messages([HumanMessage(question), AIMessage(reply)])
        session.update(new_turn=True)
        time.sleep(0.01)

    turn = client.get("/api/v1/chat/seeded-chat-0001/history", headers=pk).json["messages"][1]["id"]
    client.post("/api/v1/chat/seeded-chat-0001/feedback", json={"rating": "up", "turn": turn}, headers=pk)  # -> pending
    runs = runs_for(services, store.id)
    run_id = runs.create(trigger="manual", backend="local", state="running")
    model = models_for(services, store.id).add(
        backend="local",
        base_model="SmolLM2-135M-Instruct",
        model="smollm2-135m-demo-style",
        data_hash="0" * 16,
        hyperparameters={"epochs": 2, "lora_rank": 8},
        metrics={"eval_loss": 1.82, "style_score": 0.74},
        run_id=run_id,
    )
    runs.finish(run_id, "succeeded", "trained", version=model["version"], metrics=model["metrics"])

    with serving(app, port, redis_url=redis_url, key_prefix=prefix):
        yield {
            "services": services,
            "url": f"http://127.0.0.1:{port}",
            "secret": secret,
            "bad_job": bad_job,
            "first_card": answer["cards"][0]["title"],
        }


@pytest.fixture(scope="module")
def insights_store(live) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A second store on the live server with the demo's four most-reviewed products and their 103 reviews, analysed.

    The review analysis embeds every review sentence: for all 1,165 demo reviews that is minutes of CPU, so the
    sentiment chart is tested on this slice of the demo data.
    """
    services = live["services"]
    store, secret = services.stores.create("Northwind Review Lab", [], store_id="review-lab")
    _sync_demo_slice(services, store.id, INSIGHT_PRODUCTS)
    analyze_reviews(services.catalog(store.id), ReviewInsightsStore(services.redis, services.keys(store.id)),
                    services.embedder, AnalysisSettings.from_settings(services.settings))  # fmt: skip
    return {"url": live["url"], "secret": secret, "store": store.id}


@pytest.fixture(scope="module")
def sources_store(live) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A store on the live server whose chat answers cite reviews and policies: the demo's four most-reviewed
    products, their 103 reviews and the demo policies, indexed; two real chat turns (the bundled local model, over
    HTTP), and an answer stored with a hostile review quote beside one stored before sources were kept."""
    services = live["services"]
    store, secret = services.stores.create("Northwind Sources Lab", [], store_id="sources-lab")
    _sync_demo_slice(services, store.id, INSIGHT_PRODUCTS)
    _sync(services, store.id, "policies", "policies.json", (FIXTURES / "policies.json").read_bytes())
    update_index(services.redis, services.keys(store.id), services.index_root, services.embedder)
    answers = []
    for message in ("what do reviewers say about the Women's Ridge Shell Rain Jacket?", "what is your return policy?"):
        request = urllib.request.Request(
            f"{live['url']}/api/v1/chat", json.dumps({"message": message, "session_id": "sources-chat-0001"}).encode(),
            headers={"Content-Type": "application/json", "X-Storebot-Key": store.publishable_key})  # fmt: skip
        with urllib.request.urlopen(request, timeout=300) as response:
            answers.append(json.loads(response.read()))
    assert answers[0]["citations"] and answers[1]["policy_sources"], answers
    hostile = answer_metadata([], [Citation("evil-1", "1002", 1, HOSTILE_QUOTE)], ["returns#0", "shipping#1"])
    services.sessions(store.id).open("sources-seeded-0002").history.add_messages([
        HumanMessage("is the zip any good?"), AIMessage("Reviewers disagree.", response_metadata=hostile),
        HumanMessage("hello?"), AIMessage("Hello! How can I help?"),  # stored before sources were kept
    ])  # fmt: skip
    services.sessions(store.id).open("sources-seeded-0002").update(new_turn=True)
    return {"url": live["url"], "secret": secret, "store": store.id, "answers": answers}


@pytest.fixture
def page(browser, live):  # type: ignore[no-untyped-def]
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.csp_errors.append(f"page error: {exc}"))
    yield page
    assert not page.csp_errors, page.csp_errors  # every test: no CSP violation, no uncaught script error
    context.close()


def sign_in(page, live, section: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live['url']}/dashboard{'#' + section if section else ''}")
    page.fill("#secret-key", live["secret"])
    page.press("#secret-key", "Enter")
    page.locator("[role=tablist]").wait_for()


def open_transcript(page, store, session_id: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in to ``store``'s conversations and open one session's transcript."""
    sign_in(page, store, "conversations")
    assert settled(page, "#conversation-list") == "ready"
    page.click(f"button[data-session='{session_id}']")
    assert settled(page, "#transcript") == "ready"


def settled(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    """Wait until a guarded block has loaded; its state: ready, or unavailable for an API not deployed yet."""
    page.wait_for_function(
        "s => ['ready', 'unavailable', 'error'].includes(document.querySelector(s)?.dataset.state)",
        arg=selector,
        timeout=30_000,
    )
    return page.locator(selector).get_attribute("data-state")  # type: ignore[no-any-return]


def test_sign_in_refuses_a_wrong_key_and_forgets_the_key_on_sign_out(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live['url']}/shop/demo")
    page.get_by_role("link", name="Merchant dashboard").click()
    page.fill("#secret-key", "sk_not_a_real_key")
    page.press("#secret-key", "Enter")
    expect(page.locator("#sign-in-error")).to_contain_text("does not open any store")
    page.fill("#secret-key", live["secret"])
    page.press("#secret-key", "Enter")
    expect(page.locator("#store-name")).to_have_text("Northwind Trail Co. (demo)")
    assert page.evaluate("document.cookie") == ""  # the key is not a cookie: no CSRF surface
    page.reload()  # the key survives a reload of this tab
    page.locator("[role=tablist]").wait_for()
    page.click("#sign-out")
    page.locator("#secret-key").wait_for()
    assert page.evaluate("sessionStorage.length") == 0


def test_catalog_shows_syncs_errors_download_index_and_search(page, live, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live)
    assert settled(page, "#syncs") == "ready"
    table = page.locator("#sync-table")
    assert table.locator("tbody tr").count() == 4
    assert "mugs.csv" in table.inner_text() and "products.json" in table.inner_text()
    page.click(f"button[data-job='{live['bad_job']}']")
    assert settled(page, "#sync-errors") == "ready"
    errors = page.locator("#error-table tbody tr")
    assert errors.count() == 2
    assert "price" in errors.nth(0).inner_text() and "line 3" in errors.nth(0).inner_text()
    with page.expect_download() as download_info:
        page.click("#download-errors")
    saved = tmp_path / "errors.csv"
    download_info.value.save_as(saved)
    rows = list(csv.reader(saved.open()))
    assert rows[0][:3] == ["unit", "line", "field"] and len(rows) == 3
    assert download_info.value.suggested_filename.startswith("sync-")

    assert settled(page, "#index-status") == "ready"
    assert page.locator("[data-field=version]").inner_text() == "1"
    assert "MB" in page.locator("[data-field=size]").inner_text()

    page.fill("#search-q", "waterproof jacket under $150 in medium")
    page.press("#search-q", "Enter")
    assert settled(page, "#search-results") == "ready"
    chips = page.locator("#search-results .chip").all_inner_texts()
    assert any(c.startswith("price_max") and "150" in c for c in chips), chips
    assert any(c.startswith("size") for c in chips), chips
    scores = [float(s) for s in page.locator("#search-table tbody tr td:nth-child(4)").all_inner_texts()]
    assert len(scores) >= 3 and scores == sorted(scores, reverse=True) and scores[0] > 0
    page.screenshot(path=str(SHOTS / "dashboard-catalog.png"), full_page=True)


def test_conversations_transcripts_cards_feedback_and_search(page, live) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live, "conversations")
    assert settled(page, "#conversation-list") == "ready"
    assert page.locator("button.conversation").count() == 3
    page.fill("#conversation-q", "rain jacket")
    page.press("#conversation-q", "Enter")
    expect(page.locator("button.conversation")).to_have_count(1)
    page.click("button[data-session='real-chat-0001']")
    assert settled(page, "#transcript") == "ready"
    transcript = page.locator("#transcript")
    assert transcript.locator("[data-role=shopper]").inner_text().endswith("a waterproof rain jacket under $150")
    assert live["first_card"] in transcript.locator(".pcard").first.inner_text()
    assert "unhelpful: “too pricey”" in transcript.locator(".feedback.down").inner_text()
    assert settled(page, "#handoffs") in ("ready",)
    page.screenshot(path=str(SHOTS / "dashboard-conversations.png"), full_page=True)


def test_review_chart_has_a_point_per_month(page, live) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live, "reviews")
    assert settled(page, "#review-controls") == "ready"
    page.select_option("#review-product", CHART_PRODUCT)
    reviews = [r for r in csv.DictReader((FIXTURES / "reviews.csv").open()) if r["product_id"] == CHART_PRODUCT]
    months = sorted({r["date"][:7] for r in reviews})
    chart = page.wait_for_function(  # read in the same check that finds it complete: the section may redraw
        "n => { const c = document.getElementById('rating-chart')?.chart;"
        " return c && c.getDatasetMeta(0).data.length === n && {labels: [...c.data.labels],"
        " data: [...c.data.datasets[0].data], drawn: c.getDatasetMeta(0).data.length}; }",
        arg=len(months),
        timeout=30_000,
    ).json_value()
    assert chart["labels"] == months and chart["drawn"] == len(months)
    first = [int(r["rating"]) for r in reviews if r["date"].startswith(months[0])]
    assert chart["data"][0] == round(sum(first) / len(first), 2)
    # Sections over APIs still being built show a clear state, never an error.
    assert settled(page, "#insights") in ("ready", "unavailable")
    page.screenshot(path=str(SHOTS / "dashboard-reviews.png"), full_page=True)


def test_sentiment_chart_and_complaints_with_their_reviews(page, insights_store) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, insights_store, "reviews")
    assert settled(page, "#review-controls") == "ready"
    page.select_option("#review-product", CHART_PRODUCT)
    expected = page.evaluate(
        "async id => (await (await fetch('/api/v1/insights/sentiment?interval=month&product=' + id,"
        " {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('storebot.dashboard.secret')}})).json()).points",
        CHART_PRODUCT,
    )
    assert len(expected) >= 3
    # Read the drawn chart in the same check that finds it complete: the section may redraw (a new canvas) when the
    # review analysis finishes, so a second evaluate could meet a canvas whose chart is not attached yet.
    drawn = page.wait_for_function(
        "n => { const c = document.getElementById('sentiment-chart')?.chart;"
        " return c && c.getDatasetMeta(0).data.length === n"
        " && {labels: [...c.data.labels], data: [...c.data.datasets[0].data]}; }",
        arg=len(expected),
        timeout=30_000,
    ).json_value()
    assert drawn["labels"] == [p["period"] for p in expected]
    assert drawn["data"] == [p["mean_score"] for p in expected]

    assert settled(page, "#insights") == "ready"
    complaints = page.locator("#complaints > li")
    assert complaints.count() >= 1
    complaints.first.get_by_role("button", name="Show the reviews").click()
    reviews = complaints.first.locator(".review-list li[data-review]")
    expect(reviews.first).to_be_visible(timeout=30_000)
    assert reviews.first.get_by_role("link").get_attribute("href").startswith("/shop/review-lab/products/")
    page.screenshot(path=str(SHOTS / "dashboard-reviews-sentiment.png"), full_page=True)


def test_approving_an_example_moves_it_to_the_training_set(page, live) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live, "conversations")
    assert settled(page, "#pending-examples") == "ready"
    assert settled(page, "#training-set") == "ready"
    assert page.locator("#dataset-facts [data-field=approved]").inner_text() == "0"
    pending = page.locator("#pending-examples li.example")
    assert pending.count() == 1 and "need a tent for two" in pending.first.inner_text()
    pending.first.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.locator("#pending-examples li.example")).to_have_count(0)
    expect(page.locator("#dataset-facts [data-field=approved]")).to_have_text("1")
    expect(page.locator("#approved-examples li.example")).to_contain_text("need a tent for two")
    page.screenshot(path=str(SHOTS / "dashboard-approved.png"), full_page=True)


def test_recommendations_preview(page, live) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live, "recommendations")
    assert settled(page, "#recs-controls") == "ready"
    page.select_option("#recs-product", CHART_PRODUCT)
    assert settled(page, "#recs-similar") == "ready"
    expect(page.locator("#recs-similar .pcard").first).to_be_visible()
    assert CHART_PRODUCT not in page.locator("#recs-similar .pcard").evaluate_all(
        "cs => cs.map(c => c.dataset.productId)"
    )
    assert settled(page, "#recs-complementary") in ("ready",)
    page.wait_for_function(  # every card's picture is served and decoded (not a broken image)
        "() => [...document.querySelectorAll('#recs-similar img, #recs-complementary img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=15_000,
    )
    page.screenshot(path=str(SHOTS / "dashboard-recommendations.png"), full_page=True)


def test_fine_tunes_promote_and_roll_back(page, live) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live, "fine-tunes")
    assert settled(page, "#runs") == "ready"
    assert (
        "succeeded" in page.locator("#run-table").inner_text()
        and "eval_loss 1.82" in page.locator("#run-table").inner_text()
    )
    assert settled(page, "#models") == "ready"
    assert page.locator("#active-model").inner_text() == "the base model"
    page.get_by_role("button", name="Promote model v1").click()
    expect(page.locator("#active-model")).to_have_text("v1")
    page.screenshot(path=str(SHOTS / "dashboard-fine-tunes.png"), full_page=True)
    page.click("#rollback")
    expect(page.locator("#active-model")).to_have_text("the base model")
    expect(page.locator("#model-status")).to_contain_text("Rolled back")


def test_keyboard_only_navigation_with_visible_focus(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live['url']}/dashboard")
    page.locator("#secret-key").wait_for()
    assert page.evaluate("document.activeElement.id") == "secret-key"  # focused on load
    page.keyboard.type(live["secret"])
    page.keyboard.press("Enter")
    page.locator("[role=tablist]").wait_for()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('role')") == "tab":
            break
    else:
        pytest.fail("the section tabs are not reachable with Tab")
    assert page.evaluate("document.activeElement.id") == "tab-catalog"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "focus must be visible"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-conversations"
    assert page.locator("#panel-conversations").is_visible() and not page.locator("#panel-catalog").is_visible()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-fine-tunes"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    settled(page, "#conversation-list")
    # Into the panel and on to the first conversation; Enter opens its transcript.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('conversation')"):
            break
    else:
        pytest.fail("no conversation is reachable with Tab")
    page.keyboard.press("Enter")
    assert settled(page, "#transcript") == "ready"
    assert page.evaluate("document.activeElement.id") == "transcript"
    page.screenshot(path=str(SHOTS / "dashboard-keyboard.png"))


def test_axe_finds_no_serious_violations_in_any_section(browser, live) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=True, viewport={"width": 1360, "height": 900})  # axe is injected inline
    page = context.new_page()
    sign_in(page, live)
    page.add_script_tag(path=str(AXE))
    found = {}
    for tab, block in (("Catalog", "#syncs"), ("Conversations", "#conversation-list"), ("Reviews", "#review-controls"),
                       ("Recommendations", "#recs-similar"), ("Fine-tunes", "#models")):  # fmt: skip
        page.get_by_role("tab", name=tab).click()
        settled(page, block)
        page.wait_for_timeout(300)  # charts and late blocks
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found[tab] = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
                      if v["impact"] in ("serious", "critical")]  # fmt: skip
    context.close()
    assert not any(found.values()), found


def test_a_transcript_shows_the_reviews_and_policies_an_answer_was_based_on(page, sources_store) -> None:  # type: ignore[no-untyped-def]
    open_transcript(page, sources_store, "sources-chat-0001")
    reviewed, policy = page.locator("#transcript [data-role=assistant]").all()
    cited = list(dict.fromkeys(c["review_id"] for c in sources_store["answers"][0]["citations"]))
    disclosure = reviewed.locator("details.sources")
    expect(disclosure.locator("summary")).to_have_text(f"Based on {len(cited)} review{'s' if len(cited) > 1 else ''}")
    assert disclosure.evaluate("d => d.open") is False, "collapsed by default"
    expect(disclosure.locator("li.source").first).to_be_hidden()

    # Keyboard only: Tab from the transcript reaches the toggle, which shows a focus ring; Enter opens it.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    else:
        pytest.fail("the sources toggle is not reachable with Tab")
    assert page.evaluate("document.activeElement.closest('details') === document.querySelector('details.sources')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") not in ("none", "")
    page.keyboard.press("Enter")
    assert disclosure.evaluate("d => d.open") is True
    items = disclosure.locator("li.source[data-review-id]")
    expect(items.first).to_be_visible()
    assert items.evaluate_all("ls => ls.map(l => l.dataset.reviewId)") == cited
    by_id = {c["review_id"]: c for c in reversed(sources_store["answers"][0]["citations"])}
    for item, review_id in zip(items.all(), cited, strict=True):
        source = by_id[review_id]
        assert item.locator(".ref").inner_text() == f"#{review_id}"
        assert item.locator("q").inner_text() == short_quote(source["text"])
        assert item.locator(".stars").get_attribute("aria-label") == f"{source['rating']} of 5 stars"
        assert item.locator(".stars").inner_text() == "★" * source["rating"] + "☆" * (5 - source["rating"])
    expect(policy.locator("details.sources summary")).to_have_text("Based on Returns & Exchanges")
    page.screenshot(path=str(SHOTS / "dashboard-sources.png"), full_page=True)
    page.keyboard.press("Enter")  # and closes it again
    assert disclosure.evaluate("d => d.open") is False


def test_transcript_sources_are_text_and_old_answers_have_none(page, sources_store) -> None:  # type: ignore[no-untyped-def]
    open_transcript(page, sources_store, "sources-seeded-0002")
    answer, old = page.locator("#transcript [data-role=assistant]").all()
    answer.locator("details.sources summary").click()
    expect(answer.locator("summary")).to_have_text("Based on 1 review · Returns & Exchanges, Shipping")
    review = answer.locator("li.source[data-review-id='evil-1']")
    expect(review.locator("q")).to_have_text(HOSTILE_QUOTE)  # shown as the shopper typed it, not parsed
    assert review.locator("q *").count() == 0 and page.locator("#transcript img").count() == 0
    assert page.evaluate("window.pwned") is None
    policies = answer.locator("li.source.policy").evaluate_all("ls => ls.map(l => l.dataset.policy)")
    assert policies == ["returns", "shipping"]
    assert old.locator("details.sources").count() == 0 and "Hello! How can I help?" in old.inner_text()
    page.screenshot(path=str(SHOTS / "dashboard-sources-hostile.png"), full_page=True)


def test_axe_finds_no_serious_violations_in_open_sources(browser, sources_store) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=True, viewport={"width": 1360, "height": 900})  # axe is injected inline
    page = context.new_page()
    open_transcript(page, sources_store, "sources-chat-0001")
    for summary in page.locator("#transcript details.sources summary").all():
        summary.click()
    assert page.locator("#transcript details.sources[open]").count() == 2
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run('#transcript', {resultTypes: ['violations']})")
    context.close()
    found = [
        (v["id"], v["impact"], len(v["nodes"])) for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not found, found
