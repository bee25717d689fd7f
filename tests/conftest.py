"""Shared fixtures: a real private Redis, the Flask app, clients, stores and a real Celery worker."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from storebot.app import create_app
from storebot.embedded_redis import EmbeddedRedis
from storebot.services import Services

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "demo"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port for the whole session (or TEST_REDIS_URL)."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix unique to the test; its keys are removed afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def app_config(redis_url: str, key_prefix: str, tmp_path: Path) -> dict[str, object]:
    return {
        "REDIS_URL": redis_url,
        "KEY_PREFIX": key_prefix,
        "DATA_DIR": str(tmp_path / "data"),
        "TESTING": True,
        # A queue per test, so a task queued by one test is never consumed by another's worker.
        "CELERY": {"task_default_queue": key_prefix},
    }


@pytest.fixture
def app(app_config: dict[str, object], embedder) -> Flask:  # type: ignore[no-untyped-def]
    """The app, with the session's embedding model plugged in so that no test reloads it."""
    app = create_app(app_config)
    app.extensions["storebot"].__dict__["embedder"] = embedder
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Services:
    return app.extensions["storebot"]  # type: ignore[no-any-return]


@pytest.fixture
def runner(app_config: dict[str, object]) -> CliRunner:
    """A click runner whose environment points the CLI at the test Redis and prefix."""
    env = {
        "REDIS_URL": str(app_config["REDIS_URL"]),
        "STOREBOT_KEY_PREFIX": str(app_config["KEY_PREFIX"]),
        "STOREBOT_DATA_DIR": str(app_config["DATA_DIR"]),
    }
    return CliRunner(env=env)


@pytest.fixture
def store(services: Services) -> tuple[str, str]:
    """A store 'acme' and its secret key."""
    created, secret = services.stores.create("Acme Outdoors", ["https://acme.example"], store_id="acme")
    return created.id, secret


@pytest.fixture
def auth(store: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {store[1]}"}


@pytest.fixture
def celery_worker(app: Flask) -> Iterator[object]:
    """A real Celery worker (solo pool, in a thread) consuming from the test Redis."""
    from celery.contrib.testing.worker import start_worker

    celery_app = app.extensions["celery"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=120) as worker:
        yield worker


@pytest.fixture(scope="session")
def embedder(redis_url: str):  # type: ignore[no-untyped-def]
    """The real bundled MiniLM, loaded once per test session, caching vectors in the test Redis."""
    from storebot.retrieval.embeddings import RedisEmbeddingCache, SentenceTransformerEmbeddings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return SentenceTransformerEmbeddings(cache=RedisEmbeddingCache(redis.Redis.from_url(redis_url), prefix="testcache"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium (Debian's, through Playwright) per browser test module.

    Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break the async tests of later modules.
    """
    from tests.browser import chromium

    with chromium() as launched:
        yield launched
