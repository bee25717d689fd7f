"""Review insights: a product's review summary (shoppers and merchants), merchant insights and time series."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from storebot.api.auth import (
    add_cors_headers,
    answer_preflight,
    current_store,
    require_any_key,
    require_secret_key,
    services,
)
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.reviews import merchant_report, product_review_summary, review_detail, sentiment_timeline

bp = Blueprint("reviews", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)
bp.before_request(answer_preflight)


def _insights() -> ReviewInsightsStore:
    return ReviewInsightsStore(services().redis, services().keys(current_store().id))


@bp.get("/products/<product_id>/reviews/summary")
@require_any_key
def review_summary(product_id: str):  # type: ignore[no-untyped-def]
    """Sentiment shares, aspects, pros and cons citing reviews, and the fit signal."""
    return jsonify(product_review_summary(services().catalog(current_store().id), _insights(), product_id))


@bp.get("/reviews/<review_id>")
@require_secret_key
def review_insights(review_id: str):  # type: ignore[no-untyped-def]
    """One review with its sentiment and aspects (for a dashboard following a complaint to its reviews)."""
    return jsonify(review_detail(services().catalog(current_store().id), _insights(), review_id))


@bp.get("/insights")
@require_secret_key
def insights():  # type: ignore[no-untyped-def]
    """Products whose sentiment is falling, and the most-mentioned complaints."""
    config = current_app.config
    return jsonify(merchant_report(
        services().catalog(current_store().id), _insights(), window_days=int(config["INSIGHTS_WINDOW_DAYS"]),
        min_reviews=int(config["INSIGHTS_MIN_WINDOW_REVIEWS"]),
    ))  # fmt: skip


@bp.get("/insights/sentiment")
@require_secret_key
def sentiment():  # type: ignore[no-untyped-def]
    """A time series of review sentiment, optionally for one product and one aspect."""
    return jsonify(sentiment_timeline(
        services().catalog(current_store().id), _insights(), product_id=request.args.get("product") or None,
        aspect=request.args.get("aspect") or None, interval=request.args.get("interval", "month"),
    ))  # fmt: skip
