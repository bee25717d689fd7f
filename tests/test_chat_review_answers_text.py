"""Review answers that read right: grammar, counts that agree with the reviews cited, quotes that support their
point, a plain "none mention it" when no review does, and no review citations under a price or spec answer.

The first half builds answers from hand-made summaries; the second syncs four demo products (the Ridge Shell
jacket, the Traverse Mid boots, the Stillwater 3 and Trailhead 2 tents) with their reviews, analyses the reviews
as the worker would, and asks the chat on each product's page.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from storebot.catalog.models import Product, Review
from storebot.chat.review_answers import about_reviews, answer_from_summary, asked_topic
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest, ChatResponse
from storebot.insights.aspects import fit_remark
from storebot.insights.review_analysis import analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.review_summary import fit_summary, summarize_product
from storebot.llm import Capabilities, register_backend
from tests.conftest import FIXTURES
from tests.demo_store import indexed_store, module_app

TENT = Product(id="t1", title="Trailhead 2 Backpacking Tent", brand="Northwind Trail", price=Decimal("159"),
               category=["Gear", "Tents"])  # fmt: skip
BOOTS = Product(id="b1", title="Men's Traverse Mid Waterproof Hiking Boots", brand="Quillridge", price=Decimal("99"))


def summary(n: int, *, fit: dict | None = None, pros: list | None = None, aspects: list | None = None) -> dict:  # type: ignore[type-arg]
    positive = {1: 1.0}.get(n, round((n - 1) / n, 4)) if n else 0.0
    return {"analyzed_count": n, "shares": {"positive": positive, "negative": round(1 - positive, 4), "mixed": 0.0},
            "pros": pros or [], "cons": [], "aspects": aspects or [],
            "fit": fit or {"signal": None, "counts": {}, "review_ids": {}, "quote": ""}}  # fmt: skip


def test_one_review_reads_as_one_review() -> None:
    point = {"aspect": "quality", "label": "Quality and durability", "text": "Holding up fine after 3 months.",
             "review_ids": ["911"]}  # fmt: skip
    text, cited = answer_from_summary(TENT, summary(1, pros=[point]), None)
    assert text.startswith("The one review of the Trailhead 2 Backpacking Tent is positive."), text
    assert "Of 1 reviews" not in text and "1 are" not in text and "(..., review 911)" not in text
    assert 'The reviewer likes its quality and durability ("Holding up fine after 3 months.", review 911).' in text
    assert cited == ["911"] and "Reviewers" not in text, text
    several, _ = answer_from_summary(TENT, summary(4), None)
    assert several.startswith("Of 4 reviews of the Trailhead 2 Backpacking Tent, 3 are positive and 1 negative."), (
        several
    )


@pytest.mark.parametrize(("count", "ids", "shown", "example"),
                         [(5, ["606", "608", "611", "613", "617"], 5, False),
                          (9, [str(i) for i in range(10)], 5, True), (2, ["1", "2"], 2, False)])  # fmt: skip
def test_the_fit_count_and_the_reviews_cited_agree(count: int, ids: list[str], shown: int, example: bool) -> None:
    fit = {"signal": "runs_small", "counts": {"runs_small": count, "true_to_size": 1, "runs_large": 0},
           "review_ids": {"runs_small": ids}, "quote": "Size up a half."}  # fmt: skip
    text, cited = answer_from_summary(BOOTS, summary(21, fit=fit), "fit")
    assert f"{count} of {count + 1} fit remarks say so" in text, text
    assert text.startswith("Reviewers say the Men's Traverse Mid Waterproof Hiking Boots run small"), text  # plural
    assert len(cited) == shown and all(rid in text for rid in cited), text
    assert ("(e.g. reviews " in text) is example, text


def test_the_fit_quote_is_a_remark_that_says_something() -> None:
    analyses = [{"id": "9", "fit": "small", "fit_sentence": "Runs small"},
                {"id": "13", "fit": "small", "fit_sentence": "Ordered my usual M; it runs small."},
                {"id": "20", "fit": "small", "fit_sentence": "Runs small, size up."}]  # fmt: skip
    assert fit_summary(analyses)["quote"] == "Ordered my usual M; it runs small."
    only_short = [{"id": "9", "fit": "small", "fit_sentence": "Runs small"}] * 2
    assert fit_summary(only_short)["quote"] == "Runs small"


def test_a_pro_is_quoted_by_a_sentence_not_a_title() -> None:
    def analysis(rid: str, sentence: str, score: float) -> dict:  # type: ignore[type-arg]
        return {"id": rid, "polarity": "positive", "score": score, "fit": None, "fit_sentence": "",
                "aspects": [{"aspect": "warmth_waterproofing", "sentiment": "positive", "score": score,
                             "sentence": sentence}]}  # fmt: skip

    made = summarize_product("p", [analysis("1", "Solid in wind", 0.99),
                                   analysis("2", "Rode out an all-night thunderstorm bone dry.", 0.9)],
                             {"warmth_waterproofing": "Warmth"}, "vader", "2026-11-23T00:00:00+00:00")  # fmt: skip
    assert made["pros"][0]["text"] == "Rode out an all-night thunderstorm bone dry."


def test_an_aspect_no_review_mentions_is_said_plainly() -> None:
    reviews = [Review(id="911", product_id="t1", rating=5, title="Fast shipping", body="Holding up fine so far.")]
    text, cited = answer_from_summary(TENT, summary(1), None, topic="condensation", reviews=reviews)
    assert (text, cited) == ("The one review of the Trailhead 2 Backpacking Tent doesn't mention condensation.", [])
    many = [Review(id=str(i), product_id="t1", rating=4, title="", body="Sturdy poles.") for i in range(3)]
    text, cited = answer_from_summary(TENT, summary(3), None, topic="condensation", reviews=many)
    assert text == "None of the 3 reviews of the Trailhead 2 Backpacking Tent mention condensation." and not cited


def test_the_topic_is_what_the_question_asks_about_not_the_product() -> None:
    assert asked_topic("what do reviewers say about condensation in the Stillwater 3?", TENT) == "condensation"
    assert asked_topic("what do reviewers say about condensation in the first one?", TENT) == "condensation"
    assert asked_topic("what do people say about the Trailhead 2 tent?", TENT) == ""
    assert asked_topic("do reviewers like the hood on it?", TENT) == "hood"
    assert asked_topic("what do people say about it?", TENT) == ""


@pytest.mark.parametrize(("message", "cites"),
                         [("how much is it?", False), ("how heavy is it?", False), ("does it come in navy?", False),
                          ("is it in stock in M?", False), ("is it on sale?", False), ("do they run small?", True),
                          ("what do reviewers say about it?", True), ("is it comfortable?", True),
                          ("how are the reviews?", True),
                          ("Are the Riverbed sandals well reviewed?", True)])  # fmt: skip
def test_only_questions_about_reviews_cite_reviews(message: str, cites: bool) -> None:
    assert about_reviews(message) is cites


# The demo's reviews, analysed, through the chat -----------------------------------------------------------------

PRODUCTS = {"1001", "1090", "1136", "1140"}  # Ridge Shell jacket, Traverse Mid boots, Stillwater 3, Trailhead 2
BACKEND = "review-answers-small"
SMALL = Capabilities(condense=False, follows_instructions=False)  # like the bundled SmolLM2
CLOSING = "Here is what else I found:"  # dropped by the service: answers are the records' alone


def _demo_slice(name: str) -> bytes:
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".json"):
        products = json.loads(raw)
        return json.dumps({"products": [p for p in products["products"] if str(p["id"]) in PRODUCTS]}).encode()
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(r for r in rows if r["product_id"] in PRODUCTS)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def shop(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    """Four demo products and their 55 reviews, synced, indexed and analysed; the chat runs a small model."""
    register_backend(BACKEND, lambda spec: GenericFakeChatModel(messages=itertools.repeat(AIMessage(CLOSING))),
                     capabilities=SMALL)  # fmt: skip
    with module_app(redis_url, embedder, tmp_path_factory, "rev", LLM_BACKEND=BACKEND) as app:
        services = app.extensions["storebot"]
        store, keys = indexed_store(services, (_demo_slice("products.json"), "shopify", "products"),
                                    (_demo_slice("reviews.csv"), "csv", "reviews"), store_id="northwind")  # fmt: skip
        analyze_reviews(services.catalog(store.id), ReviewInsightsStore(services.redis, keys), services.embedder)
        yield app, store.id


def ask(shop: tuple[Flask, str], message: str, page: str) -> ChatResponse:
    app, store_id = shop
    service = ChatService.from_services(app.extensions["storebot"])
    response = service.respond(ChatRequest(store_id, f"rev-{uuid.uuid4().hex[:10]}", message, {"product_id": page}))
    assert response.grounding["ok"], response.grounding
    assert CLOSING not in response.text
    return response


def cited_ids(response: ChatResponse) -> list[str]:
    ids = [c.review_id for c in response.citations]
    assert all(re.search(rf"\b{rid}\b", response.text) for rid in ids), (ids, response.text)
    return ids


def test_reviews_that_mention_the_asked_aspect_are_quoted(shop: tuple[Flask, str]) -> None:
    response = ask(shop, "what do reviewers say about condensation in the Stillwater 3?", "1136")
    assert response.grounding["action"] == "summary", response.grounding
    assert response.text.startswith("2 of the 10 reviews of the Stillwater 3 Backpacking Tent mention condensation: "
                                    '"Condensation is minimal thanks to the vents."'), response.text  # fmt: skip
    assert set(cited_ids(response)) == {"890", "899"}


def test_when_no_review_mentions_the_aspect_the_answer_says_so(shop: tuple[Flask, str]) -> None:
    response = ask(shop, "what do reviewers say about condensation in this tent?", "1140")
    assert response.text == "The one review of the Trailhead 2 Backpacking Tent doesn't mention condensation."
    assert cited_ids(response) == []
    general = ask(shop, "what do people say about it?", "1140")
    assert general.text.startswith("The one review of the Trailhead 2 Backpacking Tent is "), general.text
    assert set(cited_ids(general)) <= {"911"} and "Of 1 reviews" not in general.text, general.text


def test_fit_counts_cite_the_reviews_they_count_and_quote_a_fit_remark(shop: tuple[Flask, str]) -> None:
    for page in ("1090", "1001"):
        response = ask(shop, "do they run small?", page)
        counted = re.search(r"(\d+) of (\d+) fit remarks say so \((e\.g\. )?reviews? ([\d, ]+)\)", response.text)
        assert counted, response.text
        ids = cited_ids(response)
        assert counted.group(4).split(", ") == ids
        assert counted.group(3) or len(ids) == int(counted.group(1)), response.text  # all of them, or "e.g."
        quote = re.search(r'One says: "(.+)"$', response.text)
        assert quote and fit_remark(quote.group(1)) == "small" and len(quote.group(1).split()) >= 4, response.text
        assert "Long-time Cinderpeak customer here." not in response.text


@pytest.mark.parametrize("message", ["how much are they?", "how heavy are they?", "do they come in black?",
                                     "are they in stock in size 10?"])  # fmt: skip
def test_a_price_or_spec_answer_cites_no_reviews(shop: tuple[Flask, str], message: str) -> None:
    response = ask(shop, message, "1090")
    assert response.intent == "product_question" and response.citations == [], (response.text, response.citations)
    assert "Reviewers" not in response.text and "rated" not in response.text, response.text


def test_a_comfort_question_quotes_reviews_about_comfort(shop: tuple[Flask, str]) -> None:
    response = ask(shop, "are they comfortable?", "1090")
    assert response.grounding["action"] == "summary", response.grounding
    assert "mention comfort" in response.text and cited_ids(response), response.text
    quotes = re.findall(r'"([^"]+)"', response.text)
    assert quotes and all("comfortable" in q.lower() for q in quotes), response.text
