"""Index lifecycle: incremental updates, versioned publication, hot reload, rebuilds.

Redis is the source of truth. A sync records the ids it touched in each
collection's ``changes`` hash; :func:`update_index` applies exactly those to
the last published index, writes the result as a new version directory under
``<root>/<store>/v<N>`` (written under a temporary name, then renamed, with a
checksummed manifest), publishes ``N`` in Redis, and only then acknowledges the
changes it applied. A missing or corrupt index is rebuilt from Redis.

:class:`LiveIndexes` is what web processes hold: it notices a newly published
version and loads it, with no restart.

Example:
    >>> update = update_index(client, keys, Path(".storebot/indexes"), embedder)  # doctest: +SKIP
    >>> update.version, update.rebuilt                                          # doctest: +SKIP
    (1, True)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from storebot.catalog.commit import COLLECTIONS
from storebot.catalog.models import Policy, Product, Review
from storebot.catalog.repository import CatalogRepository
from storebot.keys import StoreKeys
from storebot.locks import leased_lock
from storebot.retrieval.embeddings import SentenceTransformerEmbeddings
from storebot.retrieval.filters import CatalogVocabulary
from storebot.retrieval.index import Changes, IndexCorrupt, StoreIndex

log = logging.getLogger(__name__)

KEEP_VERSIONS = 2
MODELS = {"products": Product, "reviews": Review, "policies": Policy}

# Delete a change only if it is still the one we applied (a newer sync may have re-marked it).
_ACK_LUA = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i]); n = n + 1
  end
end
return n
"""


@dataclass
class IndexUpdate:
    """What an update did."""

    version: int
    rebuilt: bool
    applied: dict[str, int]
    embedded: int
    counts: dict[str, int]
    seconds: float
    published: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class IndexRepository:
    """The versioned index directories of one store and the version published in Redis."""

    def __init__(self, client: redis.Redis, keys: StoreKeys, root: Path) -> None:
        self.redis = client
        self.keys = keys
        self.root = Path(root) / keys.store_id

    def published(self) -> int:
        return int(self.redis.get(self.keys("index", "version")) or 0)

    def manifest(self) -> dict[str, Any] | None:
        raw = self.redis.get(self.keys("index", "manifest"))
        return json.loads(raw) if raw else None

    def directory(self, version: int) -> Path:
        return self.root / f"v{version}"

    def load(self, version: int, embedder: SentenceTransformerEmbeddings) -> StoreIndex:
        return StoreIndex.load(self.directory(version), embedder)

    def publish(self, index: StoreIndex, catalog_versions: dict[str, int]) -> int:
        """Save ``index`` as the next version, atomically, and announce it in Redis."""
        version = self.published() + 1
        final = self.directory(version)
        temp = self.root / f".v{version}-{uuid.uuid4().hex[:8]}.tmp"
        manifest = index.save(temp, version=version, catalog_versions=catalog_versions)
        if final.exists():  # left by a run that died between rename and publish
            shutil.rmtree(final)
        os.replace(temp, final)
        with self.redis.pipeline() as pipe:
            pipe.set(self.keys("index", "version"), version)
            pipe.set(self.keys("index", "manifest"), json.dumps({k: v for k, v in manifest.items() if k != "files"}))
            pipe.publish(self.keys("index", "published"), version)
            pipe.execute()
        self._collect_garbage(version)
        return version

    def _collect_garbage(self, current: int) -> None:
        for path in self.root.iterdir():
            name = path.name
            old_version = name.startswith("v") and name[1:].isdigit() and int(name[1:]) <= current - KEEP_VERSIONS
            stale_temp = name.startswith(".v") and name.endswith(".tmp") and time.time() - path.stat().st_mtime > 3600
            if old_version or stale_temp:
                shutil.rmtree(path, ignore_errors=True)


def pending(client: redis.Redis, keys: StoreKeys) -> dict[str, dict[str, str]]:
    """The ids each collection has changed since the last acknowledged update."""
    return {
        kind: {k.decode(): v.decode() for k, v in client.hgetall(keys("changes", kind)).items()} for kind in COLLECTIONS
    }


def acknowledge(client: redis.Redis, keys: StoreKeys, applied: dict[str, dict[str, str]]) -> None:
    script = client.register_script(_ACK_LUA)
    for kind, changes in applied.items():
        items = list(changes.items())
        for start in range(0, len(items), 1000):
            flat = [x for pair in items[start : start + 1000] for x in pair]
            script(keys=[keys("changes", kind)], args=flat)


