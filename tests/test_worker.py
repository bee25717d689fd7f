"""The sync task on a real Celery worker: idempotent, late-acknowledged."""

from __future__ import annotations

import io
import time

from flask import Flask

from storebot.catalog.ingest import accept_upload
from storebot.services import Services


def wait_state(services: Services, store_id: str, job_id: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = services.jobs(store_id).get(job_id)
        if job["state"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_sync_task_runs_once_even_when_delivered_twice(
    app: Flask, services: Services, store: tuple[str, str], celery_worker: object
) -> None:
    store_id = store[0]
    feed = io.BytesIO(b'{"id": "a", "title": "A", "price": "3"}\n{"id": "b", "title": "B", "price": "4"}\n')
    job_id = accept_upload(
        services.jobs(store_id), services.uploads(store_id), feed, kind="products", filename="f.jsonl"
    )
    celery_app = app.extensions["celery"]

    celery_app.send_task("storebot.sync_catalog", args=[store_id, job_id])
    first = wait_state(services, store_id, job_id)
    assert first["state"] == "succeeded" and first["counts"]["added"] == 2
    version = services.catalog(store_id).version()

    outcome = celery_app.send_task("storebot.sync_catalog", args=[store_id, job_id]).get(timeout=60)
    assert outcome["state"] == "succeeded"
    second = services.jobs(store_id).get(job_id)
    assert second["counts"] == first["counts"] and second["updated_at"] == first["updated_at"]
    assert services.catalog(store_id).version() == version  # nothing re-committed


def test_sync_task_is_registered_with_late_acks(app: Flask) -> None:
    task = app.extensions["celery"].tasks["storebot.sync_catalog"]
    assert task.acks_late is True
