"""OpenAPI entries of the review insights API (storebot/api/reviews.py): summaries, insights, time series."""

from __future__ import annotations

from storebot.api.spec.components import (
    ANY_OBJECT,
    INTEGER,
    NUMBER,
    STRING,
    array,
    nullable,
    obj,
    operation,
    path,
    query,
)

IDS = array(STRING)
POINT = obj(("aspect", "label", "text", "review_ids"), aspect=STRING, label=STRING, text=STRING, review_ids=IDS)
ASPECT = obj(("aspect", "label", "mentions", "positive", "negative", "score"), aspect=STRING, label=STRING,
             mentions=INTEGER, positive=INTEGER, negative=INTEGER, score=NUMBER)  # fmt: skip
SUMMARY = obj(
    ("product_id", "state", "review_count", "analyzed_count", "model", "shares", "aspects", "pros", "cons", "fit"),
    product_id=STRING, state={"enum": ["analyzed", "not_analyzed", "no_reviews"]}, review_count=INTEGER,
    analyzed_count=INTEGER, model=nullable({"enum": ["classifier", "vader"]}),
    shares=nullable(obj(("positive", "negative", "mixed"), positive=NUMBER, negative=NUMBER, mixed=NUMBER)),
    mean_score=nullable(NUMBER), aspects=array(ASPECT), pros=array(POINT), cons=array(POINT),
    fit=obj(("signal", "counts"), signal=nullable({"enum": ["runs_small", "true_to_size", "runs_large"]}),
            counts=ANY_OBJECT, review_ids=ANY_OBJECT, quote=STRING),
    updated_at=nullable(STRING),
)  # fmt: skip
FALLING = obj(("product_id", "title", "recent_score", "previous_score", "delta", "recent_reviews"),
              product_id=STRING, title=STRING, recent_score=NUMBER, previous_score=NUMBER, delta=NUMBER,
              recent_reviews=INTEGER, previous_reviews=INTEGER)  # fmt: skip
COMPLAINT = obj(("aspect", "label", "mentions", "product_ids", "review_ids"), aspect=STRING, label=STRING,
                mentions=INTEGER, product_ids=IDS, review_ids=IDS)  # fmt: skip
SERIES_POINT = obj(("period", "start", "reviews", "positive", "negative", "mixed", "mean_score"), period=STRING,
                   start=STRING, reviews=INTEGER, positive=INTEGER, negative=INTEGER, mixed=INTEGER,
                   mean_score=NUMBER)  # fmt: skip
TAG = "insights"

PATHS = {
    "/api/v1/products/{product_id}/reviews/summary": {
        "get": operation("What reviewers say about a product: sentiment shares, aspects, pros and cons citing "
                         "reviews, and whether it runs small or large.", auth="either", tag=TAG,
                         params=[path("product_id")], ok=SUMMARY, errors=(404,)),
    },
    "/api/v1/reviews/{review_id}": {
        "get": operation("One review with its sentiment and aspect mentions.", auth="secret", tag=TAG,
                         params=[path("review_id")], ok=obj(("review", "analysis"), review=ANY_OBJECT,
                                                            analysis=nullable(ANY_OBJECT)), errors=(404,)),
    },
    "/api/v1/insights": {
        "get": operation("Products whose review sentiment is falling, and the most-mentioned complaints.",
                         auth="secret", tag=TAG, ok=obj(("falling", "complaints"), falling=array(FALLING),
                                                        complaints=array(COMPLAINT), state=STRING,
                                                        window_days=INTEGER, updated_at=nullable(STRING))),
    },
    "/api/v1/insights/sentiment": {
        "get": operation("Review sentiment over time, for one product and aspect or the whole store.", auth="secret",
                         tag=TAG, params=[query("product", description="A product id."),
                                          query("aspect", description="An aspect key, e.g. fit."),
                                          query("interval", {"enum": ["week", "month"]})],
                         ok=obj(("product_id", "aspect", "interval", "points"), product_id=nullable(STRING),
                                aspect=nullable(STRING), interval=STRING, points=array(SERIES_POINT)),
                         errors=(404,)),
    },
}  # fmt: skip
