"""Aspect extraction on written examples, the fit signal, and aspects discovered in the demo store's reviews."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from storebot.catalog.feeds import parse_feed
from storebot.catalog.models import Review
from storebot.insights.aspects import PrototypeIndex, fit_remark, fixed_aspects, review_sentences, split_sentences
from storebot.insights.discovery import catalog_words, discover_aspects
from storebot.insights.review_analysis import AnalysisSettings, analyze_review
from storebot.insights.review_summary import fit_summary, summarize_product
from storebot.insights.sentiment import SentimentModel
from tests.conftest import FIXTURES


def aspects_of(sentence: str) -> list[str]:
    return [m.aspect for m in fixed_aspects(sentence)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Runs small; I had to size up to an L.", ["fit"]),
        ("Stayed completely dry in a three-hour downpour.", ["warmth_waterproofing"]),
        ("Not waterproof at all, I got soaked.", ["warmth_waterproofing"]),
        ("Great value for the money.", ["value"]),
        ("Way overpriced for what you get.", ["value"]),
        ("The stitching came apart after two washes.", ["quality"]),
        ("Comfortable enough to wear all day.", ["comfort"]),
        ("Shipping was quick and the exchange was painless.", ["shipping_service"]),
        ("Warm and cozy, but the zipper broke in a week.", ["comfort", "quality", "warmth_waterproofing"]),
        ("Took it up Snowdon last weekend.", []),
    ],
)
def test_fixed_aspects_from_the_lexicon(sentence: str, expected: list[str]) -> None:
    assert sorted(aspects_of(sentence)) == expected


@pytest.mark.parametrize(
    ("sentence", "remark"),
    [
        ("Runs small, especially through the chest.", "small"),
        ("Order a size up.", "small"),
        ("I'd go up a size if I bought again.", "small"),
        ("True to size for me.", "true"),
        ("It doesn't run small at all.", "true"),
        ("Runs large, so order a size down.", "large"),
        ("A bit loose around the waist.", "large"),
        ("Great colour, love it.", None),
    ],
)
def test_fit_remarks(sentence: str, remark: str | None) -> None:
    assert fit_remark(sentence) == remark


def test_the_fit_signal_needs_a_majority_of_enough_remarks() -> None:
    def analyses(*fits: str | None) -> list[dict]:  # type: ignore[type-arg]
        return [{"id": f"r{i}", "fit": f, "fit_sentence": "x", "aspects": [], "polarity": "positive", "score": 0.9}
                for i, f in enumerate(fits)]  # fmt: skip

    small = fit_summary(analyses("small", "small", "true", None))
    assert small["signal"] == "runs_small" and small["counts"] == {"runs_small": 2, "true_to_size": 1, "runs_large": 0}
    assert small["review_ids"]["runs_small"] == ["r0", "r1"]
    assert fit_summary(analyses("small"))["signal"] is None  # one remark is not a signal
    assert fit_summary(analyses("small", "large"))["signal"] is None  # no majority
    assert fit_summary(analyses("large", "large", "large", "true"))["signal"] == "runs_large"


def test_sentences_split_on_ends_and_semicolons_with_the_title_first() -> None:
    assert split_sentences("Love it. Runs small; size up! Ok?") == ["Love it.", "Runs small;", "size up!", "Ok?"]
    assert review_sentences("Great pit zips", "Open them on the uphill.") == [
        "Great pit zips",
        "Open them on the uphill.",
    ]


def test_a_mixed_review_gets_each_aspect_its_own_sentence_sentiment() -> None:
    body = "The warmth is fantastic and I love it. The zipper broke after a week, which is awful."
    review = Review(id="r1", product_id="p1", rating=3, title="", body=body)
    sentences = review_sentences(review.title, review.body)
    model = SentimentModel.vader()
    scores = model.score(None, sentences)
    analysis = analyze_review(review, float(model.score(None, [review.body])[0]), "vader", sentences,
                              np.zeros((0, 1)), scores, None, [], AnalysisSettings())  # fmt: skip
    by_aspect = {m["aspect"]: m["sentiment"] for m in analysis["aspects"]}
    assert by_aspect == {"warmth_waterproofing": "positive", "quality": "negative"}
    assert analysis["polarity"] == "mixed"  # clear praise and a clear complaint, neither overwhelming

    summary = summarize_product("p1", [analysis], {"quality": "Quality", "warmth_waterproofing": "Warmth"}, "vader",
                                "2026-11-22T00:00:00+00:00")  # fmt: skip
    assert [p["aspect"] for p in summary["pros"]] == ["warmth_waterproofing"]
    assert [c["aspect"] for c in summary["cons"]] == ["quality"] and summary["cons"][0]["review_ids"] == ["r1"]
    assert summary["shares"] == {"positive": 0.0, "negative": 0.0, "mixed": 1.0}


def test_prototypes_catch_what_the_lexicon_misses(embedder) -> None:  # type: ignore[no-untyped-def]
    index = PrototypeIndex(embedder.encode)
    sentence = "Dumped the whole afternoon and I came home bone dry underneath."
    vector = embedder.encode([sentence])[0]
    assert "warmth_waterproofing" in index.near(vector, 0.4)
    assert fixed_aspects("Lovely colour.", embedder.encode(["Lovely colour."])[0], index) == []


def test_aspects_discovered_in_the_demo_reviews(embedder) -> None:  # type: ignore[no-untyped-def]
    with open(FIXTURES / "reviews.csv", newline="") as fh:
        sentences = [review_sentences(r["title"], r["body"]) for r in csv.DictReader(fh)]
    with open(FIXTURES / "products.json", "rb") as fh:
        products = [row.record for row in parse_feed(fh, "shopify") if row.record is not None]
    found = discover_aspects(sentences, embedder.encode, exclude=catalog_words(products), limit=8)
    keys = [a.key for a in found]
    assert len(found) == 8 and "zipper" in keys, keys
    zipper = found[keys.index("zipper")]
    assert zipper.label == "Zipper" and zipper.reviews >= 20
    assert zipper.matches("The main zipper snagged within a week.")
    # Neither fixed aspects, nor product names, nor review small talk come back as "new" aspects.
    assert not {"fit", "size", "price", "jacket", "jackets", "boots", "trail", "weekend", "usual"} & set(keys)
