"""The demo storefront and the widget route, over the Flask test client."""

from __future__ import annotations

from flask.testing import FlaskClient

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.services import Services
from tests.retrieval_catalog import PRODUCTS, REVIEWS, jsonl


def test_storefront_pages_render_under_a_strict_csp(client: FlaskClient, services: Services, store) -> None:  # type: ignore[no-untyped-def]
    keys = services.keys(store[0])
    sync_feed(services.redis, keys, jsonl(PRODUCTS), SyncOptions(fmt="jsonl"))
    sync_feed(services.redis, keys, jsonl(REVIEWS), SyncOptions(fmt="jsonl", kind="reviews"))
    assert client.get("/").headers["Location"].endswith(f"/shop/{store[0]}")

    shop = client.get(f"/shop/{store[0]}")
    assert shop.status_code == 200 and "Ridge Shell Rain Jacket" in shop.get_data(as_text=True)
    csp = shop.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    html = shop.get_data(as_text=True)
    assert "<style" not in html and "style=" not in html and "<script>" not in html, "no inline style or script"
    publishable = services.stores.get(store[0]).publishable_key
    assert f'data-store="{publishable}"' in html and "/widget.js?v=" in html

    page = client.get(f"/shop/{store[0]}/products/rain-1").get_data(as_text=True)
    assert "20000 mm" in page and "Runs small" in page and 'data-product-id="rain-1"' in page
    assert client.get(f"/shop/{store[0]}/products/nope").status_code == 404
    embed = client.get(f"/shop/{store[0]}/embed").get_data(as_text=True)
    assert "&lt;script src=" in embed and publishable in embed
    assert client.get(f"/shop/{store[0]}/cart").status_code == 200


def test_demo_images_are_generated_svgs(client: FlaskClient) -> None:
    image = client.get("/demo-images/products/mens-ridge-shell-rain-jacket-1.svg")
    assert image.mimetype == "image/svg+xml" and b"Mens Ridge Shell Rain Jacket" in image.data
    hostile = client.get("/demo-images/products/%3Cscript%3E-1.svg").get_data(as_text=True)
    assert "<script>" not in hostile


def test_widget_bundle_is_versioned_cacheable_and_public(client: FlaskClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    version = response.headers["ETag"].strip('"')
    pinned = client.get(f"/widget.js?v={version}")
    assert "immutable" in pinned.headers["Cache-Control"]
    assert client.get("/widget.js", headers={"If-None-Match": f'"{version}"'}).status_code == 304
    assert b"storebot-chat" in response.data
