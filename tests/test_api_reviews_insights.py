"""Review insights end to end: the task after a review sync on a real worker, the APIs with their auth and
origin checks, the merchant CLI, and a chat turn answered from a review summary."""

from __future__ import annotations

import io
import json
import time

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest
from storebot.cli import cli
from storebot.insights.review_analysis import analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.retrieval.indexer import update_index
from storebot.services import Services
from tests.conftest import FIXTURES
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl
from tests.test_chat_chain import fake

ORIGIN = "https://acme.example"


def upload(client: FlaskClient, auth: dict[str, str], path: str, name: str) -> str:
    response = client.post(path, data={"file": (io.BytesIO((FIXTURES / name).read_bytes()), name)}, headers=auth)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["job"]["id"])


def wait_for(check, timeout: float = 600):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.timeout(900)  # the demo's 1,165 reviews and their sentences are embedded once per test session
def test_a_review_sync_analyses_reviews_on_the_worker_and_the_apis_serve_them(
    app: Flask, client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str],
    runner: CliRunner, celery_worker: object,
) -> None:  # fmt: skip
    app.config["INDEX_AFTER_SYNC"] = False  # this test is about reviews, not search
    store_id = store[0]
    publishable = services.stores.get(store_id).publishable_key
    summary_url = "/api/v1/products/1001/reviews/summary"

    products_job = upload(client, auth, "/api/v1/catalog", "products.json")
    wait_for(lambda: services.jobs(store_id).get(products_job)["state"] == "succeeded", 120)
    before = client.get(summary_url, headers=auth)
    assert before.status_code == 200 and before.get_json()["state"] == "not_analyzed"  # not an error

    upload(client, auth, "/api/v1/reviews", "reviews.csv")  # the sync task queues storebot.analyze_reviews
    summary = wait_for(lambda: (b := client.get(summary_url, headers=auth).get_json())["state"] == "analyzed" and b)
    assert summary["product_id"] == "1001" and summary["model"] == "classifier"
    assert summary["review_count"] == summary["analyzed_count"] == 23
    assert abs(sum(summary["shares"].values()) - 1) < 0.01 and summary["shares"]["positive"] > 0.5
    own = {r.id for r in services.catalog(store_id).reviews_for("1001")}
    assert summary["pros"] and summary["cons"]
    for point in summary["pros"] + summary["cons"]:
        assert point["review_ids"] and set(point["review_ids"]) <= own and point["text"] and point["label"]
    assert summary["fit"]["signal"] == "runs_small", summary["fit"]
    assert summary["fit"]["counts"]["runs_small"] > summary["fit"]["counts"]["true_to_size"]
    assert {a["aspect"] for a in summary["aspects"]} >= {"fit", "warmth_waterproofing"}
    assert all({"aspect", "label", "mentions", "positive", "negative", "score"} <= set(a) for a in summary["aspects"])

    # Shoppers: the publishable key from an allowed origin (with CORS), never from another origin.
    shopper = client.get(f"{summary_url}?key={publishable}", headers={"Origin": ORIGIN})
    assert shopper.status_code == 200 and shopper.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert shopper.get_json()["fit"] == summary["fit"]
    evil = client.get(f"{summary_url}?key={publishable}", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "error" in evil.get_json()
    # Another store's keys see nothing of this store; unknown products and keys get JSON errors.
    _, other_secret = services.stores.create("Other", ["https://other.example"], store_id="other")
    other = client.get(summary_url, headers={"Authorization": f"Bearer {other_secret}"})
    assert other.status_code == 404 and "shares" not in other.get_json()
    assert client.get(summary_url, headers={"Authorization": "Bearer sk_nope"}).status_code == 401
    assert client.get("/api/v1/products/nope/reviews/summary", headers=auth).status_code == 404

    # Merchants: falling products and complaints, each complaint linking to real reviews.
    assert client.get("/api/v1/insights", headers={"X-Storebot-Key": publishable}).status_code == 403
    report = client.get("/api/v1/insights", headers=auth).get_json()
    assert report["complaints"] and report["falling"]
    top = report["complaints"][0]
    assert {"aspect", "label", "mentions", "product_ids", "review_ids"} <= set(top) and top["mentions"] >= 10
    falling = report["falling"][0]
    assert falling["delta"] < 0 and falling["recent_score"] < falling["previous_score"] and falling["title"]
    detail = client.get(f"/api/v1/reviews/{top['review_ids'][0]}", headers=auth).get_json()
    assert any(m["aspect"] == top["aspect"] and m["sentiment"] == "negative" for m in detail["analysis"]["aspects"])
    assert detail["review"]["id"] == top["review_ids"][0]

    series = client.get("/api/v1/insights/sentiment?product=1001&aspect=fit&interval=month", headers=auth).get_json()
    assert series["product_id"] == "1001" and series["aspect"] == "fit" and series["points"]
    fit_mentions = next(a["mentions"] for a in summary["aspects"] if a["aspect"] == "fit")
    assert sum(p["reviews"] for p in series["points"]) == fit_mentions
    weekly = client.get("/api/v1/insights/sentiment?interval=week", headers=auth).get_json()
    assert sum(p["reviews"] for p in weekly["points"]) == 1165 and weekly["points"][0]["period"].count("-W") == 1
    assert client.get("/api/v1/insights/sentiment?interval=year", headers=auth).status_code == 400
    assert client.get("/api/v1/insights/sentiment?aspect=nope", headers=auth).status_code == 404

    # The CLI prints the same report, in words or as JSON.
    env = {"STOREBOT_INDEX_AFTER_SYNC": "0"}
    text = runner.invoke(cli, ["insights", "--store", store_id], env=env)
    assert text.exit_code == 0, text.output
    assert "Falling sentiment" in text.output and top["label"] in text.output and top["review_ids"][0] in text.output
    as_json = runner.invoke(cli, ["insights", "--store", store_id, "--json"], env=env)
    assert json.loads(as_json.output)["complaints"][0]["aspect"] == top["aspect"]


def test_a_chat_turn_about_reviews_is_answered_from_the_summary(services: Services, store: tuple[str, str]) -> None:
    store_id = store[0]
    keys = services.keys(store_id)
    reviews = [
        *REVIEWS,
        {"id": "rv5", "product_id": "rain-1", "rating": 4, "body": "Great shell. It runs small, so order a size up."},
        {"id": "rv6", "product_id": "rain-1", "rating": 5, "body": "Love it, but size up: it runs small."},
    ]
    for kind, records in (("products", PRODUCTS), ("reviews", reviews), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    analyze_reviews(services.catalog(store_id), ReviewInsightsStore(services.redis, keys), services.embedder)
    service = ChatService.from_services(services, llm=fake("It is a fine jacket and reviewers adore it."))

    sizing = service.respond(ChatRequest(store_id, "session-0001",
                                         "what do reviewers say about the sizing of the Alder shell?"))  # fmt: skip
    assert sizing.intent == "product_question" and sizing.grounding["action"] == "summary"
    assert "runs small" in sizing.text and "3 of 3" in sizing.text, sizing.text
    assert sizing.grounding["ok"], sizing.grounding
    assert {c.review_id for c in sizing.citations} == {"rv1", "rv5", "rv6"}
    assert all(c.product_id == "rain-1" and c.text for c in sizing.citations)
    assert "adore" not in sizing.text  # the model's words never replace the summary's

    general = service.respond(ChatRequest(store_id, "session-0001", "what do people say about it?"))
    assert general.grounding["action"] == "summary" and general.grounding["ok"], general.grounding
    assert "Of 4 reviews of the Ridge Shell Rain Jacket" in general.text, general.text
    assert general.citations and {c.product_id for c in general.citations} == {"rain-1"}
    cited = {c.review_id for c in general.citations}
    assert cited and all(rid in general.text for rid in cited)
