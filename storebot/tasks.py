"""Celery tasks: thin adapters that take ids and call one domain function."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from storebot.catalog.ingest import run_sync_job
from storebot.services import Services


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


@shared_task(name="storebot.sync_catalog", acks_late=True)
def sync_catalog(store_id: str, job_id: str) -> dict[str, Any]:
    """Run sync job ``job_id`` of store ``store_id`` (a no-op if it already finished)."""
    services = _services()
    job = run_sync_job(
        services.redis,
        services.keys(store_id),
        services.jobs(store_id),
        services.uploads(store_id),
        job_id,
        batch_size=int(services.settings["SYNC_BATCH_SIZE"]),
    )
    return {"state": job["state"], "counts": job["counts"]}
