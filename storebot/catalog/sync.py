"""Catalog sync: upsert a feed by id and content hash, stage, then commit atomically.

A sync reads a feed as a stream, in batches:

1. Each good record is hashed; one that matches the stored hash is a no-op.
   Changed and new records are staged under job keys. Bad rows and duplicate
   ids are reported with their line and field, and skipped.
2. In ``full`` mode, stored ids missing from the feed are staged for deletion.
3. :func:`storebot.catalog.commit.commit_staged` applies the staging in one
   atomic Redis step and records the touched ids for the indexer.

If the feed turns out to be unreadable midway, or the process dies, nothing
was committed and the stored catalog is as it was. One sync per store and
kind runs at a time (a Redis lock), so concurrent syncs cannot interleave.

Example:
    >>> with open("fixtures/demo/products.json", "rb") as feed:           # doctest: +SKIP
    ...     result = sync_feed(client, keys, feed, "shopify", kind="products")
    >>> result.counts.added                                              # doctest: +SKIP
    160
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import redis

from storebot.catalog.commit import COLLECTIONS, CommitResult, Staging, commit_staged
from storebot.catalog.feeds import ParsedRow, RowError, parse_feed
from storebot.catalog.jobs import SyncCounts
from storebot.catalog.models import content_hash
from storebot.catalog.ratings import refresh_ratings
from storebot.errors import FeedError, StorebotError
from storebot.keys import StoreKeys
from storebot.locks import leased_lock

ProgressCallback = Callable[[SyncCounts, list[RowError], int], None]
"""Called after each batch with the counts, the batch's new row errors and bytes read."""


@dataclass
class SyncOptions:
    """How to read and apply a feed."""

    fmt: str
    kind: str = "products"
    full: bool = False
    mapping: Mapping[str, str] | None = None
    default_currency: str = "USD"
    base_url: str = ""
    batch_size: int = 500

    def __post_init__(self) -> None:
        if self.kind not in COLLECTIONS:
            raise StorebotError(f"Unknown kind {self.kind!r}.", fix=f"Use one of: {', '.join(COLLECTIONS)}.")


