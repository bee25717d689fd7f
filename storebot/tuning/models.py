"""The per-store model registry: fine-tuned versions, their status, and which one the chat uses.

A version records its backend, base model, the served model (a GGUF path or
an OpenAI ``ft:`` name), the adapter for the local backend, the data hash,
hyperparameters, metrics and status: ``candidate``, ``active``, ``rejected``
or ``retired``. Promoting a version writes it into the store's ``llm_*``
settings, which is what the chat reads (:func:`storebot.llm.spec_for_store`).
The settings from before the first promotion are kept, so rolling back past
the oldest version restores the store's base model. An OpenAI version trained at
an OpenAI-compatible endpoint (``TUNING_OPENAI_BASE_URL``) records it, and
promoting it points the store's ``llm_base_url`` there, if the LLM allow-list
(:mod:`storebot.llm.urls`) lets the chat call it.

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
from collections.abc import Mapping
from typing import Any

import redis

from storebot.errors import Conflict, NotFound
from storebot.keys import StoreKeys
from storebot.llm.urls import LLMURLNotAllowed, allowlist, is_allowed
from storebot.stores import StoreRegistry

STATUSES = ("candidate", "active", "rejected", "retired")
LLM_FIELDS = ("llm_backend", "llm_model", "llm_adapter", "llm_base_url")
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


def trained_at(base_url: str) -> str:
    """The endpoint a version must be served from: ``base_url``, or "" for OpenAI's own."""
    url = (base_url or "").strip().rstrip("/")
    return "" if url in ("", OPENAI_DEFAULT_URL) else url


class ModelRegistry:
    """Versions of a store's fine-tuned model, and promotion and rollback.

    Example:
        >>> ModelRegistry(client, keys, stores).listing()  # doctest: +SKIP
        {'active': None, 'items': []}
    """

    def __init__(
        self, client: redis.Redis, keys: StoreKeys, stores: StoreRegistry, settings: Mapping[str, Any] | None = None
    ) -> None:
        self.redis, self.keys, self.stores = client, keys, stores
        self.settings = settings or {}  # the LLM allow-list; none: only api.openai.com

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
        base_url: str = "",
    ) -> dict[str, Any]:
        """Record a new candidate version (``v1``, ``v2``...); ``base_url``: the endpoint it was trained at."""
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
        if trained_at(base_url):
            record["base_url"] = trained_at(base_url)
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
            "llm_base_url": record.get("base_url", ""),
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
        self._check_endpoint(record)
        self._apply(self.spec_settings(version))
        if current:
            self.update(current, status="retired")
            self.redis.rpush(self._key("history"), current)
        self.redis.set(self._key("active"), version)
        return self.update(version, status="active", promoted_at=time.time(), promotion=reason)

    def _check_endpoint(self, record: dict[str, Any]) -> None:
        """A version served from its own endpoint needs that endpoint on the allow-list (the SSRF guard)."""
        url = record.get("base_url")
        if url and not is_allowed(url, allowlist(self.settings)):
            raise LLMURLNotAllowed(
                f"{record['version']} was fine-tuned at {url}, so the chat would call it there, but that endpoint "
                f"is not on this server's LLM allow-list ({', '.join(allowlist(self.settings))}).",
                fix="Add its host or URL prefix to STOREBOT_LLM_BASE_URL_ALLOWLIST (comma-separated), "
                "then promote it again.",
            )

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
