"""The one place where configuration becomes objects, lazily and once per process.

Heavy or stateful things (the Redis connection, the embedded redis-server,
later the embedding model, the index and the LLM) are built on first use, so
that a Celery worker builds them after it forks, never before.

Example:
    >>> services = Services(load_settings({"REDIS_URL": "redis://localhost:6379/0"}))  # doctest: +SKIP
    >>> services.catalog("demo").count()  # doctest: +SKIP
    160
"""

from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from storebot.catalog.jobs import JobStore
from storebot.catalog.repository import CatalogRepository, ProductCache
from storebot.catalog.uploads import UploadStore
from storebot.chat.session import SessionStore
from storebot.cipher import SecretCipher
from storebot.embedded_redis import EmbeddedRedis
from storebot.errors import RedisUnavailable
from storebot.keys import StoreKeys
from storebot.stores import StoreRegistry

if TYPE_CHECKING:
    from storebot.insights.events import EventStore
    from storebot.insights.recommend import Recommender
    from storebot.retrieval.embeddings import SentenceTransformerEmbeddings
    from storebot.retrieval.indexer import LiveIndexes


class Services:
    """Lazily built, process-wide objects, configured from a settings dict."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.embedded_redis: EmbeddedRedis | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.settings["DATA_DIR"])

    @cached_property
    def redis_url(self) -> str:
        """``REDIS_URL``, or the URL of the embedded redis-server (started if needed)."""
        if self.settings.get("REDIS_URL"):
            return str(self.settings["REDIS_URL"])
        self.embedded_redis = EmbeddedRedis(self.data_dir / "redis", binary=self.settings.get("REDIS_SERVER_BIN", ""))
        return self.embedded_redis.start()

    @cached_property
    def redis(self) -> redis.Redis:
        client = redis.Redis.from_url(self.redis_url, health_check_interval=30)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(
                f"Cannot reach Redis at {_redact(self.redis_url)}: {exc}.",
                fix="Check that it is running and REDIS_URL is right, or unset REDIS_URL to use "
                "storebot's embedded Redis.",
            ) from exc
        return client

    @property
    def prefix(self) -> str:
        return str(self.settings["KEY_PREFIX"])

    @cached_property
    def cipher(self) -> SecretCipher:
        """Encrypts store secrets at rest: ``SECRETS_KEY``, else a key generated once under DATA_DIR."""
        return SecretCipher.from_settings(self.settings, self.data_dir)

    @cached_property
    def stores(self) -> StoreRegistry:
        return StoreRegistry(self.redis, prefix=self.prefix, cipher=self.cipher)

    def keys(self, store_id: str) -> StoreKeys:
        return StoreKeys(self.prefix, store_id)

    def jobs(self, store_id: str) -> JobStore:
        return JobStore(
            self.redis,
            self.keys(store_id),
            max_errors=int(self.settings["MAX_ROW_ERRORS"]),
            ttl=int(self.settings["JOB_TTL_DAYS"]) * 86400,
        )

    def uploads(self, store_id: str) -> UploadStore:
        return UploadStore(self.redis, self.keys(store_id), max_bytes=int(self.settings["MAX_UPLOAD_MB"]) << 20)

    def sessions(self, store_id: str) -> SessionStore:
        return SessionStore(
            self.redis,
            self.keys(store_id),
            ttl=int(self.settings["CHAT_TTL_DAYS"]) * 86400,
            max_messages=int(self.settings["CHAT_MAX_MESSAGES"]),
        )

    @cached_property
    def product_cache(self) -> ProductCache:
        return ProductCache()

    def catalog(self, store_id: str) -> CatalogRepository:
        return CatalogRepository(self.redis, self.keys(store_id), self.product_cache)

    @cached_property
    def embedder(self) -> SentenceTransformerEmbeddings:
        """The embedding model (loaded on first use) with the Redis embedding cache."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are bundled; never reach for the hub
        from storebot.retrieval.embeddings import RedisEmbeddingCache, SentenceTransformerEmbeddings

        return SentenceTransformerEmbeddings(
            self.settings["EMBEDDING_MODEL"], cache=RedisEmbeddingCache(self.redis, prefix=self.prefix)
        )

    def warm_up(self) -> float:
        """Load the embedding model now and embed one query; the seconds it took.

        A web worker calls it when it starts (``storebot serve``), so the first shopper's question does not wait
        the ~10 s that importing torch and loading MiniLM take.
        """
        started = time.perf_counter()
        self.embedder.encode_query("warm up")
        return time.perf_counter() - started

    @property
    def index_root(self) -> Path:
        return self.data_dir / "indexes"

    @cached_property
    def indexes(self) -> LiveIndexes:
        from storebot.retrieval.indexer import LiveIndexes

        return LiveIndexes(self.redis, self.prefix, self.index_root, self.embedder)

    def events(self, store_id: str) -> EventStore:
        """The store's shopper events (bounded by EVENTS_MAX and EVENTS_RETENTION_DAYS)."""
        from storebot.insights.events import EventStore

        return EventStore(self.redis, self.keys(store_id), self.catalog(store_id),
                          max_events=int(self.settings["EVENTS_MAX"]),
                          retention_days=float(self.settings["EVENTS_RETENTION_DAYS"]),
                          half_life_hours=float(self.settings["TRENDING_HALF_LIFE_HOURS"]))  # fmt: skip

    def recommender(self, store_id: str) -> Recommender:
        """The store's recommender: cached similar and complementary, personal and trending on request."""
        from storebot.insights.recommend import RecommendationCache, RecommendationSettings, Recommender

        return Recommender(self.catalog(store_id), lambda: self.indexes.get(store_id), self.events(store_id),
                           self.sessions(store_id), RecommendationCache(self.redis, self.keys(store_id)),
                           RecommendationSettings.from_settings(self.settings))  # fmt: skip

    def close(self) -> None:
        if self.embedded_redis is not None:
            self.embedded_redis.stop()


def _redact(url: str) -> str:
    """Hide a password in a Redis URL before it reaches a message."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1) if "://" in url else ("redis", url)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
