"""The events and recommendations APIs: validation, keys, origins, CORS, JSON shapes, cache misses, latency."""

from __future__ import annotations

import statistics
import time

import pytest
from flask.testing import FlaskClient

from storebot.insights.events import MAX_BATCH
from storebot.services import Services
from tests.test_insights_recommendations import BOOTS, JACKET, SOCKS, boots_and_socks_sessions, demo_store

ORIGIN = "https://acme.example"


@pytest.fixture
def demo(services: Services, store: tuple[str, str]) -> dict[str, str]:
    demo_store(services, store[0])
    return {"key": services.stores.get(store[0]).publishable_key}


def event(product_id: str = BOOTS, session: str = "sess-api-0001", **extra: object) -> dict[str, object]:
    return {"type": "view", "product_id": product_id, "session_id": session, **extra}


def test_events_are_accepted_and_bad_ones_rejected_per_event(client: FlaskClient, demo: dict[str, str],
                                                             services: Services) -> None:  # fmt: skip
    one = client.post("/api/v1/events", json=event(), query_string=demo, headers={"Origin": ORIGIN})
    assert one.status_code == 202 and one.get_json() == {"accepted": 1, "rejected": []}
    assert one.headers["Access-Control-Allow-Origin"] == ORIGIN
    batch = [
        event(SOCKS),
        event("missing"),
        {"type": "wishlist", "product_id": BOOTS, "session_id": "sess-api-0001"},
        event(session="no"),
        event(BOOTS, variant_id="nope"),
        {"type": "purchase", "product_id": SOCKS, "session_id": "sess-api-0001", "order_id": "A-7", "quantity": 2},
    ]
    body = client.post("/api/v1/events", json={"events": batch}, headers={"X-Storebot-Key": demo["key"]}).get_json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3, 4]
    assert all(r["error"] for r in body["rejected"])
    assert services.events("acme").count() == 3


def test_malformed_bodies_are_400_with_a_fix(client: FlaskClient, demo: dict[str, str]) -> None:
    for body in ({"events": []}, {"events": [event()] * (MAX_BATCH + 1)}, {"events": "x"}):
        response = client.post("/api/v1/events", json=body, query_string=demo)
        assert response.status_code == 400 and response.get_json()["error"]["fix"]
    raw = client.post("/api/v1/events", data="not json", query_string=demo, content_type="text/plain")
    assert raw.status_code == 400


