"""Recommendation tasks: recompute a store's cached recommendations (after an index update, on a schedule, and a
debounced refresh of the goes-with lists after add-to-cart and purchase events)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery import shared_task
from flask import current_app

from storebot.errors import Conflict
from storebot.insights.recommend.event_refresh import EventRefreshQueue
from storebot.locks import leased_lock
from storebot.services import Services

log = logging.getLogger(__name__)


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


def _lock_name(services: Services, store_id: str) -> str:
    """One lock for every recommendation refresh of a store: full and event-driven ones never overlap."""
    return services.keys(store_id)("lock", "recs")


def event_queue(services: Services, store_id: str) -> EventRefreshQueue:
    """The store's stale goes-with lists and refresh marker (``RECS_EVENT_REFRESH_SECONDS`` apart)."""
    return EventRefreshQueue(services.redis, services.keys(store_id), services.events(store_id),
                             interval=int(services.settings["RECS_EVENT_REFRESH_SECONDS"]))  # fmt: skip


@shared_task(name="storebot.refresh_recommendations", acks_late=True)
def refresh_recommendations(store_id: str) -> dict[str, Any]:
    """Recompute similar and complementary recommendations for every product of ``store_id`` (safe to repeat)."""
    services = _services()
    services.stores.get(store_id)
    queue = event_queue(services, store_id)
    try:
        with leased_lock(services.redis, _lock_name(services, store_id), wait=0):
            stale = queue.stale()  # read before the baskets: the full refresh covers these
            result = services.recommender(store_id).refresh()
            queue.finished(stale, count_run=False)
            return result
    except Conflict:
        return {"skipped": "another refresh of this store is running"}


@shared_task(name="storebot.refresh_complementary", bind=True, acks_late=True, max_retries=None)
def refresh_complementary(self: Any, store_id: str, token: str = "") -> dict[str, Any]:
    """Recompute the goes-with lists that the store's recent events made stale (safe to repeat).

    Waits for a running full refresh by retrying later rather than computing beside it.
    """
    services = _services()
    services.stores.get(store_id)
    queue = event_queue(services, store_id)
    try:
        with leased_lock(services.redis, _lock_name(services, store_id), wait=0):
            if token:
                queue.release(token)  # events from now on schedule the next refresh
            stale = queue.stale()
            result = services.recommender(store_id).refresh_complementary(stale) if stale else {"stale": 0}
            queue.finished(stale)
            return result
    except Conflict as exc:
        raise self.retry(countdown=max(queue.interval, 5), exc=exc) from exc


def refresh_after_events(store_id: str, accepted_events: Sequence[Any]) -> bool:
    """After events were stored: schedule one debounced goes-with refresh if they linked products (the events view).

    Returns whether this call queued it. A broker that cannot take the task loses nothing: the products stay
    stale, the marker is dropped, and the next events (or the scheduled refresh) bring them up to date.
    """
    queue = event_queue(_services(), store_id)
    token = queue.note(accepted_events)
    if token is None:
        return False
    try:
        current_app.extensions["celery"].send_task(
            "storebot.refresh_complementary", args=[store_id, token], countdown=queue.interval
        )
    except Exception as exc:  # kombu raises several connection error types
        queue.release(token)
        log.warning("could not queue the goes-with refresh of store %s: %s", store_id, exc)
        return False
    return True


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
