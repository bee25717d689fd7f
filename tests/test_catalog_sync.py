"""Sync semantics against a real Redis: diffs, full mode, failures, deletes, reviews."""

from __future__ import annotations

import io
import json

import pytest
import redis

from storebot.catalog.repository import CatalogRepository
from storebot.catalog.sync import SyncOptions, delete_records, sync_feed
from storebot.errors import FeedError
from storebot.keys import StoreKeys


def product(pid: str, price: str = "10.00", **extra: object) -> dict[str, object]:
    return {"id": pid, "title": f"Product {pid}", "price": price, "currency": "USD", **extra}


def jsonl(*records: dict[str, object]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())


@pytest.fixture
def keys(key_prefix: str) -> StoreKeys:
    return StoreKeys(key_prefix, "acme")


def run(client: redis.Redis, keys: StoreKeys, stream: io.BytesIO, **options: object):  # type: ignore[no-untyped-def]
    opts = SyncOptions(fmt=str(options.pop("fmt", "jsonl")), **options)  # type: ignore[arg-type]
    return sync_feed(client, keys, stream, opts, job_id="t")


def test_first_sync_adds_everything_and_records_changes(redis_client: redis.Redis, keys: StoreKeys) -> None:
    result = run(redis_client, keys, jsonl(product("a"), product("b"), product("c")))
    assert result.counts.to_dict() == {
        "received": 3, "added": 3, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0,
    }  # fmt: skip
    catalog = CatalogRepository(redis_client, keys)
    assert catalog.product_ids() == ["a", "b", "c"]
    assert str(catalog.get_product("b").price) == "10.00"
    assert catalog.pending_changes() == {"a": "upsert", "b": "upsert", "c": "upsert"}
    assert catalog.version() == 1


def test_resync_unchanged_is_a_noop_and_changed_rows_are_rewritten(redis_client: redis.Redis, keys: StoreKeys) -> None:
    run(redis_client, keys, jsonl(product("a"), product("b"), product("c")))
    redis_client.delete(keys("changes", "products"))  # as if the indexer drained them

    result = run(redis_client, keys, jsonl(product("a"), product("b", price="12.50"), product("c")))

    assert (result.counts.unchanged, result.counts.updated, result.counts.added) == (2, 1, 0)
    catalog = CatalogRepository(redis_client, keys)
    assert catalog.pending_changes() == {"b": "upsert"}
    assert str(catalog.get_product("b").price) == "12.50"


def test_incremental_sync_keeps_missing_products_and_full_sync_deletes_them(
    redis_client: redis.Redis, keys: StoreKeys
) -> None:
    run(redis_client, keys, jsonl(product("a"), product("b"), product("c")))
    redis_client.delete(keys("changes", "products"))

    partial = run(redis_client, keys, jsonl(product("a")))
    catalog = CatalogRepository(redis_client, keys)
    assert partial.counts.deleted == 0 and catalog.count() == 3

    full = run(redis_client, keys, jsonl(product("a"), product("d")), full=True)
    assert (full.counts.added, full.counts.unchanged, full.counts.deleted) == (1, 1, 2)
    assert catalog.product_ids() == ["a", "d"]
    assert catalog.pending_changes() == {"b": "delete", "c": "delete", "d": "upsert"}


def test_bad_rows_are_reported_with_line_and_field_and_good_rows_committed(
    redis_client: redis.Redis, keys: StoreKeys
) -> None:
    feed = jsonl(product("a"), product("b", price="abc"), {"title": "no id"}, product("a", price="11"), product("c"))
    result = run(redis_client, keys, feed)

    assert (result.counts.received, result.counts.added, result.counts.failed) == (5, 2, 3)
    by_line = {e.line: e for e in result.errors}
    assert by_line[2].field == "price"
    assert by_line[3].field == "id"
    assert by_line[4].field == "id" and "duplicate" in by_line[4].message and "line 1" in by_line[4].message
    catalog = CatalogRepository(redis_client, keys)
    assert catalog.product_ids() == ["a", "c"]
    assert str(catalog.get_product("a").price) == "10.00"  # the first of the duplicates was kept