def _changes_from(client: redis.Redis, keys: StoreKeys, snapshot: dict[str, dict[str, str]]) -> Changes:
    changes = Changes()
    for kind, ops in snapshot.items():
        upserts = [i for i, op in ops.items() if op == "upsert"]
        deleted = [i for i, op in ops.items() if op == "delete"]
        found = []
        for start in range(0, len(upserts), 1000):
            chunk = upserts[start : start + 1000]
            for item_id, raw in zip(chunk, client.hmget(keys(kind), chunk), strict=True):
                if raw is None:
                    deleted.append(item_id)  # deleted again since it was marked
                else:
                    found.append(MODELS[kind].from_dict(json.loads(raw)))
        setattr(changes, kind, found)
        setattr(changes, f"deleted_{kind}", deleted)
    return changes


def _everything(client: redis.Redis, keys: StoreKeys) -> Changes:
    def load(kind: str) -> list[Any]:
        return [MODELS[kind].from_dict(json.loads(raw)) for _, raw in client.hscan_iter(keys(kind), count=1000)]

    return Changes(products=load("products"), reviews=load("reviews"), policies=load("policies"))


def update_index(
    client: redis.Redis,
    keys: StoreKeys,
    root: Path,
    embedder: SentenceTransformerEmbeddings,
    *,
    rebuild: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> IndexUpdate:
    """Bring a store's published index up to date with Redis; see the module docstring."""
    started = time.perf_counter()
    say = on_stage or (lambda _msg: None)
    repo = IndexRepository(client, keys, root)
    with leased_lock(client, keys("lock", "index"), wait=3600):
        snapshot = pending(client, keys)
        published = repo.published()
        index: StoreIndex | None = None
        if published and not rebuild:
            try:
                index = repo.load(published, embedder)
            except IndexCorrupt as exc:
                log.warning("index v%s of %s is unusable (%s); rebuilding from Redis", published, keys.store_id, exc)
        if index is not None and not any(snapshot.values()):
            return IndexUpdate(published, False, {}, 0, index.counts(), time.perf_counter() - started, False)
        rebuilt = index is None
        if index is None:
            say("rebuilding from the catalog in Redis")
            index, changes = StoreIndex.empty(embedder), _everything(client, keys)
        else:
            changes = _changes_from(client, keys, snapshot)
        say(f"indexing {len(changes)} changed records")
        catalog = CatalogRepository(client, keys)
        index.apply(changes, CatalogVocabulary.from_products(catalog.iter_products()))
        catalog_versions = {kind: catalog.version(kind) for kind in COLLECTIONS}
        version = repo.publish(index, catalog_versions)
        acknowledge(client, keys, snapshot)
    applied = {
        "products": len(changes.products), "deleted_products": len(changes.deleted_products),
        "reviews": len(changes.reviews), "deleted_reviews": len(changes.deleted_reviews),
        "policies": len(changes.policies), "deleted_policies": len(changes.deleted_policies),
    }  # fmt: skip
    return IndexUpdate(version, rebuilt, applied, index.embedded, index.counts(), time.perf_counter() - started, True)


class LiveIndexes:
    """Per-process cache of each store's loaded index, reloaded when a new version is published.

    By default every ``get`` reads the published version number (one Redis GET,
    ~0.1 ms), so a search right after an index update sees it; a positive
    ``check_interval`` trades that for fewer reads.

    Example:
        >>> live = LiveIndexes(client, "storebot", Path(".storebot/indexes"), embedder)  # doctest: +SKIP
        >>> index = live.get("demo")  # the published version, loaded once          # doctest: +SKIP
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        root: Path,
        embedder: SentenceTransformerEmbeddings,
        *,
        check_interval: float = 0.0,
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.root = Path(root)
        self.embedder = embedder
        self.check_interval = check_interval
        self._loaded: dict[str, StoreIndex] = {}
        self._checked: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, store_id: str) -> StoreIndex | None:
        """The store's current index, or None if it has never been indexed."""
        current = self._loaded.get(store_id)
        now = time.monotonic()
        if current is not None and now - self._checked.get(store_id, 0) < self.check_interval:
            return current
        keys = StoreKeys(self.prefix, store_id)
        repo = IndexRepository(self.redis, keys, self.root)
        version = repo.published()
        self._checked[store_id] = now
        if version == 0 or (current is not None and current.version == version):
            return current
        with self._lock_for(store_id):
            current = self._loaded.get(store_id)
            if current is not None and current.version == version:
                return current
            try:
                fresh = repo.load(version, self.embedder)
            except IndexCorrupt as exc:
                log.warning("index v%s of %s is unusable here (%s); rebuilding from Redis", version, store_id, exc)
                update_index(self.redis, keys, self.root, self.embedder, rebuild=True)
                fresh = repo.load(repo.published(), self.embedder)
            self._loaded[store_id] = fresh
            return fresh

    def _lock_for(self, store_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(store_id, threading.Lock())
