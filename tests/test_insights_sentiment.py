"""Review sentiment: the per-store classifier on the demo store, the VADER fallback, and the stored model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import redis

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.insights.review_analysis import AnalysisSettings, analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.sentiment import SentimentModel, polarity, train_sentiment_model
from storebot.services import Services
from tests.conftest import FIXTURES
from tests.retrieval_catalog import PRODUCTS, REVIEWS, jsonl


def load_demo(services: Services, store_id: str) -> None:
    keys = services.keys(store_id)
    with open(FIXTURES / "products.json", "rb") as fh:
        sync_feed(services.redis, keys, fh, SyncOptions(fmt="shopify", kind="products"))
    with open(FIXTURES / "reviews.csv", "rb") as fh:
        sync_feed(services.redis, keys, fh, SyncOptions(fmt="csv", kind="reviews"))


@pytest.mark.slow
@pytest.mark.timeout(900)  # embeds 1,165 reviews and their ~5,000 sentences once per test session
def test_the_demo_store_trains_its_own_calibrated_classifier(
    services: Services, store: tuple[str, str], redis_client: redis.Redis
) -> None:
    store_id = store[0]
    load_demo(services, store_id)
    catalog, insights = services.catalog(store_id), ReviewInsightsStore(services.redis, services.keys(store_id))
    result = analyze_reviews(catalog, insights, services.embedder, AnalysisSettings.from_settings(services.settings))
    assert result["state"] == "analyzed" and result["model"] == "classifier" and result["analyzed"] == 1165

    # Stored as JSON numbers (no pickle): weights for 384 embedding dimensions, 4 VADER scores and the TF-IDF terms.
    raw = json.loads(redis_client.get(services.keys(store_id)("insights", "model")))
    assert raw["kind"] == "classifier" and raw["features"] == ["embedding", "vader", "tfidf"]
    assert len(raw["vocabulary"]) > 500 and len(raw["idf"]) == len(raw["vocabulary"])
    assert len(raw["coef"]) == 384 + 4 + len(raw["vocabulary"]) and len(raw["platt"]) == 2
    assert raw["trained"] == {"positive": 816, "negative": 220}
    assert raw["validation"]["macro_f1"] >= 0.85, raw["validation"]
    # Every demo review has a title, so the store also gets the title model that scores sentences.
    assert raw["titles"]["kind"] == "classifier" and raw["titles"]["trained"] == raw["trained"]
    assert raw["titles"]["titles"] is None and len(raw["titles"]["vocabulary"]) < len(raw["vocabulary"])

    analyses = list(insights.reviews())
    assert len(analyses) == 1165 and {a["model"] for a in analyses} == {"classifier"}
    assert all(0.0 <= a["score"] <= 1.0 for a in analyses)
    rated = [a for a in analyses if a["rating"] != 3]
    agree = sum((a["score"] >= 0.5) == (a["rating"] >= 4) for a in rated) / len(rated)
    assert agree >= 0.9, agree
    ones = [a for a in analyses if a["rating"] == 1]
    assert sum(a["polarity"] == "negative" for a in ones) / len(ones) >= 0.8

    # A second run on unchanged reviews does nothing; a forced one re-embeds nothing (the cache holds every text).
    assert analyze_reviews(catalog, insights, services.embedder)["state"] == "unchanged"
    encoded = services.embedder.encoded
    assert analyze_reviews(catalog, insights, services.embedder, force=True)["state"] == "analyzed"
    assert services.embedder.encoded == encoded
    assert insights.model() is not None and insights.model().fingerprint == raw["fingerprint"]  # not retrained


def test_a_store_with_few_rated_reviews_falls_back_to_vader(services: Services, store: tuple[str, str]) -> None:
    store_id = store[0]
    keys = services.keys(store_id)
    reviews = [
        *REVIEWS,
        {"id": "rv9", "product_id": "rain-1", "rating": 1, "body": "Terrible. The seams leaked and I was miserable."},
        {"id": "rv10", "product_id": "rain-1", "rating": 5, "body": "Love it! A fantastic jacket, highly recommended."},
    ]
    sync_feed(services.redis, keys, jsonl(PRODUCTS), SyncOptions(fmt="jsonl", kind="products"))
    sync_feed(services.redis, keys, jsonl(reviews), SyncOptions(fmt="jsonl", kind="reviews"))
    insights = ReviewInsightsStore(services.redis, keys)
    result = analyze_reviews(services.catalog(store_id), insights, services.embedder, AnalysisSettings())
    assert result["model"] == "vader"
    model = insights.model()
    assert model is not None and model.kind == "vader" and "rated reviews" in model.reason
    bad = insights.review("rv9")
    assert bad is not None and bad["model"] == "vader" and bad["polarity"] == "negative"
    assert insights.review("rv10")["polarity"] == "positive"  # type: ignore[index]
    summary = insights.summary("rain-1")
    assert summary is not None and summary["model"] == "vader" and summary["analyzed_count"] == 4


def test_training_falls_back_when_one_class_is_too_small() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(80, 8))
    texts = ["fine"] * 80
    model = train_sentiment_model(vectors, texts, [5] * 75 + [1] * 5, min_rated=20, min_per_class=10,
                                  features=("embedding",))  # fmt: skip
    assert model.kind == "vader" and model.trained == {"positive": 75, "negative": 5}


def test_a_trained_model_round_trips_through_json_and_separates_the_classes() -> None:
    rng = np.random.default_rng(1)
    labels = np.array([1] * 60 + [0] * 40)
    vectors = rng.normal(size=(100, 6)) + labels[:, None] * 1.5  # the positives are shifted
    ratings = [5 if y else 1 for y in labels]
    model = train_sentiment_model(vectors, ["x"] * 100, ratings, min_rated=50, min_per_class=10,
                                  features=("embedding",))  # fmt: skip
    assert model.kind == "classifier" and model.validation["accuracy"] >= 0.85
    again = SentimentModel.from_dict(json.loads(json.dumps(model.to_dict())))
    scores = again.score(vectors, ["x"] * 100)
    assert np.allclose(scores, model.score(vectors, ["x"] * 100))
    assert scores[labels == 1].mean() > 0.7 > 0.3 > scores[labels == 0].mean()
    assert [polarity(s) for s in (0.9, 0.5, 0.1)] == ["positive", "mixed", "negative"]


def test_the_title_model_scores_sentences_with_the_review_model() -> None:
    rng = np.random.default_rng(2)
    labels = np.array([1] * 60 + [0] * 40)
    vectors = rng.normal(size=(100, 6)) + labels[:, None] * 1.5
    ratings = [5 if y else 1 for y in labels]
    short = rng.normal(size=(100, 6)) + labels[:, None] * 3.0  # the titles separate the classes more sharply
    model = train_sentiment_model(vectors, ["x"] * 100, ratings, min_rated=50, min_per_class=10,
                                  features=("embedding",), titles=["t"] * 100, title_vectors=short,
                                  title_ratings=ratings)  # fmt: skip
    assert model.titles is not None and model.titles.kind == "classifier"
    assert model.titles.validation["accuracy"] > model.validation["accuracy"]
    again = SentimentModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model and isinstance(again.titles, SentimentModel)
    probe = rng.normal(size=(20, 6))
    expected = (model.score(probe, ["p"] * 20) + model.titles.score(probe, ["p"] * 20)) / 2
    assert np.allclose(again.score_sentences(probe, ["p"] * 20), expected)
    assert not np.allclose(expected, model.score(probe, ["p"] * 20))

    # Too few rated titles: no title model, and sentences get the review model's scores.
    few = train_sentiment_model(vectors, ["x"] * 100, ratings, min_rated=50, min_per_class=10,
                                features=("embedding",), titles=["t"] * 10, title_vectors=short[:10],
                                title_ratings=ratings[:10])  # fmt: skip
    assert few.titles is None
    assert np.allclose(few.score_sentences(probe, ["p"] * 20), few.score(probe, ["p"] * 20))
    # An old stored model (no "titles" key) still loads.
    old = {k: v for k, v in model.to_dict().items() if k != "titles"}
    assert SentimentModel.from_dict(old).titles is None
