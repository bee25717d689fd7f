"""Feed ingestion as a job: accept an upload, then run its sync exactly once.

:func:`accept_upload` is what the API calls: it parks the upload in Redis,
detects its format and creates a queued job. :func:`run_sync_job` is what the
worker calls with the job id: it re-checks the job's state (a task may be
delivered twice), runs the sync, and records progress and row errors.

Example:
    >>> job_id = accept_upload(jobs, uploads, stream, kind="products", filename="products.json")  # doctest: +SKIP
    >>> run_sync_job(client, keys, jobs, uploads, job_id)["state"]  # doctest: +SKIP
    'succeeded'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, BinaryIO

import redis

from storebot.catalog.feeds import FORMATS, KINDS, RowError, detect_format
from storebot.catalog.jobs import FINISHED, JobStore, SyncCounts
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.catalog.uploads import UploadStore
from storebot.errors import StorebotError
from storebot.keys import StoreKeys

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192


def resolve_format(fmt: str, filename: str, head: bytes, kind: str) -> str:
    """``fmt`` if given (and known), else detected from the name and first bytes."""
    if kind not in KINDS:
        raise StorebotError(f"Unknown kind {kind!r}.", fix=f"Use one of: {', '.join(KINDS)}.")
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise StorebotError(f"Unknown feed format {fmt!r}.", fix=f"Use one of: {', '.join(FORMATS)}, or auto.")
        return fmt
    return detect_format(filename, head, kind)


def accept_upload(
    jobs: JobStore,
    uploads: UploadStore,
    stream: BinaryIO,
    *,
    kind: str,
    filename: str = "",
    fmt: str = "auto",
    options: Mapping[str, Any] | None = None,
) -> str:
    """Store an uploaded feed and create its queued job; returns the job id."""
    options = dict(options or {})
    job_id = jobs.create(kind=kind, fmt=fmt or "auto", filename=filename, options=options)
    try:
        size = uploads.put(job_id, stream)
        if size == 0:
            raise StorebotError("The upload is empty.", fix="Send the feed as the request body or a `file` form field.")
        with uploads.open(job_id) as reader:
            head = reader.read(SNIFF_BYTES)
        resolved = resolve_format(fmt, filename, head, kind)
    except StorebotError as exc:
        uploads.delete(job_id)
        jobs.finish(job_id, "failed", SyncCounts(), message=str(exc))
        raise
    jobs.set_format(job_id, resolved)
    return job_id


def sync_options_from_job(job: Mapping[str, Any], batch_size: int = 500) -> SyncOptions:
    opts = job.get("options") or {}
    return SyncOptions(
        fmt=job["format"],
        kind=job["kind"],
        full=bool(opts.get("full")),
        mapping=opts.get("mapping") or None,
        default_currency=opts.get("currency") or "USD",
        base_url=opts.get("base_url") or "",
        batch_size=batch_size,
    )


def run_sync_job(
    client: redis.Redis,
    keys: StoreKeys,
    jobs: JobStore,
    uploads: UploadStore,
    job_id: str,
    *,
    batch_size: int = 500,
) -> dict[str, Any]:
    """Run a queued sync job once; a finished job is returned untouched."""
    job = jobs.get(job_id)
    if job["state"] in FINISHED:
        return job
    jobs.start(job_id)
    with uploads.open(job_id) as stream:
        run_sync(client, keys, jobs, job_id, stream, sync_options_from_job(job, batch_size))
    uploads.delete(job_id)
    return jobs.get(job_id)


def run_sync(
    client: redis.Redis,
    keys: StoreKeys,
    jobs: JobStore,
    job_id: str,
    stream: BinaryIO,
    options: SyncOptions,
    on_progress: Any = None,
) -> SyncCounts:
    """Sync ``stream`` under job ``job_id``, recording progress; never raises a feed error."""
    last = SyncCounts()

    def progress(counts: SyncCounts, errors: list[RowError], bytes_read: int) -> None:
        nonlocal last
        last = counts
        jobs.progress(job_id, counts, errors)
        if on_progress:
            on_progress(counts, bytes_read)

    try:
        result = sync_feed(client, keys, stream, options, job_id=job_id, progress=progress,
                           max_errors=jobs.max_errors)  # fmt: skip
    except StorebotError as exc:
        jobs.finish(job_id, "failed", last, message=f"{exc} Nothing was changed.")
        return last
    except Exception:
        log.exception("sync job %s failed", job_id)
        jobs.finish(job_id, "failed", last, message="Internal error while syncing; nothing was changed. "
                    "The worker log has the details.")  # fmt: skip
        raise
    summary = _summary(result.counts)
    jobs.finish(job_id, "succeeded", result.counts, message=summary)
    return result.counts


def _summary(counts: SyncCounts) -> str:
    parts = [f"{counts.received} received", f"{counts.added} added", f"{counts.updated} updated",
             f"{counts.unchanged} unchanged", f"{counts.deleted} deleted", f"{counts.failed} failed"]  # fmt: skip
    return ", ".join(parts) + "."
