"""Recommendation tasks: recompute a store's cached recommendations (after an index update, and on a schedule)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from flask import current_app

from storebot.services import Services


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


@shared_task(name="storebot.refresh_recommendations", acks_late=True)
def refresh_recommendations(store_id: str) -> dict[str, Any]:
    """Recompute similar and complementary recommendations for every product of ``store_id`` (safe to repeat)."""
    services = _services()
    services.stores.get(store_id)
    lock = services.redis.lock(services.keys(store_id)("lock", "recs"), timeout=3600, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        return {"skipped": "another refresh of this store is running"}
    try:
        return services.recommender(store_id).refresh()
    finally:
        lock.release()


@shared_task(name="storebot.refresh_all_recommendations", acks_late=True)
def refresh_all_recommendations() -> dict[str, Any]:
    """Queue a refresh for every store (the beat entry)."""
    services = _services()
    stores = [store.id for store in services.stores.list()]
    for store_id in stores:
        current_app.extensions["celery"].send_task("storebot.refresh_recommendations", args=[store_id])
    return {"queued": stores}


def schedule(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    minutes = int(settings["RECS_REFRESH_MINUTES"])
    if minutes <= 0:
        return {}
    return {"refresh-recommendations": {"task": "storebot.refresh_all_recommendations",
                                        "schedule": timedelta(minutes=minutes)}}  # fmt: skip
