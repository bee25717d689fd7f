"""Stores: keys, hashing, rotation, origins, deletion."""

from __future__ import annotations

import pytest
import redis

from storebot.errors import Conflict, StorebotError, Unauthorized
from storebot.services import Services
from storebot.stores import normalize_origin


def test_create_returns_keys_and_stores_only_a_hash_of_the_secret(
    services: Services, redis_client: redis.Redis
) -> None:
    store, secret = services.stores.create("Northwind Trail", ["https://Shop.Example:443/"])
    assert store.id == "northwind-trail"
    assert secret.startswith("sk_") and store.publishable_key.startswith("pk_")
    assert store.origins == ["https://shop.example"]
    prefix = services.prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        kind = redis_client.type(key).decode()
        values = {
            "string": lambda k: [redis_client.get(k)],
            "hash": lambda k: list(redis_client.hgetall(k).values()),
            "set": lambda k: list(redis_client.smembers(k)),
        }[kind](key)
        assert all(secret.encode() not in (v or b"") for v in values) and secret.encode() not in key
    assert services.stores.by_secret_key(secret).id == store.id
    assert services.stores.by_publishable_key(store.publishable_key).id == store.id


def test_rotating_the_secret_revokes_the_old_one(services: Services) -> None:
    store, old = services.stores.create("Shop")
    new = services.stores.rotate_secret(store.id)
    assert services.stores.by_secret_key(new).id == store.id
    with pytest.raises(Unauthorized):
        services.stores.by_secret_key(old)


def test_duplicate_and_invalid_stores_are_refused(services: Services) -> None:
    services.stores.create("Shop")
    with pytest.raises(Conflict):
        services.stores.create("Shop")
    with pytest.raises(StorebotError, match="not valid"):
        services.stores.create("Shop", store_id="Bad Id!")
    with pytest.raises(StorebotError, match="not an origin"):
        services.stores.create("Other", ["shop.example"])


def test_origins_normalise_and_match(services: Services) -> None:
    assert normalize_origin("http://localhost:8000/path") == "http://localhost:8000"
    store, _ = services.stores.create("Shop", ["https://shop.example"])
    assert store.allows_origin("https://shop.example")
    assert not store.allows_origin("https://evil.example")
    assert not store.allows_origin(None)


def test_delete_removes_every_key_of_the_store(services: Services, redis_client: redis.Redis) -> None:
    keep, _ = services.stores.create("Keep")
    gone, secret = services.stores.create("Gone")
    for store_id in (keep.id, gone.id):
        redis_client.hset(services.keys(store_id)("products"), "p", "{}")
    services.stores.delete(gone.id)
    assert not list(redis_client.scan_iter(match=services.keys(gone.id).pattern))
    assert redis_client.hexists(services.keys(keep.id)("products"), "p")
    with pytest.raises(Unauthorized):
        services.stores.by_secret_key(secret)
    assert [s.id for s in services.stores.list()] == [keep.id]
