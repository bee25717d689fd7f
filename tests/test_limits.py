"""Rate limits (per key, per key and IP, per chat IP and session), body and message limits, concurrent streams.

Real Redis counts everything; each test lowers the limits it exercises through the app's config.
"""

from __future__ import annotations

import itertools
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storebot.api.limits import StreamSlots
from storebot.services import Services


def ip(address: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def second_store(services: Services) -> tuple[str, str]:
    created, secret = services.stores.create("Birch Camping", ["https://birch.example"], store_id="birch")
    return created.id, secret


@pytest.fixture
def pk(services: Services, store: tuple[str, str]) -> str:
    return services.stores.get(store[0]).publishable_key


@pytest.fixture
def fake_chat_backend(app: Flask) -> None:
    """The chat answers instantly (a fixed sentence) through a backend registered like any other."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from storebot.llm import Capabilities, register_backend

    register_backend("limits-fake", lambda spec: GenericFakeChatModel(messages=itertools.repeat(AIMessage("Sure."))),
                     capabilities=Capabilities(condense=False, follows_instructions=True))  # fmt: skip
    app.config["LLM_BACKEND"] = "limits-fake"


def assert_429(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == "rate_limited" and body["error"]["fix"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_merchant_keys_are_limited_per_key_and_each_store_has_its_own_bucket(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    second_store: tuple[str, str],
    redis_client,
    key_prefix: str,  # type: ignore[no-untyped-def]
) -> None:
    app.config["RATE_LIMIT_MERCHANT"] = "3/minute"
    assert [client.get("/api/v1/jobs", headers=auth).status_code for _ in range(3)] == [200, 200, 200]
    assert_429(client.get("/api/v1/products", headers=auth))  # one bucket across merchant endpoints
    other = {"Authorization": f"Bearer {second_store[1]}"}
    assert client.get("/api/v1/jobs", headers=other).status_code == 200, "another store's key has its own bucket"
    counters = [k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}:ratelimit:*")]
    assert counters and all(auth["Authorization"][7:] not in k for k in counters), "namespaced, keys hashed"
    assert client.get("/healthz").status_code == 200, "health checks are never limited"


def test_shopper_requests_are_limited_per_publishable_key_and_ip(client: FlaskClient, app: Flask, pk: str) -> None:
    app.config["RATE_LIMIT_SHOPPER"] = "2/minute"
    search = {"query_string": {"q": "tent", "key": pk}}
    first = [client.get("/api/v1/search", **search, **ip("10.0.0.1")).status_code for _ in range(2)]
    assert 429 not in first
    assert_429(client.get("/api/v1/search", **search, **ip("10.0.0.1")))
    assert client.get("/api/v1/search", **search, **ip("10.0.0.2")).status_code != 429, "another shopper's IP"
    assert_429(client.get("/api/v1/chat/session-0001/history", query_string={"key": pk}, **ip("10.0.0.1")))


def test_chat_is_limited_per_ip_and_per_session(client: FlaskClient, app: Flask, pk: str) -> None:
    app.config["RATE_LIMIT_CHAT_IP"] = "3/minute"
    app.config["RATE_LIMIT_CHAT_SESSION"] = "2/minute"

    def chat(session: str, address: str):  # type: ignore[no-untyped-def]
        # An empty message is refused (400) after the limits have counted it: no model runs here.
        body = {"message": "", "session_id": session}
        return client.post("/api/v1/chat", query_string={"key": pk}, json=body, **ip(address))

    assert [chat("session-aaaa", "10.1.0.1").status_code for _ in range(2)] == [400, 400]
    assert_429(chat("session-aaaa", "10.1.0.2"))  # the session's bucket, whatever the IP
    assert chat("session-bbbb", "10.1.0.1").status_code == 400  # third from this IP: allowed
    assert_429(chat("session-cccc", "10.1.0.1"))  # fourth from this IP: refused, though a new session
    assert chat("session-dddd", "10.1.0.3").status_code == 400


def test_refused_keys_are_limited_per_ip(client: FlaskClient, app: Flask, auth: dict[str, str], pk: str) -> None:
    app.config["RATE_LIMIT_AUTH_FAILURES"] = "3/minute"
    guesses = [client.get("/api/v1/jobs", headers={"Authorization": f"Bearer sk_guess{i}"}, **ip("10.2.0.1"))
               for i in range(3)]  # fmt: skip
    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert_429(client.get("/api/v1/jobs", headers={"Authorization": "Bearer sk_guess9"}, **ip("10.2.0.1")))
    assert_429(client.get("/api/v1/jobs", headers=auth, **ip("10.2.0.1"))), "the guessing IP waits, whatever key"
    assert client.get("/api/v1/jobs", headers=auth, **ip("10.2.0.2")).status_code == 200
    ok = [client.get("/api/v1/search", query_string={"q": "tent", "key": pk}, **ip("10.2.0.3")) for _ in range(4)]
    assert 429 not in [r.status_code for r in ok], "answers that are not refusals do not count"


def test_429_answers_keep_json_errors_and_request_ids(client: FlaskClient, app: Flask, auth: dict[str, str]) -> None:
    app.config["RATE_LIMIT_MERCHANT"] = "1/minute"
    client.get("/api/v1/jobs", headers=auth)
    response = client.get("/api/v1/jobs", headers={**auth, "X-Request-ID": "req-limits-0001"})
    assert_429(response)
    assert response.headers["X-Request-ID"] == "req-limits-0001" and response.mimetype == "application/json"


def test_rate_limits_can_be_switched_off(app_config: dict[str, object], embedder) -> None:  # type: ignore[no-untyped-def]
    from storebot.app import create_app

    app = create_app({**app_config, "RATE_LIMITS_ENABLED": False, "RATE_LIMIT_MERCHANT": "1/minute"})
    services = app.extensions["storebot"]
    _, secret = services.stores.create("Off", store_id="off")
    client = app.test_client()
    statuses = {client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code for _ in range(3)}
    assert statuses == {200}


def test_message_length_limit(client: FlaskClient, app: Flask, pk: str) -> None:
    app.config["CHAT_MAX_MESSAGE_CHARS"] = 50
    response = client.post("/api/v1/chat", query_string={"key": pk}, json={"message": "x" * 51})
    assert response.status_code == 400 and "50 characters" in response.get_json()["error"]["message"]


def test_json_and_chat_bodies_have_their_own_size_limits(
    client: FlaskClient, app: Flask, pk: str, auth: dict[str, str]
) -> None:
    app.config["CHAT_MAX_BODY_KB"] = 1
    app.config["MAX_JSON_KB"] = 4
    big_chat = {"message": "hi", "page_context": {"product_id": "x" * 2000}}
    response = client.post("/api/v1/chat", query_string={"key": pk}, json=big_chat)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large" and "STOREBOT_CHAT_MAX_BODY_KB" in error["fix"]
    big_delete = {"ids": [f"id-{i:06d}" for i in range(1000)]}  # ~13 KB
    response = client.post("/api/v1/products/delete", headers=auth, json=big_delete)
    assert response.status_code == 413 and "STOREBOT_MAX_JSON_KB" in response.get_json()["error"]["fix"]
    small_delete = client.post("/api/v1/products/delete", headers=auth, json={"ids": ["a", "b"]})
    assert small_delete.status_code == 200
    feed = "".join(json.dumps({"id": f"p{i}", "title": f"Product {i}", "price": "5"}) + "\n" for i in range(200))
    upload = client.post("/api/v1/catalog", headers=auth, data=feed.encode(), query_string={"format": "jsonl"},
                         content_type="application/json")  # fmt: skip
    assert upload.status_code == 202, "feed uploads are bounded by MAX_UPLOAD_MB, not the JSON limit"


def test_list_endpoints_bound_their_page_size(client: FlaskClient, auth: dict[str, str]) -> None:
    for path in ("/api/v1/products", "/api/v1/reviews", "/api/v1/products/p1/reviews"):
        response = client.get(path, headers=auth, query_string={"limit": 100_000})
        assert response.status_code == 400 and "limit 1..200" in response.get_json()["error"]["message"]
    for path in ("/api/v1/jobs", "/api/v1/handoffs", "/api/v1/feedback"):
        assert client.get(path, headers=auth, query_string={"limit": 100_000}).status_code == 200  # clamped


def test_stream_slots_per_session(services: Services, store: tuple[str, str]) -> None:
    from storebot.api.limits import TooManyRequests

    slots = StreamSlots(services.redis, services.keys(store[0]), limit=2, lease_seconds=30)
    first, second = slots.acquire("session-0001"), slots.acquire("session-0001")
    with pytest.raises(TooManyRequests) as refused:
        slots.acquire("session-0001")
    assert refused.value.retry_after >= 1 and slots.open_count("session-0001") == 2
    assert slots.acquire("session-0002"), "another session has its own slots"
    slots.release("session-0001", first)
    third = slots.acquire("session-0001")
    slots.release("session-0001", second)
    slots.release("session-0001", third)
    assert slots.open_count("session-0001") == 0
    expiring = StreamSlots(services.redis, services.keys(store[0]), limit=1, lease_seconds=-1)
    expiring.acquire("session-0003")  # a lease already past its expiry: as if its process had died
    assert expiring.open_count("session-0003") == 0


def test_concurrent_streams_per_session_are_limited_and_released_on_disconnect(
    client: FlaskClient, app: Flask, services: Services, store: tuple[str, str], pk: str, fake_chat_backend: None
) -> None:
    app.config["CHAT_MAX_STREAMS"] = 1
    slots = StreamSlots(services.redis, services.keys(store[0]), limit=1)
    body = {"message": "a tent", "session_id": "session-stream-1"}
    held = client.post("/api/v1/chat/stream", query_string={"key": pk}, json=body, buffered=False)
    assert held.status_code == 200 and held.mimetype == "text/event-stream"
    assert next(held.response).startswith(b": stream open")
    assert slots.open_count("session-stream-1") == 1
    refused = client.post("/api/v1/chat/stream", query_string={"key": pk}, json=body)
    assert_429(refused)
    other = client.post("/api/v1/chat/stream", query_string={"key": pk},
                        json={**body, "session_id": "session-stream-2"})  # fmt: skip
    assert other.status_code == 200 and (b"event: done" in other.data or b"event: error" in other.data)
    assert slots.open_count("session-stream-2") == 0, "a finished stream frees its slot"
    held.close()  # the shopper closes the tab mid-answer
    assert slots.open_count("session-stream-1") == 0, "a disconnect frees the slot"
    again = client.post("/api/v1/chat/stream", query_string={"key": pk}, json=body)
    assert again.status_code == 200