def test_keys_and_origins_are_checked(client: FlaskClient, demo: dict[str, str], auth: dict[str, str],
                                      services: Services) -> None:  # fmt: skip
    assert client.post("/api/v1/events", json=event()).status_code == 401
    secret = auth["Authorization"].split()[1]
    assert client.post("/api/v1/events", json=event(), query_string={"key": secret}).status_code == 403
    evil = client.post("/api/v1/events", json=event(), query_string=demo, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers
    recs = "/api/v1/products/1001/recommendations"
    assert client.get(recs, query_string=demo, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.get(recs).status_code == 401
    # Another store's key sees its own store only: neither this store's products nor its events.
    other, other_secret = services.stores.create("Other", ["https://other.example"], store_id="other")
    theirs = {"key": other.publishable_key}
    assert client.get(recs, query_string=theirs).status_code == 404
    assert client.get(recs, headers={"Authorization": f"Bearer {other_secret}"}).status_code == 404
    foreign = client.post("/api/v1/events", json=event(), query_string=theirs).get_json()
    assert foreign["accepted"] == 0 and "no product" in foreign["rejected"][0]["error"]
    preflight = client.options("/api/v1/events", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_product_recommendations_json_and_cache(client: FlaskClient, demo: dict[str, str], services: Services,
                                                auth: dict[str, str]) -> None:  # fmt: skip
    miss = client.get(f"/api/v1/products/{JACKET}/recommendations", query_string={**demo, "limit": 4})
    assert miss.status_code == 200
    body = miss.get_json()
    assert (body["kind"], body["product_id"], body["source"]) == ("similar", JACKET, "vectors")
    assert len(body["items"]) == 4 and body["computed_at"].endswith("+00:00")
    item = body["items"][0]
    assert set(item) >= {"id", "title", "price", "currency", "url", "image", "in_stock", "score", "reason"}
    product = services.catalog("acme").get_product(item["id"])
    assert (item["title"], item["price"], item["url"]) == (product.title, f"{product.price:.2f}", product.url)
    assert item["in_stock"] is True
    cached = services.recommender("acme").cache.get("similar", JACKET)
    assert cached is not None and cached.ids[:4] == [i["id"] for i in body["items"]], "the miss was cached"
    merchant = client.get(f"/api/v1/products/{BOOTS}/recommendations", query_string={"kind": "complementary"},
                          headers=auth).get_json()  # fmt: skip
    assert merchant["source"] == "catalog" and merchant["items"]
    for bad in ({"kind": "cheapest"}, {"limit": "0"}, {"limit": "500"}, {"limit": "x"}):
        assert client.get(f"/api/v1/products/{JACKET}/recommendations", query_string={**demo, **bad}).status_code == 400
    assert client.get("/api/v1/products/nope/recommendations", query_string=demo).status_code == 404


def test_session_recommendations(client: FlaskClient, demo: dict[str, str], services: Services) -> None:
    empty = client.get("/api/v1/recommendations", query_string={**demo, "kind": "trending"}).get_json()
    assert empty["items"] == [] and empty["source"] == "none" and empty["note"]
    boots_and_socks_sessions(services, "acme")
    trending = client.get("/api/v1/recommendations", query_string={**demo, "kind": "trending", "limit": 2}).get_json()
    assert trending["source"] == "events" and [i["id"] for i in trending["items"]] == [SOCKS, BOOTS]
    query = {**demo, "kind": "personal", "session": "sess-boots-0000"}
    personal = client.get("/api/v1/recommendations", query_string=query).get_json()
    assert personal["session_id"] == "sess-boots-0000" and personal["source"] == "events"
    assert personal["items"] and not {SOCKS, BOOTS} & {i["id"] for i in personal["items"]}
    assert client.get("/api/v1/recommendations", query_string={**demo, "kind": "personal"}).status_code == 400
    bad_session = client.get("/api/v1/recommendations", query_string={**demo, "session": "x y"})
    assert bad_session.status_code == 400


def test_serving_from_the_cache_is_fast(client: FlaskClient, demo: dict[str, str], services: Services) -> None:
    """Cache hits against cache misses on the same machine (its load varies; bench/recs.py has the absolute p50)."""
    recommender = services.recommender("acme")
    recommender.refresh()
    url = f"/api/v1/products/{BOOTS}/recommendations"
    query = {**demo, "kind": "complementary", "limit": 6}
    client.get(url, query_string=query)  # warm the product cache

    stamps = []

    def timed(clear: bool) -> float:
        if clear:
            services.redis.hdel(recommender.cache.key("complementary"), BOOTS)
        started = time.perf_counter()
        response = client.get(url, query_string=query)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and len(response.get_json()["items"]) == 6
        stamps.append(response.get_json()["computed_at"])
        return elapsed

    hits = [timed(clear=False) for _ in range(30)]
    assert len(set(stamps)) == 1, "every hit is served from the cache, not recomputed"
    misses = [timed(clear=True) for _ in range(10)]
    assert len(set(stamps[30:])) == 10, "every miss is computed"
    assert statistics.median(hits) < statistics.median(misses), (statistics.median(hits), statistics.median(misses))
    assert statistics.median(hits) < 100, f"p50 {statistics.median(hits):.1f} ms"


def test_cli_shows_trending_and_needs_a_product_for_product_kinds(runner, services: Services, store) -> None:  # type: ignore[no-untyped-def]
    import json

    from storebot.cli import cli
    from tests.test_insights_events import load_demo_products

    load_demo_products(services, store[0])
    services.events(store[0]).record_batch([event(SOCKS), event(SOCKS, "sess-api-0002"), event(BOOTS)])
    shown = runner.invoke(cli, ["recommend", "--store", store[0], "--kind", "trending", "--json"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["source"] == "events" and [i["id"] for i in body["items"]] == [SOCKS, BOOTS]
    missing = runner.invoke(cli, ["recommend", "--store", store[0], "--kind", "complementary"])
    assert missing.exit_code != 0 and "--product" in missing.output