@dataclass
class SyncResult:
    counts: SyncCounts
    errors: list[RowError] = field(default_factory=list)
    version: int = 0
    changed_ids: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts.to_dict(),
            "errors": [e.to_dict() for e in self.errors],
            "version": self.version,
            "changed_ids": self.changed_ids,
        }


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and counts the bytes read through it (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def sync_lock(client: redis.Redis, keys: StoreKeys, kind: str, timeout: float = 3600) -> Any:
    """The lock that serialises writes to one store's ``kind`` collection."""
    return leased_lock(client, keys("lock", kind), wait=timeout)  # a dead holder's lease lapses in seconds


def sync_feed(
    client: redis.Redis,
    keys: StoreKeys,
    stream: BinaryIO,
    options: SyncOptions,
    *,
    job_id: str = "cli",
    progress: ProgressCallback | None = None,
    max_errors: int = 1000,
) -> SyncResult:
    """Sync one feed into a store's catalog; see the module docstring."""
    staging = Staging.for_job(keys, options.kind, job_id)
    counting = CountingReader(stream)
    reader = io.BufferedReader(counting, buffer_size=1 << 16)
    with sync_lock(client, keys, options.kind):
        staging.clear(client)  # left over from an interrupted attempt of the same job
        try:
            rows = parse_feed(
                reader,
                options.fmt,
                kind=options.kind,
                mapping=options.mapping,
                default_currency=options.default_currency,
                base_url=options.base_url,
            )
            result = _stage(client, keys, rows, options, staging, counting, progress, max_errors)
            commit = commit_staged(client, keys, options.kind, staging)
        except BaseException:
            staging.clear(client)
            raise
    result.version = commit.version
    result.changed_ids = commit.upserted + commit.deleted
    result.counts.deleted = commit.deleted
    if options.kind == "reviews" and result.changed_ids:
        refresh_ratings(client, keys)
    if progress:
        progress(result.counts, [], counting.bytes_read)
    return result


def _stage(
    client: redis.Redis,
    keys: StoreKeys,
    rows: Iterable[ParsedRow],
    options: SyncOptions,
    staging: Staging,
    counting: CountingReader,
    progress: ProgressCallback | None,
    max_errors: int,
) -> SyncResult:
    counts = SyncCounts()
    kept_errors: list[RowError] = []
    first_seen: dict[str, str] = {}  # id -> "line 12" / "item 12"
    batch: list[tuple[str, str, str]] = []  # (id, json, hash)
    batch_errors: list[RowError] = []

    def flush() -> None:
        _stage_batch(client, keys, options.kind, staging, batch, counts)
        batch.clear()
        if progress:
            progress(counts, list(batch_errors), counting.bytes_read)
        room = max_errors - len(kept_errors)
        kept_errors.extend(batch_errors[: max(room, 0)])
        batch_errors.clear()

    for row in rows:
        counts.received += 1
        errors = list(row.errors)
        record = row.record
        if record is not None and not errors:
            earlier = first_seen.get(record.id)
            if earlier is not None:
                errors.append(RowError(
                    line=row.line, field="id", record_id=record.id, unit=_unit(options.fmt),
                    message=f"duplicate id {record.id!r}, first seen at {earlier}; each id must appear once "
                    "(the first one was kept)",
                ))  # fmt: skip
            else:
                first_seen[record.id] = f"{_unit(options.fmt)} {row.line}"
        if errors or record is None:
            counts.failed += 1
            batch_errors.extend(errors or [RowError(line=row.line, field=None, message="unreadable row")])
            continue
        data = record.to_dict()
        digest = content_hash(data)
        batch.append((record.id, _dumps(data), digest))
        if len(batch) >= options.batch_size:
            flush()
    flush()

    if options.full:
        counts.deleted = _stage_deletions(client, keys, options.kind, staging, first_seen.keys())
        if not first_seen and counts.deleted:
            raise FeedError(
                f"The feed has no valid {options.kind}, and a full sync would delete all "
                f"{counts.deleted} stored {options.kind}.",
                fix="Fix the feed's errors first, or delete records explicitly with `storebot delete`.",
            )
    return SyncResult(counts=counts, errors=kept_errors)


def _stage_batch(
    client: redis.Redis,
    keys: StoreKeys,
    kind: str,
    staging: Staging,
    batch: list[tuple[str, str, str]],
    counts: SyncCounts,
) -> None:
    if not batch:
        return
    stored = client.hmget(keys("hashes", kind), [item_id for item_id, _, _ in batch])
    records: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for (item_id, doc, digest), old in zip(batch, stored, strict=True):
        if old is not None and old.decode() == digest:
            counts.unchanged += 1
            continue
        if old is None:
            counts.added += 1
        else:
            counts.updated += 1
        records[item_id] = doc
        hashes[item_id] = digest
    if records:
        with client.pipeline(transaction=False) as pipe:
            pipe.hset(staging.records, mapping=records)
            pipe.hset(staging.hashes, mapping=hashes)
            pipe.expire(staging.records, 86400)
            pipe.expire(staging.hashes, 86400)
            pipe.execute()


def _stage_deletions(client: redis.Redis, keys: StoreKeys, kind: str, staging: Staging, seen: Iterable[str]) -> int:
    seen_ids = set(seen)
    missing = [
        raw.decode()
        for raw, _digest in client.hscan_iter(keys("hashes", kind), count=1000)
        if raw.decode() not in seen_ids
    ]
    for start in range(0, len(missing), 1000):
        client.sadd(staging.deletes, *missing[start : start + 1000])
    client.expire(staging.deletes, 86400)
    return len(missing)


def delete_records(client: redis.Redis, keys: StoreKeys, kind: str, ids: Iterable[str]) -> CommitResult:
    """Delete records by id through the same atomic commit (unknown ids are ignored)."""
    if kind not in COLLECTIONS:
        raise StorebotError(f"Unknown kind {kind!r}.", fix=f"Use one of: {', '.join(COLLECTIONS)}.")
    unique = sorted(set(ids))
    staging = Staging.for_job(keys, kind, "delete")
    with sync_lock(client, keys, kind):
        staging.clear(client)
        if unique:
            client.sadd(staging.deletes, *unique)
        result = commit_staged(client, keys, kind, staging)
    if kind == "reviews" and result.deleted:
        refresh_ratings(client, keys)
    return result


def _unit(fmt: str) -> str:
    """How a format counts rows in errors: JSON documents by item, the rest by line."""
    return "item" if fmt in ("json", "shopify") else "line"


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
