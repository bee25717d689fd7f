"""A restored conversation shows what its answers showed: GET /api/v1/chat/<session>/history returns each answer's
product cards (rebuilt from the catalog as it is now) and its sources (the shape of the stream's `sources` event).

Real Redis, the real index and MiniLM, the real HTTP layer; only the chat model is a deterministic fake.
"""

from __future__ import annotations

import copy
import itertools
import json

import jsonschema_rs  # schemathesis's validator
import pytest
from flask.testing import FlaskClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from storebot import __version__
from storebot.api.spec import build_spec
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.chat.history_view import QUOTE_CHARS
from storebot.chat.service import ChatService
from storebot.retrieval.indexer import update_index
from storebot.services import Services
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl
from tests.test_chat_chain import sse_events

LONG_REVIEW = {"id": "rv-long", "product_id": "rain-1", "rating": 4,
               "body": "Kept me dry on a three day trek. " * 20 + "The hood cinches well."}  # fmt: skip


@pytest.fixture
def shop(services: Services, store: tuple[str, str]) -> str:
    """The small catalog (with one long review) synced and indexed, and a fake model behind the chat API."""
    keys = services.keys(store[0])
    for kind, records in (("products", PRODUCTS), ("reviews", [*REVIEWS, LONG_REVIEW]), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage("Here you go.")]))
    services.__dict__["chat_service"] = ChatService.from_services(services, llm=model)
    return store[0]


def key(services: Services, store_id: str) -> str:
    return str(services.stores.get(store_id).publishable_key)


def stream(client: FlaskClient, pk: str, session: str, message: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """One streamed turn: its events by name (the last of each)."""
    response = client.post(f"/api/v1/chat/stream?key={pk}", json={"message": message, "session_id": session})
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(sse_events(response.get_data(as_text=True)))


def history(client: FlaskClient, pk: str, session: str) -> list[dict]:  # type: ignore[type-arg]
    response = client.get(f"/api/v1/chat/{session}/history?key={pk}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["messages"]  # type: ignore[no-any-return]


def test_history_returns_each_answers_cards_and_sources(client: FlaskClient, services: Services, shop: str) -> None:
    pk, session = key(services, shop), "restore-0001"
    turns = [stream(client, pk, session, q) for q in
             ("Ridge Shell rain jacket", "what do reviewers say about it?", "what is your return policy?")]  # fmt: skip
    assert turns[0]["done"]["cards"][0]["id"] == "rain-1"
    assert {r["review_id"] for r in turns[1]["sources"]["reviews"]} >= {"rv-long"}, "the long review is cited"
    assert turns[2]["sources"]["policies"], "the policy answer has policy sources"

    response = client.get(f"/api/v1/chat/{session}/history?key={pk}").get_json()
    documented = build_spec(__version__)["paths"]["/api/v1/chat/{session_id}/history"]["get"]["responses"]["200"]
    jsonschema_rs.Draft202012Validator(documented["content"]["application/json"]["schema"]).validate(response)
    messages = response["messages"]
    assert [m["role"] for m in messages] == ["shopper", "assistant"] * 3
    answers = messages[1::2]
    for turn, answer in zip(turns, answers, strict=True):
        assert answer["id"] == turn["done"]["message_id"] and answer["text"] == turn["done"]["text"]
        # The same cards, ratings included, built from the unchanged catalog.
        assert answer["cards"] == turn["done"]["cards"]
        live = turn["sources"]
        assert answer["sources"]["policies"] == live["policies"]
        assert answer["sources"]["policy_titles"] == live["policy_titles"]
        assert [r["review_id"] for r in answer["sources"]["reviews"]] == [r["review_id"] for r in live["reviews"]]
        for kept, sent in zip(answer["sources"]["reviews"], live["reviews"], strict=True):
            assert kept["product_id"] == sent["product_id"] and kept["rating"] == sent["rating"]
            assert " ".join(sent["text"].split()).startswith(kept["text"].rstrip("…"))
    first = answers[0]["cards"][0]
    assert first["price"] == "139.00" and first["title"] == "Ridge Shell Rain Jacket" and first["rating_count"] == 3
    assert turns[0]["done"]["cards"][0]["rating_count"] == 3, "the live card has the catalog's ratings too"
    assert answers[2]["sources"]["policy_titles"] == {pid: "Returns" for pid in answers[2]["sources"]["policies"]}
    quoted = {r["review_id"]: r["text"] for r in answers[1]["sources"]["reviews"]}
    assert len(quoted["rv-long"]) == QUOTE_CHARS + 1 and quoted["rv-long"].endswith("…"), "a long review is cut"
    assert quoted.get("rv2", "Stayed dry in a downpour on the ridge.") == "Stayed dry in a downpour on the ridge."

    # What Redis keeps is ids and short quotes, never a copy of the product record.
    stored = [json.loads(raw) for raw in services.redis.lrange(services.keys(shop)("chat", session), 0, -1)]
    metadata = stored[1]["data"]["response_metadata"]
    assert {c["product_id"] for c in metadata["cards"]} == {c["id"] for c in turns[0]["done"]["cards"]}
    assert "Ridge Shell" not in json.dumps(metadata) and "139" not in json.dumps(metadata)
    assert len(json.dumps(stored[3]["data"]["response_metadata"])) < 1500


def test_restored_cards_follow_the_catalog_as_it_is_now(client: FlaskClient, services: Services, shop: str,
                                                        auth: dict[str, str]) -> None:  # fmt: skip
    pk, session = key(services, shop), "restore-0002"
    shown = [c["id"] for c in stream(client, pk, session, "rain jackets")["done"]["cards"]]
    assert {"rain-1", "rain-2"} <= set(shown)

    repriced = copy.deepcopy(next(p for p in PRODUCTS if p["id"] == "rain-1"))
    repriced["price"] = "119.00"
    for v in repriced["variants"]:
        v["price"], v["stock"] = "119.00", 0
    sync_feed(services.redis, services.keys(shop), jsonl([repriced]), SyncOptions(fmt="jsonl", kind="products"))
    assert client.delete("/api/v1/products/rain-2", headers=auth).status_code == 200

    cards = history(client, pk, session)[1]["cards"]
    assert [c["id"] for c in cards] == [pid for pid in shown if pid != "rain-2"], "a deleted product is left out"
    rain = next(c for c in cards if c["id"] == "rain-1")
    assert rain["price"] == "119.00" and rain["availability"] == "out_of_stock", rain
    assert rain["matched_variant"] is None or rain["matched_variant"]["price"] == "119.00"


def test_messages_stored_before_sources_were_kept_still_restore(client: FlaskClient, services: Services,
                                                                shop: str) -> None:  # fmt: skip
    session = "restore-old-03"
    services.sessions(shop).open(session).history.add_messages([
        HumanMessage("hi"), AIMessage("Hello! How can I help?", id="old-plain"),  # before any metadata
        HumanMessage("tents"), AIMessage("Two tents.", id="old-cards",  # before sources: cards only
                                         response_metadata={"cards": [{"product_id": "tent-1", "variant_id": None},
                                                                      {"product_id": "gone-9", "variant_id": None}]}),
    ])  # fmt: skip
    messages = history(client, key(services, shop), session)
    assert messages[1] == {"id": "old-plain", "role": "assistant", "text": "Hello! How can I help?"}
    assert set(messages[3]) == {"id", "role", "text", "cards"}
    assert [c["id"] for c in messages[3]["cards"]] == ["tent-1"] and messages[3]["cards"][0]["price"] == "299.00"
    assert history(client, key(services, shop), "restore-none-4") == []
