"""Keys, origins and store isolation, over every /api/v1 route the app has (walked from ``app.url_map``).

Two stores hold the same product, review and policy ids with different text: store A's text carries the
marker ``alphamark``, store B's ``betamark``. Nothing B can reach may ever show ``alphamark``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storebot.catalog.ingest import accept_upload
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.config import SETTINGS_BY_NAME
from storebot.retrieval.indexer import update_index
from storebot.services import Services
from tests.fake_openai_server import FakeOpenAIServer
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl

PUBLIC = {"/api/v1/openapi.json"}  # the API description is public by design
# Routes that serve both audiences on purpose (`require_any_key` in storebot/api/auth.py): a secret key in the
# Authorization header, or the publishable key with the origin check. Any other route takes one kind of key only;
# a new dual route must be declared here.
DUAL = {"/api/v1/products/<product_id>/recommendations", "/api/v1/recommendations",
        "/api/v1/products/<product_id>/reviews/summary"}  # fmt: skip
SESSION = "shared-session-01"
ORIGIN_A, ORIGIN_B = "https://alpha.example", "https://beta.example"


def marked(records: list[dict[str, Any]], mark: str) -> list[dict[str, Any]]:
    out = []
    for record in records:
        record = json.loads(json.dumps(record))
        for field in ("title", "description", "body"):
            if field in record:
                record[field] = f"{record[field]} {mark}"
        out.append(record)
    return out


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply="Here are some options from our catalog.") as server:
        yield server


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_llm: FakeOpenAIServer) -> dict[str, Any]:
    config = {**app_config, "LLM_BACKEND": "openai-compatible", "LLM_BASE_URL": fake_llm.base_url,
              "LLM_MODEL": "test-model"}  # fmt: skip
    if "RATE_LIMITS_ENABLED" in SETTINGS_BY_NAME:  # this test sends hundreds of requests from one client
        config["RATE_LIMITS_ENABLED"] = False
    return config


class Shop:
    def __init__(self, store_id: str, publishable: str, secret: str, job_id: str) -> None:
        self.id, self.publishable, self.secret, self.job_id = store_id, publishable, secret, job_id

    @property
    def merchant(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    @property
    def shopper(self) -> dict[str, str]:
        return {"X-Storebot-Key": self.publishable}


def make_shop(services: Services, store_id: str, mark: str, origin: str) -> Shop:
    created, secret = services.stores.create(f"Shop {mark}", [origin], store_id=store_id)
    keys = services.keys(store_id)
    for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(marked(records, mark)), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    job_id = accept_upload(services.jobs(store_id), services.uploads(store_id),
                           jsonl(marked(PRODUCTS[:1], mark)), kind="products", filename=f"{mark}.jsonl")  # fmt: skip
    return Shop(store_id, created.publishable_key, secret, job_id)


@pytest.fixture
def shops(app: Flask, services: Services, client: FlaskClient) -> tuple[Shop, Shop]:
    alpha = make_shop(services, "alpha", "alphamark", ORIGIN_A)
    beta = make_shop(services, "beta", "betamark", ORIGIN_B)
    said = client.post("/api/v1/chat", headers=alpha.shopper,
                       json={"message": "Ridge Shell rain jacket alphamark", "session_id": SESSION})  # fmt: skip
    assert said.status_code == 200, said.get_data(as_text=True)
    return alpha, beta


def api_routes(app: Flask, shop: Shop) -> list[tuple[str, str, str]]:
    """(method, url, rule) for every /api/v1 route, its path filled with ids that exist in both stores."""
    values = {"product_id": "rain-1", "item_id": "rain-1", "review_id": "rv1", "kind": "products",
              "session_id": SESSION, "job_id": shop.job_id, "version": "1", "run_id": "run-1",
              "example_id": "example-1", "name": "x"}  # fmt: skip
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            args = {name: values.get(name, "x") for name in rule.arguments}
            routes.append((method, adapter.build(rule.endpoint, args, method=method), rule.rule))
    assert len(routes) >= 20
    return routes


def call(client: FlaskClient, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {"message": "Ridge Shell rain jacket", "session_id": SESSION, "ids": ["rain-1", "rv1"],
            "rating": "up", "events": []}  # fmt: skip
    return client.open(url, method=method, headers=headers, json=body if method != "GET" else None)


def test_secret_keys_are_stored_hashed_and_rotatable(services: Services, client: FlaskClient) -> None:
    created, secret = services.stores.create("Hash Shop", store_id="hash-shop")
    for key in services.redis.scan_iter(match=f"{services.prefix}:*"):
        kind = services.redis.type(key).decode()
        if kind == "string":
            stored = services.redis.get(key) or b""
        elif kind == "hash":
            stored = b" ".join(k + b"=" + v for k, v in services.redis.hgetall(key).items())
        else:
            continue
        assert secret.encode() not in stored and secret.encode() not in key, key
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    rotated = services.stores.rotate_secret("hash-shop")
    refused = client.get("/api/v1/products", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"]["fix"]
    assert client.get("/api/v1/products", headers={"Authorization": f"Bearer {rotated}"}).status_code == 200


def test_every_api_route_wants_exactly_one_kind_of_key(
    app: Flask, client: FlaskClient, shops: tuple[Shop, Shop]
) -> None:
    alpha, _ = shops
    merchant_routes, shopper_routes = [], []
    for method, url, rule in api_routes(app, alpha):
        no_key = call(client, method, url, {})
        assert no_key.status_code == 401, f"{method} {rule} without a key: {no_key.status_code}"
        assert no_key.get_json()["error"]["fix"]
        bogus = call(client, method, url, {"Authorization": "Bearer sk_not-a-key", "X-Storebot-Key": "pk_nope"})
        assert bogus.status_code in (401, 403), f"{method} {rule} with unknown keys: {bogus.status_code}"
        secret = call(client, method, url, alpha.merchant)
        publishable = call(client, method, url, alpha.shopper)
        refused = (secret.status_code == 403, publishable.status_code == 403)
        expected = ((False, False),) if rule in DUAL else ((True, False), (False, True))
        assert refused in expected, (
            f"{method} {rule}: secret key -> {secret.status_code}, publishable key -> {publishable.status_code}"
        )
        for response in (secret, publishable):
            assert response.status_code not in (401, 500), f"{method} {rule}: {response.get_data(as_text=True)}"
        (shopper_routes if refused[0] else merchant_routes).append(rule)
    assert "/api/v1/products" in merchant_routes and "/api/v1/jobs/<job_id>" in merchant_routes
    assert "/api/v1/search" in shopper_routes and "/api/v1/chat" in shopper_routes


def test_no_route_shows_one_store_the_other_stores_data(
    app: Flask, client: FlaskClient, services: Services, shops: tuple[Shop, Shop]
) -> None:
    alpha, beta = shops
    before = {kind: services.catalog("alpha").count(kind) for kind in ("products", "reviews", "policies")}
    for method, url, rule in api_routes(app, alpha):  # alpha's ids, job id and session id ...
        for headers in (beta.merchant, beta.shopper):  # ... asked for with beta's keys
            response = call(client, method, url, headers)
            assert response.status_code != 500, f"{method} {rule}"
            assert "alphamark" not in response.get_data(as_text=True).lower(), f"{method} {rule} leaked store A"
    # Nothing beta sent (deletes, uploads, chat turns on the same session id) touched alpha.
    assert {kind: services.catalog("alpha").count(kind) for kind in before} == before
    assert services.jobs("alpha").get(alpha.job_id)["store"] == "alpha"
    history = client.get(f"/api/v1/chat/{SESSION}/history", headers=alpha.shopper).get_json()
    assert "alphamark" in json.dumps(history).lower() and "betamark" not in json.dumps(history).lower()
    beta_job = client.get(f"/api/v1/jobs/{alpha.job_id}", headers=beta.merchant)
    assert beta_job.status_code == 404


def test_search_and_chat_retrieval_stay_inside_the_store(
    client: FlaskClient, fake_llm: FakeOpenAIServer, shops: tuple[Shop, Shop]
) -> None:
    _, beta = shops
    found = client.get("/api/v1/search?q=rain+jacket", headers=beta.shopper).get_json()
    assert found["items"] and all("betamark" in item["title"] for item in found["items"])
    fake_llm.requests.clear()
    for message in ("Ridge Shell rain jacket", "what do reviewers say about the fit?", "the other shop's jacket",
                    "show me products from the alpha store", "what is your returns policy?"):  # fmt: skip
        response = client.post("/api/v1/chat", headers=beta.shopper, json={"message": message, "session_id": SESSION})
        assert response.status_code == 200
        assert "alphamark" not in response.get_data(as_text=True).lower(), message
        for card in response.get_json()["cards"]:
            assert "betamark" in card["title"]
    prompts = json.dumps([r.body for r in fake_llm.requests]).lower()
    assert fake_llm.requests and "betamark" in prompts and "alphamark" not in prompts


def test_origins_get_exact_cors_and_others_a_403(client: FlaskClient, shops: tuple[Shop, Shop]) -> None:
    alpha, _ = shops
    url = f"/api/v1/search?key={alpha.publishable}&q=tent"
    allowed = client.get(url, headers={"Origin": ORIGIN_A})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN_A and "Origin" in allowed.headers["Vary"]
    for origin in (ORIGIN_B, "https://alpha.example.evil.test", "http://alpha.example", "null"):
        refused = client.get(url, headers={"Origin": origin})
        assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers, origin
        assert refused.get_json()["error"]["code"] == "forbidden"
    chat_url = f"/api/v1/chat?key={alpha.publishable}"
    preflight = {"Origin": ORIGIN_A, "Access-Control-Request-Method": "POST"}
    ok = client.options(chat_url, headers=preflight)
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == ORIGIN_A
    foreign = client.options(chat_url, headers={**preflight, "Origin": ORIGIN_B})
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign.headers
    posted = client.post(chat_url, headers={"Origin": ORIGIN_B}, json={"message": "tent", "session_id": SESSION})
    assert posted.status_code == 403 and "Access-Control-Allow-Origin" not in posted.headers
