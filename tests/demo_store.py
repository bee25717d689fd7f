"""A module-scoped app over the test Redis, and the demo store's feeds (fixtures/demo) synced into it.

Tests that need the demo catalog build it once per module with :func:`module_app` and :func:`indexed_store`:
an app with its own key prefix, Celery queue and data directory, the session's MiniLM plugged in, and its keys
removed afterwards.

Example:
    >>> with module_app(redis_url, embedder, tmp_path_factory, "sale") as app:      # doctest: +SKIP
    ...     services = app.extensions["storebot"]
    ...     store, keys = indexed_store(services, (demo_products({"Tents"}), "shopify", "products"))
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from flask import Flask

from storebot.app import create_app
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.retrieval.indexer import update_index
from tests.conftest import FIXTURES


@contextmanager
def module_app(redis_url: str, embedder: Any, tmp_path_factory: pytest.TempPathFactory, name: str,
               **config: Any) -> Iterator[Flask]:  # fmt: skip
    """An app of its own (key prefix, queue, data dir named after ``name``) with ``config`` on top; cleaned up."""
    prefix = f"{name}{uuid.uuid4().hex[:8]}"
    app = create_app({"REDIS_URL": redis_url, "KEY_PREFIX": prefix, "DATA_DIR": str(tmp_path_factory.mktemp(name)),
                      "TESTING": True, "CELERY": {"task_default_queue": prefix}, "INDEX_AFTER_SYNC": False,
                      **config})  # fmt: skip
    app.extensions["storebot"].__dict__["embedder"] = embedder
    try:
        yield app
    finally:
        client = redis.Redis.from_url(redis_url)
        doomed = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if doomed:
            client.delete(*doomed)


def sync_feed_bytes(services: Any, keys: Any, data: bytes, fmt: str, kind: str) -> None:
    """Sync one feed's bytes into a store; every row must be good."""
    result = sync_feed(services.redis, keys, io.BytesIO(data), SyncOptions(fmt=fmt, kind=kind))
    assert not result.errors, result.errors[:3]


def demo_products(keep: set[str] | Callable[[int, dict[str, Any]], bool] | None = None) -> bytes:
    """The demo's Shopify products feed, with only the product types in ``keep`` (or those a predicate of
    (position, product) keeps); all of it without ``keep``."""
    feed = json.loads((FIXTURES / "products.json").read_text())
    if keep is None:
        return json.dumps(feed).encode()
    wanted = keep if callable(keep) else (lambda _i, p: p["product_type"] in keep)
    return json.dumps({**feed, "products": [p for i, p in enumerate(feed["products"]) if wanted(i, p)]}).encode()


def indexed_store(services: Any, *feeds: tuple[bytes, str, str], store_id: str = "demo") -> tuple[Any, Any]:
    """A "Northwind Trail Co." store with ``feeds`` (data, format, kind) synced, then indexed: (store, its keys)."""
    store, _ = services.stores.create("Northwind Trail Co.", [], store_id=store_id)
    keys = services.keys(store.id)
    for data, fmt, kind in feeds:
        sync_feed_bytes(services, keys, data, fmt, kind)
    update_index(services.redis, keys, services.index_root, services.embedder)
    return store, keys
