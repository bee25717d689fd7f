"""Fine-tuning runs: state, progress, metrics and the gate's decision, kept in Redis like sync jobs.

States: ``queued``, ``running``, ``succeeded``, ``failed``, and ``skipped``
(the schedule found too few new examples; ``message`` says why).

Example:
    >>> runs = RunStore(client, StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> run_id = runs.create(trigger="manual", backend="local")  # doctest: +SKIP
    >>> runs.get(run_id)["state"]                                # doctest: +SKIP
    'queued'
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from storebot.errors import NotFound
from storebot.keys import StoreKeys

FINISHED = ("succeeded", "failed", "skipped")
_JSON = ("metrics", "decision", "dataset", "error")


class RunStore:
    """Reads and writes the fine-tuning runs of one store.

    Example:
        >>> RunStore(client, keys).recent(5)  # doctest: +SKIP
        []
    """

    def __init__(self, client: redis.Redis, keys: StoreKeys, *, ttl: int = 90 * 86400) -> None:
        self.redis, self.keys, self.ttl = client, keys, ttl

    def _key(self, *parts: str) -> str:
        return self.keys("tuning", *parts)

    def create(self, *, trigger: str, backend: str, state: str = "queued", message: str = "") -> str:
        run_id = uuid.uuid4().hex
        now = time.time()
        fields = {
            "id": run_id,
            "store": self.keys.store_id,
            "trigger": trigger,
            "backend": backend,
            "state": state,
            "stage": "",
            "progress": 0.0,
            "message": message,
            "version": "",
            "created_at": now,
            "updated_at": now,
        }
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key("run", run_id), mapping=fields)
            pipe.expire(self._key("run", run_id), self.ttl)
            pipe.zadd(self._key("runs"), {run_id: now})
            pipe.execute()
        return run_id

    def get(self, run_id: str) -> dict[str, Any]:
        raw = self.redis.hgetall(self._key("run", run_id))
        if not raw:
            raise NotFound(
                f"No fine-tuning run {run_id!r} for this store.", fix="List runs with GET /api/v1/tuning/runs."
            )
        data: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
        for name in ("progress", "created_at", "updated_at"):
            data[name] = float(data.get(name) or 0)
        for name in _JSON:
            data[name] = json.loads(data[name]) if data.get(name) else None
        data["version"] = data.get("version") or None
        return data

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        ids = [i.decode() for i in self.redis.zrevrange(self._key("runs"), 0, limit - 1)]
        return [self.get(i) for i in ids if self.redis.exists(self._key("run", i))]

    def update(self, run_id: str, **fields: Any) -> None:
        values = {k: json.dumps(v) if k in _JSON else ("" if v is None else v) for k, v in fields.items()}
        values["updated_at"] = time.time()
        self.redis.hset(self._key("run", run_id), mapping=values)

    def progress(self, run_id: str, stage: str, fraction: float) -> None:
        self.update(run_id, stage=stage, progress=round(max(0.0, min(fraction, 1.0)), 4))

    def finish(self, run_id: str, state: str, message: str = "", **fields: Any) -> None:
        assert state in FINISHED
        self.update(run_id, state=state, message=message, progress=1.0, **fields)

    def last_completed_at(self) -> float:
        """When a run last trained (succeeded or failed after starting), or 0."""
        value = self.redis.get(self._key("last_run_at"))
        return float(value) if value else 0.0

    def mark_ran(self, when: float) -> None:
        self.redis.set(self._key("last_run_at"), when)
