"""The per-store model registry: fine-tuned versions, their status, and which one the chat uses.

A version records its backend, base model, the served model (a GGUF path or
an OpenAI ``ft:`` name), the adapter for the local backend, the data hash,
hyperparameters, metrics and status: ``candidate``, ``active``, ``rejected``
or ``retired``. Promoting a version writes it into the store's ``llm_*``
settings, which is what the chat reads (:func:`storebot.llm.spec_for_store`).
The settings from before the first promotion are kept, so rolling back past
the oldest version restores the store's base model.

Example:
    >>> models = ModelRegistry(client, StoreKeys("storebot", "demo"), stores)  # doctest: +SKIP
    >>> v = models.add(backend="local", base_model="SmolLM2-135M-Instruct", model="", adapter="/a.gguf",
    ...                data_hash="ab12", hyperparameters={}, metrics={})          # doctest: +SKIP
    >>> models.promote(v["version"])["status"]                                   # doctest: +SKIP
    'active'
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from storebot.errors import Conflict, NotFound
from storebot.keys import StoreKeys
from storebot.stores import StoreRegistry

STATUSES = ("candidate", "active", "rejected", "retired")
LLM_FIELDS = ("llm_backend", "llm_model", "llm_adapter")


class ModelRegistry:
    """Versions of a store's fine-tuned model, and promotion and rollback.

    Example:
        >>> ModelRegistry(client, keys, stores).listing()  # doctest: +SKIP
        {'active': None, 'items': []}
    """

    def __init__(self, client: redis.Redis, keys: StoreKeys, stores: StoreRegistry) -> None:
        self.redis, self.keys, self.stores = client, keys, stores

    def _key(self, *parts: str) -> str:
        return self.keys("tuning", *parts)

    def add(
        self,
        *,
        backend: str,
        base_model: str,
        model: str,
        adapter: str = "",
        data_hash: str,
        hyperparameters: dict[str, Any],
        metrics: dict[str, Any],
        run_id: str = "",
    ) -> dict[str, Any]:
        """Record a new candidate version (``v1``, ``v2``...)."""
        version = f"v{int(self.redis.incr(self._key('model_seq')))}"
        record: dict[str, Any] = {
            "version": version,
            "backend": backend,
            "base_model": base_model,
            "model": model,
            "status": "candidate",
            "data_hash": data_hash,
            "hyperparameters": hyperparameters,
            "metrics": metrics,
            "created_at": time.time(),
            "run_id": run_id,
        }
        if adapter:
            record["adapter"] = adapter
        self._save(record)
        return record

    def _save(self, record: dict[str, Any]) -> None:
        self.redis.hset(self._key("models"), record["version"], json.dumps(record))

    def get(self, version: str) -> dict[str, Any]:
        raw = self.redis.hget(self._key("models"), version)
        if raw is None:
            raise NotFound(f"No model version {version!r} for this store.", fix="List them with GET /api/v1/models.")
        return json.loads(raw)  # type: ignore[no-any-return]

    def update(self, version: str, **fields: Any) -> dict[str, Any]:
        record = self.get(version) | fields
        self._save(record)
        return record

    def active(self) -> str | None:
        value = self.redis.get(self._key("active"))
        return value.decode() if value else None

    def listing(self) -> dict[str, Any]:
        """``{"active": version | None, "items": [...]}``, newest first."""
        items = [json.loads(v) for v in self.redis.hvals(self._key("models"))]
        items.sort(key=lambda r: int(r["version"][1:]), reverse=True)
        return {"active": self.active(), "items": items}

    def spec_settings(self, version: str | None) -> dict[str, Any]:
        """The store ``llm_*`` settings that serve ``version`` (None: the base settings)."""
        if version is None:
            return self._base() or {f: self.stores.get(self.keys.store_id).settings.get(f) for f in LLM_FIELDS}
        record = self.get(version)
        return {
            "llm_backend": record["backend"],
            "llm_model": record["model"],
            "llm_adapter": record.get("adapter", ""),
        }

    def _base(self) -> dict[str, Any] | None:
        raw = self.redis.get(self._key("base_settings"))
        return json.loads(raw) if raw else None

    def _apply(self, settings: dict[str, Any]) -> None:
        store = self.stores.get(self.keys.store_id)
        if self._base() is None:
            self.redis.set(self._key("base_settings"), json.dumps({f: store.settings.get(f) for f in LLM_FIELDS}))
        for name in LLM_FIELDS:
            if settings.get(name):
                store.settings[name] = settings[name]
            else:
                store.settings.pop(name, None)
        self.stores.save(store)

    def promote(self, version: str, *, reason: str = "promoted by the merchant") -> dict[str, Any]:
        """Make ``version`` the store's active model; the previous one is retired and remembered for rollback."""
        record = self.get(version)
        current = self.active()
        if current == version:
            return record
        if record["status"] == "rejected" and reason.startswith("gate"):
            raise Conflict(f"{version} was rejected by the evaluation gate.", fix="Promote it by hand if you must.")
        self._apply(self.spec_settings(version))
        if current:
            self.update(current, status="retired")
            self.redis.rpush(self._key("history"), current)
        self.redis.set(self._key("active"), version)
        return self.update(version, status="active", promoted_at=time.time(), promotion=reason)

    def rollback(self) -> dict[str, Any]:
        """Go back to the previously active version, or to the base model when there is none.

        Returns ``{"active": version | None, "retired": the version rolled back from}``.

        Raises:
            Conflict: nothing is active, so there is nothing to roll back.
        """
        current = self.active()
        if current is None:
            raise Conflict(
                "No fine-tuned model is active, so there is nothing to roll back.",
                fix="Promote a version first (POST /api/v1/models/<version>/promote).",
            )
        previous = self.redis.rpop(self._key("history"))
        target = previous.decode() if previous else None
        self._apply(self.spec_settings(target))
        self.update(current, status="retired", rolled_back_at=time.time())
        if target:
            self.redis.set(self._key("active"), target)
            self.update(target, status="active")
        else:
            self.redis.delete(self._key("active"))
        return {"active": target, "retired": current}
