"""The chat widget in real Chromium (Debian's, driven by Playwright) against a live storebot server.

The server runs the real app in a thread: real Redis, the real index and embedding model, and the bundled local
chat model. Screenshots land in tests/screenshots/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from storebot.app import create_app
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.embedded_redis import free_port
from storebot.retrieval.indexer import update_index
from tests.browser import serving
from tests.conftest import ROOT
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl

pytestmark = pytest.mark.browser
SHOTS = ROOT / "tests" / "screenshots"
AXE = ROOT / "widgets" / "node_modules" / "axe-core" / "axe.min.js"
XSS_TITLE = 'Oddity lamp <img src=x onerror=alert(1)> & "friends" <3'
XSS_TITLE_AS_TEXT = 'Oddity lamp & "friends" <3'  # sync keeps a title's text, never its markup


@pytest.fixture(scope="module")
def live(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    prefix = f"w{uuid.uuid4().hex[:8]}"
    app = create_app(
        {
            "REDIS_URL": redis_url,
            "KEY_PREFIX": prefix,
            "TESTING": True,
            "DATA_DIR": str(tmp_path_factory.mktemp("live")),
            "CELERY": {"task_default_queue": prefix},
        }
    )
    services = app.extensions["storebot"]
    services.__dict__["embedder"] = embedder
    store, _secret = services.stores.create("Trail Test Shop", [f"http://127.0.0.1:{port}"], store_id="shop")
    keys = services.keys(store.id)
    products = [
        *PRODUCTS,
        {
            "id": "xss-1",
            "title": XSS_TITLE,
            "price": "9.00",
            "category": ["Gear", "Oddities"],
            "description": "A product whose name tries to run a script.",
        },
    ]
    for kind, records in (("products", products), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    with serving(app, port, redis_url=redis_url, key_prefix=prefix):
        yield {"url": f"http://127.0.0.1:{port}", "store": store.id, "key": store.publishable_key}


@pytest.fixture
def page(browser, live):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def shop(live: dict[str, str], path: str = "") -> str:
    return f"{live['url']}/shop/{live['store']}{path}"


def open_widget(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("storebot-chat [part='launcher']").click()
    page.locator("storebot-chat [role='dialog']").wait_for(state="visible")


def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("storebot-chat form textarea, storebot-chat form input[type='text']").first
    box.fill(text)
    box.press("Enter")


def last_answer(page):  # type: ignore[no-untyped-def]
    return page.locator("storebot-chat [data-role='assistant']").last


def test_ask_stream_cards_add_to_cart_and_history(page, live) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(exist_ok=True)
    page.goto(shop(live))
    page.evaluate(
        "window.__carts = []; window.addEventListener('storebot:add-to-cart', e => window.__carts.push(e.detail))"
    )
    open_widget(page)
    send(page, "a waterproof jacket under $150")
    page.screenshot(path=str(SHOTS / "desktop-mid-answer.png"))
    card = page.locator("storebot-chat [part~='card']").first
    card.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('storebot-chat').shadowRoot.querySelectorAll('[data-role=assistant]').length > 0",
        timeout=60_000,
    )
    page.locator("storebot-chat [part~='add-to-cart']:not([disabled])").first.wait_for(timeout=60_000)
    assert "$139" in last_answer(page).inner_text(timeout=60_000) or "139" in card.inner_text()
    page.screenshot(path=str(SHOTS / "desktop-open.png"))

    page.locator("storebot-chat [data-role='assistant'][data-state='done']").wait_for(timeout=60_000)
    page.locator("storebot-chat [part~='add-to-cart']:not([disabled])").first.click()
    carts = page.evaluate("window.__carts")
    assert carts and carts[0]["productId"] == "rain-1" and carts[0]["variantId"]

    page.reload()
    open_widget(page)
    restored = page.locator("storebot-chat [data-role='assistant']")
    restored.first.wait_for(timeout=30_000)
    assert "waterproof jacket" in page.locator("storebot-chat [role='log']").inner_text()
    assert not page.csp_errors, page.csp_errors  # the storefront is served with script-src/style-src 'self'


def test_a_question_on_a_product_page_is_about_that_product(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto(shop(live, "/products/rain-2"))
    open_widget(page)
    send(page, "is it waterproof?")
    answer = last_answer(page)
    page.wait_for_function(
        "() => { const r = document.querySelector('storebot-chat').shadowRoot;"
        " const a = r.querySelectorAll('[data-role=assistant]'); return a.length &&"
        " a[a.length - 1].textContent.includes('Tempest'); }",
        timeout=60_000,
    )
    assert "Ridge Shell" not in answer.inner_text()


def test_hostile_product_text_renders_as_text(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto(shop(live))
    open_widget(page)
    send(page, "oddities product that runs a script")
    page.locator("storebot-chat [part~='card']").first.wait_for(timeout=60_000)
    titles = page.locator("storebot-chat [part~='card']").all_inner_texts()
    assert any(XSS_TITLE_AS_TEXT in t for t in titles)
    assert (
        page.evaluate("document.querySelector('storebot-chat').shadowRoot.querySelectorAll('img[src=x]').length") == 0
    )
    assert not page.dialogs


def test_keyboard_only_conversation(page, live) -> None:  # type: ignore[no-untyped-def]
    page.goto(shop(live))
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.tagName === 'STOREBOT-CHAT'"):
            break
    else:
        pytest.fail("the launcher is not reachable with Tab")
    page.keyboard.press("Enter")
    page.locator("storebot-chat [role='dialog']").wait_for(state="visible")
    page.keyboard.type("tents")
    page.keyboard.press("Enter")
    page.locator("storebot-chat [part~='card']").first.wait_for(timeout=60_000)
    page.keyboard.press("Escape")
    page.locator("storebot-chat [role='dialog']").wait_for(state="hidden")
    focused = page.evaluate("document.querySelector('storebot-chat').shadowRoot.activeElement?.getAttribute('part')")
    assert focused and "launcher" in focused


def test_axe_finds_no_serious_violations_in_the_open_widget(browser, live) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=True)  # axe is injected inline; the widget itself needs no bypass
    page = context.new_page()
    page.goto(shop(live))
    open_widget(page)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document.querySelector('storebot-chat'), {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    context.close()


def test_mobile_viewport_is_full_screen(browser, live) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(exist_ok=True)
    # Reduced motion: the panel opens without its transition, so it can be measured at once (and that path is tested).
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, reduced_motion="reduce"
    )
    page = context.new_page()
    page.goto(shop(live))
    open_widget(page)
    box = page.locator("storebot-chat [role='dialog']").bounding_box()
    assert box and box["width"] >= 388 and box["height"] >= 800
    send(page, "tents")
    page.screenshot(path=str(SHOTS / "mobile-mid-answer.png"))
    page.locator("storebot-chat [part~='card']").first.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "mobile-open.png"))
    context.close()
