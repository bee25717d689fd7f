"""Sync jobs: their state, progress counts and row errors, kept in Redis.

A job is created when a feed is accepted (by the API or the CLI), updated as
the sync runs, and kept for ``ttl`` seconds after it finishes. Row errors are
capped at ``max_errors``; the total is always counted.

Example:
    >>> jobs = JobStore(redis.Redis(), StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> job_id = jobs.create(kind="products", fmt="shopify", filename="products.json")  # doctest: +SKIP
    >>> jobs.get(job_id)["state"]  # doctest: +SKIP
    'queued'
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import redis

from storebot.catalog.feeds import RowError
from storebot.errors import NotFound
from storebot.keys import StoreKeys

STATES = ("queued", "running", "succeeded", "failed")
FINISHED = ("succeeded", "failed")


@dataclass
class SyncCounts:
    """Progress of a sync. ``received`` counts rows read, good and bad."""

    received: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class JobStore:
    """Reads and writes the sync jobs of one store."""

    def __init__(self, client: redis.Redis, keys: StoreKeys, *, max_errors: int = 1000, ttl: int = 7 * 86400) -> None:
        self.redis = client
        self.keys = keys
        self.max_errors = max_errors
        self.ttl = ttl

    def _key(self, job_id: str, *parts: str) -> str:
        return self.keys("job", job_id, *parts)

    def create(self, *, kind: str, fmt: str, filename: str = "", options: Mapping[str, Any] | None = None) -> str:
        job_id = uuid.uuid4().hex
        now = time.time()
        fields = {
            "id": job_id,
            "store": self.keys.store_id,
            "kind": kind,
            "format": fmt,
            "filename": filename,
            "options": json.dumps(dict(options or {})),
            "state": "queued",
            "created_at": now,
            "updated_at": now,
            "counts": json.dumps(SyncCounts().to_dict()),
            "error_total": 0,
            "message": "",
        }
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job_id), mapping=fields)
            pipe.expire(self._key(job_id), self.ttl)
            pipe.zadd(self.keys("jobs"), {job_id: now})
            pipe.execute()
        return job_id

    def exists(self, job_id: str) -> bool:
        return bool(self.redis.exists(self._key(job_id)))

    def get(self, job_id: str) -> dict[str, Any]:
        raw = self.redis.hgetall(self._key(job_id))
        if not raw:
            raise NotFound(f"No job {job_id!r} for this store.", fix="Jobs are kept for 7 days after they finish.")
        data = {k.decode(): v.decode() for k, v in raw.items()}
        errors = [json.loads(e) for e in self.redis.lrange(self._key(job_id, "errors"), 0, -1)]
        return {
            "id": data["id"],
            "store": data["store"],
            "kind": data["kind"],
            "format": data["format"],
            "filename": data.get("filename", ""),
            "options": json.loads(data.get("options") or "{}"),
            "state": data["state"],
            "created_at": float(data["created_at"]),
            "updated_at": float(data["updated_at"]),
            "counts": json.loads(data["counts"]),
            "message": data.get("message", ""),
            "error_total": int(data.get("error_total", 0)),
            "errors": errors,
            "errors_truncated": int(data.get("error_total", 0)) > len(errors),
        }

    def state(self, job_id: str) -> str:
        value = self.redis.hget(self._key(job_id), "state")
        if value is None:
            raise NotFound(
                f"No job {job_id!r} for this store.",
                fix=f"Use the job id an upload returned; a job is kept for {self.ttl // 86400} days after it ends.",
            )
        return value.decode()

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        ids = [i.decode() for i in self.redis.zrevrange(self.keys("jobs"), 0, limit - 1)]
        return [self.get(i) for i in ids if self.exists(i)]

    def set_format(self, job_id: str, fmt: str) -> None:
        self.redis.hset(self._key(job_id), "format", fmt)

    def start(self, job_id: str) -> None:
        """Mark running and clear what an earlier, interrupted attempt recorded."""
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job_id), mapping={
                "state": "running", "updated_at": time.time(), "error_total": 0, "message": "",
                "counts": json.dumps(SyncCounts().to_dict()),
            })  # fmt: skip
            pipe.delete(self._key(job_id, "errors"))
            pipe.execute()

    def progress(self, job_id: str, counts: SyncCounts, errors: Iterable[RowError] = ()) -> None:
        """Save counts and append new row errors (up to the cap)."""
        new = [json.dumps(e.to_dict()) for e in errors]
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job_id), mapping={"counts": json.dumps(counts.to_dict()), "updated_at": time.time()})
            if new:
                pipe.hincrby(self._key(job_id), "error_total", len(new))
                pipe.rpush(self._key(job_id, "errors"), *new)
                pipe.ltrim(self._key(job_id, "errors"), 0, self.max_errors - 1)
                pipe.expire(self._key(job_id, "errors"), self.ttl)
            pipe.execute()

    def finish(self, job_id: str, state: str, counts: SyncCounts, message: str = "") -> None:
        assert state in FINISHED
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job_id), mapping={
                "state": state, "counts": json.dumps(counts.to_dict()),
                "message": message, "updated_at": time.time(),
            })  # fmt: skip
            pipe.expire(self._key(job_id), self.ttl)
            pipe.execute()