def test_a_feed_that_breaks_midway_leaves_the_stored_catalog_intact(redis_client: redis.Redis, keys: StoreKeys) -> None:
    run(redis_client, keys, jsonl(product("a"), product("b")))
    before = redis_client.hgetall(keys("products"))
    items = "".join(
        f"<item><g:id>n{i}</g:id><g:title>New {i}</g:title><g:price>5.00 USD</g:price>"
        "<g:availability>in stock</g:availability></item>"
        for i in range(1200)
    )
    broken = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>'
        f"{items}<item><g:id>x</g:id><g:title>Broken</title></item></channel></rss>"
    ).encode()

    with pytest.raises(FeedError):
        run(redis_client, keys, io.BytesIO(broken), fmt="google-xml", full=True, batch_size=100)

    assert redis_client.hgetall(keys("products")) == before
    assert not list(redis_client.scan_iter(match=keys("staging", "*")))  # staging cleaned up


def test_full_sync_with_no_valid_rows_refuses_to_wipe_the_catalog(redis_client: redis.Redis, keys: StoreKeys) -> None:
    run(redis_client, keys, jsonl(product("a"), product("b")))
    with pytest.raises(FeedError, match="would delete all 2"):
        run(redis_client, keys, jsonl({"title": "no id"}), full=True)
    assert CatalogRepository(redis_client, keys).count() == 2


def test_explicit_delete_goes_through_the_same_commit(redis_client: redis.Redis, keys: StoreKeys) -> None:
    run(redis_client, keys, jsonl(product("a"), product("b")))
    result = delete_records(redis_client, keys, "products", ["a", "nope"])
    assert result.deleted == 1
    catalog = CatalogRepository(redis_client, keys)
    assert catalog.product_ids() == ["b"]
    assert catalog.pending_changes()["a"] == "delete"
    # Deleted then re-synced unchanged text counts as added again, not as unchanged.
    again = run(redis_client, keys, jsonl(product("a")))
    assert again.counts.added == 1


def test_reviews_link_to_products_and_update_rating_aggregates(redis_client: redis.Redis, keys: StoreKeys) -> None:
    run(redis_client, keys, jsonl(product("p1"), product("p2")))
    reviews = [
        {"id": "r1", "product_id": "p1", "rating": 5, "body": "Great"},
        {"id": "r2", "product_id": "p1", "rating": 2, "body": "Runs small"},
        {"id": "r3", "product_id": "p2", "rating": 4, "body": "Good"},
    ]
    run(redis_client, keys, jsonl(*reviews), kind="reviews")
    catalog = CatalogRepository(redis_client, keys)
    assert [r.id for r in catalog.reviews_for("p1")] == ["r2", "r1"]  # newest first; no dates, so by id
    p1 = catalog.get_product("p1")
    assert (p1.rating_avg, p1.rating_count) == (3.5, 2)

    # Moving a review to another product updates both sides.
    reviews[1]["product_id"] = "p2"
    run(redis_client, keys, jsonl(*reviews), kind="reviews")
    assert {r.id for r in catalog.reviews_for("p1")} == {"r1"}
    assert {r.id for r in catalog.reviews_for("p2")} == {"r2", "r3"}
    assert catalog.get_product("p2").rating_avg == 3.0


def test_stores_are_isolated_in_their_own_namespace(redis_client: redis.Redis, key_prefix: str) -> None:
    a, b = StoreKeys(key_prefix, "a"), StoreKeys(key_prefix, "b")
    run(redis_client, a, jsonl(product("1")))
    run(redis_client, b, jsonl(product("2")), full=True)
    assert CatalogRepository(redis_client, a).product_ids() == ["1"]
    assert CatalogRepository(redis_client, b).product_ids() == ["2"]
    assert all(k.decode().startswith(f"{key_prefix}:{{a}}:") for k in redis_client.scan_iter(match=a.pattern))
