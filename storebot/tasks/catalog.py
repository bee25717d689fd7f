"""Catalog tasks: sync a feed, then bring the search index up to date."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from storebot.catalog.ingest import run_sync_job
from storebot.retrieval.indexer import update_index as update_store_index
from storebot.services import Services


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


def _send(name: str, *args: Any) -> None:
    current_app.extensions["celery"].send_task(name, args=list(args))


@shared_task(name="storebot.sync_catalog", acks_late=True)
def sync_catalog(store_id: str, job_id: str) -> dict[str, Any]:
    """Run sync job ``job_id`` of store ``store_id`` (a no-op if it already finished), then reindex."""
    services = _services()
    job = run_sync_job(
        services.redis,
        services.keys(store_id),
        services.jobs(store_id),
        services.uploads(store_id),
        job_id,
        batch_size=int(services.settings["SYNC_BATCH_SIZE"]),
    )
    counts = job["counts"]
    changed = counts["added"] + counts["updated"] + counts["deleted"]
    if job["state"] == "succeeded" and changed and services.settings["INDEX_AFTER_SYNC"]:
        _send("storebot.update_index", store_id)
    reviews_changed = job["state"] == "succeeded" and changed and job.get("kind") == "reviews"
    if reviews_changed and services.settings["ANALYZE_AFTER_SYNC"]:
        _send("storebot.analyze_reviews", store_id)  # sentiment, aspects and summaries follow the reviews
    return {"state": job["state"], "counts": counts}


@shared_task(name="storebot.update_index", acks_late=True)
def update_index(store_id: str, rebuild: bool = False) -> dict[str, Any]:
    """Apply the store's pending catalog changes to its search index and publish a new version."""
    services = _services()
    services.stores.get(store_id)
    result = update_store_index(
        services.redis, services.keys(store_id), services.index_root, services.embedder, rebuild=rebuild
    )
    if result.published:  # new vectors or products: recommendations follow the catalog
        _send("storebot.refresh_recommendations", store_id)
    return result.to_dict()
