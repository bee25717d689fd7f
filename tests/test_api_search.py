"""Search end to end: upload through the API, a real worker syncs and indexes, shoppers search."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storebot.services import Services
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS
from tests.test_api_catalog import upload, wait_for_job


def wait_for_index(services: Services, store_id: str, version: int = 1, timeout: float = 120) -> None:
    from storebot.retrieval.indexer import IndexRepository

    repo = IndexRepository(services.redis, services.keys(store_id), services.index_root)
    deadline = time.monotonic() + timeout
    while repo.published() < version:
        assert time.monotonic() < deadline, "the worker did not publish an index"
        time.sleep(0.1)


@pytest.fixture
def indexed(app: Flask, client: FlaskClient, auth: dict[str, str], store, celery_worker) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The small catalog uploaded through the API; the worker syncs it and then updates the index."""
    for path, records in (("/api/v1/catalog", PRODUCTS), ("/api/v1/reviews", REVIEWS), ("/api/v1/policies", POLICIES)):
        body = "".join(json.dumps(r) + "\n" for r in records).encode()
        job = wait_for_job(client, auth, upload(client, auth, path, body, "feed.jsonl").get_json()["job"]["id"])
        assert job["state"] == "succeeded", job
    services = app.extensions["storebot"]
    wait_for_index(services, store[0])
    deadline = time.monotonic() + 60
    while any(services.catalog(store[0]).pending_changes(k) for k in ("products", "reviews", "policies")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return {"key": services.stores.get(store[0]).publishable_key}


def test_search_finds_filters_and_returns_the_matched_variant(client: FlaskClient, indexed: dict[str, str]) -> None:
    body = client.get(
        "/api/v1/search", query_string={"q": "waterproof jacket under $200 in medium", **indexed}
    ).get_json()
    assert body["filters_applied"]["price_max"] == "200.00" and body["filters_applied"]["sizes"] == ["M"]
    assert [item["id"] for item in body["items"]] == ["rain-1"]
    variant = body["items"][0]["matched_variant"]
    assert variant["options"] == {"size": "M", "color": "Slate Blue"}, "the in-stock medium, not the sold-out Moss"
    assert body["items"][0]["highlights"][0]["field"] == "title"


def test_sale_price_and_explicit_filters(client: FlaskClient, indexed: dict[str, str]) -> None:
    body = client.get(
        "/api/v1/search", query_string={"q": "trail running shoes", "price_max": "100", **indexed}
    ).get_json()
    assert [i["id"] for i in body["items"]] == ["shoe-1"]
    assert body["items"][0]["matched_variant"]["sale_price"] == "99.00"


def test_relaxation_is_reported(client: FlaskClient, indexed: dict[str, str]) -> None:
    body = client.get("/api/v1/search", query_string={"q": "tent under $50", **indexed}).get_json()
    assert body["items"] and all("Tent" in item["title"] for item in body["items"])
    assert any("price" in note for note in body["relaxed"])


def test_review_passages_for_a_product(client: FlaskClient, indexed: dict[str, str]) -> None:
    body = client.get("/api/v1/products/rain-1/review-passages", query_string={"q": "how does it fit", **indexed})
    items = body.get_json()["items"]
    assert items[0]["id"] == "rv1" and items[0]["product_id"] == "rain-1"
    assert {i["product_id"] for i in items} == {"rain-1"}


def test_keys_origins_and_cors(client: FlaskClient, indexed: dict[str, str], auth: dict[str, str]) -> None:
    assert client.get("/api/v1/search?q=tent").status_code == 401
    secret = auth["Authorization"].split()[1]
    assert client.get("/api/v1/search", query_string={"q": "tent", "key": secret}).status_code == 403
    evil = client.get(
        "/api/v1/search", query_string={"q": "tent", **indexed}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "storebot store origins" in evil.get_json()["error"]["fix"]
    ok = client.get("/api/v1/search", query_string={"q": "tent", **indexed}, headers={"Origin": "https://acme.example"})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "https://acme.example"
    preflight = client.options("/api/v1/search", headers={"Origin": "https://acme.example",
                                                          "Access-Control-Request-Method": "GET"})  # fmt: skip
    assert "X-Storebot-Key" in preflight.headers["Access-Control-Allow-Headers"]
    bad = client.get("/api/v1/search", query_string={"q": "tent", "limit": "9999", **indexed})
    assert bad.status_code == 400 and bad.get_json()["error"]["fix"]
    bad_price = client.get("/api/v1/search", query_string={"q": "tent", "price_max": "cheap", **indexed})
    assert bad_price.status_code == 400


def test_search_before_any_index_says_how_to_fix(client: FlaskClient, services: Services, store) -> None:  # type: ignore[no-untyped-def]
    key = services.stores.get(store[0]).publishable_key
    response = client.get("/api/v1/search", query_string={"q": "tent", "key": key})
    assert response.status_code == 503 and "storebot index" in response.get_json()["error"]["fix"]
