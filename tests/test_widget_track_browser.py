"""Storebot.track in real Chromium: the demo storefront's views, add-to-carts and orders reach the events API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from storebot.embedded_redis import free_port
from tests.browser import serving, storefront_app
from tests.test_insights_events import load_demo_products

pytestmark = pytest.mark.browser
BOOTS, SOCKS = "1090", "1081"


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    port = free_port()
    app, services, store = storefront_app(redis_url, str(tmp_path_factory.mktemp("live")), port)
    load_demo_products(services, store.id)
    with serving(app, port, redis_url=redis_url, key_prefix=app.config["KEY_PREFIX"]):
        yield {"url": f"http://127.0.0.1:{port}/shop/{store.id}", "key": store.publishable_key,
               "events": services.events(store.id)}  # fmt: skip


def wait_for_events(events, count: int, timeout: float = 20) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while events.count() < count:
        assert time.monotonic() < deadline, f"only {events.count()} of {count} events arrived: {events.recent()}"
        time.sleep(0.1)
    return list(reversed(events.recent(100)))


def test_storefront_views_carts_and_orders_reach_the_events_api(browser, live) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and csp_errors.append(msg.text))
    # A host page's call made before the widget loads is queued and replayed.
    stub = "window.Storebot = function () { (window.Storebot.q = window.Storebot.q || []).push(arguments) };"
    early = f"if (location.pathname.includes('/products/')) window.Storebot('track', 'view', {{productId: '{SOCKS}'}});"
    page.add_init_script(stub + early)
    page.goto(f"{live['url']}/products/{BOOTS}")
    events = wait_for_events(live["events"], 2)
    assert sorted((e["type"], e["product_id"]) for e in events) == [("view", SOCKS), ("view", BOOTS)]

    page.locator(".product-page .add-to-cart").click()
    events = wait_for_events(live["events"], 3)
    assert (events[-1]["type"], events[-1]["product_id"]) == ("add_to_cart", BOOTS)

    page.goto(f"{live['url']}/cart")
    page.locator("#cart-checkout").click()
    events = wait_for_events(live["events"], 4)
    purchase = events[-1]
    assert (purchase["type"], purchase["product_id"]) == ("purchase", BOOTS) and purchase["order_id"]
    assert "is placed" in page.locator("#cart-note").inner_text()

    session = page.evaluate(f"localStorage.getItem('storebot:session:{live['key']}')")
    assert session and {e["session_id"] for e in events} == {session}, "every event carries the widget's session"
    assert live["events"].session_products(session)[:2] == [BOOTS, SOCKS]
    assert page.evaluate("window.Storebot.track('like', {productId: '1'})") == {"accepted": 0, "rejected": []}
    assert not csp_errors, csp_errors
    context.close()
