"""Review tasks: analyse a store's reviews (sentiment, aspects, summaries) after they change."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from storebot.insights.review_analysis import AnalysisSettings
from storebot.insights.review_analysis import analyze_reviews as analyze_store_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.services import Services


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


@shared_task(name="storebot.analyze_reviews", acks_late=True)
def analyze_reviews(store_id: str, force: bool = False) -> dict[str, Any]:
    """Analyse store ``store_id``'s reviews; a no-op when they have not changed since the last analysis."""
    services = _services()
    services.stores.get(store_id)
    return analyze_store_reviews(
        services.catalog(store_id),
        ReviewInsightsStore(services.redis, services.keys(store_id)),
        services.embedder,
        AnalysisSettings.from_settings(services.settings),
        force=force,
    )
