"""Index lifecycle on a real Redis with the real embedding model: incremental, versioned, hot, self-healing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import redis

from storebot.catalog.sync import SyncOptions, delete_records, sync_feed
from storebot.keys import StoreKeys
from storebot.retrieval.index import Changes, StoreIndex
from storebot.retrieval.indexer import IndexRepository, LiveIndexes, pending, update_index
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl


@pytest.fixture
def keys(key_prefix: str) -> StoreKeys:
    return StoreKeys(key_prefix, "shop")


@pytest.fixture
def loaded(redis_client: redis.Redis, keys: StoreKeys) -> StoreKeys:
    for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(redis_client, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    return keys


def test_first_update_builds_and_publishes_version_1(redis_client, loaded, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    result = update_index(redis_client, loaded, tmp_path, embedder)
    assert (result.version, result.rebuilt, result.published) == (1, True, True)
    assert result.counts == {"products": len(PRODUCTS), "reviews": len(REVIEWS), "policies": 1}
    assert not any(pending(redis_client, loaded).values()), "applied changes are acknowledged"
    repo = IndexRepository(redis_client, loaded, tmp_path)
    assert repo.published() == 1 and (tmp_path / "shop" / "v1" / "manifest.json").exists()
    again = update_index(redis_client, loaded, tmp_path, embedder)
    assert not again.published and again.version == 1, "nothing pending: no new version"


def test_incremental_update_touches_only_changed_and_deleted_ids(redis_client, loaded, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    update_index(redis_client, loaded, tmp_path, embedder)
    changed = copy.deepcopy(PRODUCTS)
    changed[3]["description"] = "A light two-person tent, now with a bigger vestibule."
    sync_feed(redis_client, loaded, jsonl(changed), SyncOptions(fmt="jsonl"))
    delete_records(redis_client, loaded, "products", ["bottle-1"])

    before = embedder.encoded
    result = update_index(redis_client, loaded, tmp_path, embedder)

    assert result.applied["products"] == 1 and result.applied["deleted_products"] == 1
    assert result.applied["reviews"] == 0
    assert embedder.encoded - before == 1, "only the changed description is embedded (its title vector is cached)"
    assert result.counts["products"] == len(PRODUCTS) - 1 and result.version == 2
    index = LiveIndexes(redis_client, loaded.prefix, tmp_path, embedder).get("shop")
    assert index is not None and "bottle-1" not in index.products["text"].ids()
    assert [i for i, _ in index.keyword.search("vestibule", 3)] == ["tent-1"]


def test_a_full_rebuild_reuses_cached_embeddings(redis_client, loaded, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    update_index(redis_client, loaded, tmp_path, embedder)
    before = embedder.encoded
    result = update_index(redis_client, loaded, tmp_path, embedder, rebuild=True)
    assert result.rebuilt and result.version == 2
    assert embedder.encoded == before, "unchanged text is never embedded twice"


def test_web_processes_pick_up_a_new_version_without_restart(redis_client, loaded, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    update_index(redis_client, loaded, tmp_path, embedder)
    live = LiveIndexes(redis_client, loaded.prefix, tmp_path, embedder, check_interval=0)
    assert live.get("shop").version == 1  # type: ignore[union-attr]
    delete_records(redis_client, loaded, "products", ["lamp-1"])
    update_index(redis_client, loaded, tmp_path, embedder)  # e.g. by the worker
    current = live.get("shop")
    assert current is not None and current.version == 2 and "lamp-1" not in current.keyword


def test_a_corrupt_or_missing_index_is_detected_and_rebuilt(redis_client, loaded, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    update_index(redis_client, loaded, tmp_path, embedder)
    victim = next(p for p in (tmp_path / "shop" / "v1").rglob("*.bin"))
    victim.write_bytes(b"garbage" + victim.read_bytes()[7:])

    index = LiveIndexes(redis_client, loaded.prefix, tmp_path, embedder).get("shop")
    assert index is not None and index.version == 2, "the checksum mismatch triggered a rebuild"
    assert len(index.keyword) == len(PRODUCTS)

    import shutil

    shutil.rmtree(tmp_path / "shop" / "v2")
    healed = LiveIndexes(redis_client, loaded.prefix, tmp_path, embedder).get("shop")
    assert healed is not None and healed.version == 3

    result = update_index(redis_client, loaded, tmp_path, embedder)  # the worker too notices nothing is pending
    assert result.version == 3


def test_old_versions_are_garbage_collected(redis_client, loaded, tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        update_index(redis_client, loaded, tmp_path, embedder, rebuild=True)
    assert sorted(p.name for p in (tmp_path / "shop").iterdir()) == ["v3", "v4"]


def test_derived_lists_are_computed_once_per_index_version(embedder) -> None:  # type: ignore[no-untyped-def]
    index = StoreIndex.empty(embedder)
    calls: list[str] = []

    def compute(name: str) -> list[str]:
        calls.append(name)
        return [name]

    assert index.derived("a", lambda: compute("a")) == ["a"]
    assert index.derived("a", lambda: compute("a again")) == ["a"]  # remembered
    for name in "bcd":
        index.derived(name, lambda n=name: compute(n), keep=3)  # type: ignore[misc]
    assert index.derived("a", lambda: compute("a, evicted"), keep=3) == ["a, evicted"]  # the oldest went first
    index.apply(Changes())  # any change to the index forgets them
    assert index.derived("b", lambda: compute("b, after a change")) == ["b, after a change"]
    assert calls == ["a", "b", "c", "d", "a, evicted", "b, after a change"]
