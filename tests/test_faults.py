"""Faults, each with a real Redis and a real worker: Redis down, a worker killed mid-sync, concurrent syncs,
a failing or hanging LLM, a missing or corrupt index.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from storebot.app import create_app
from storebot.catalog.ingest import accept_upload
from storebot.catalog.repository import CatalogRepository
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.embedded_redis import find_redis_server, free_port
from storebot.keys import StoreKeys
from storebot.retrieval.indexer import IndexRepository, pending, update_index
from storebot.services import Services
from tests.conftest import ROOT
from tests.fake_openai_server import FakeOpenAIServer
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl


class RestartableRedis:
    """A private redis-server on a fixed port that a test may stop and start again (AOF keeps the data)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RestartableRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                   "--appendonly", "yes", "--save", "", "--logfile", str(self.directory / "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return self
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.url, socket_timeout=5).shutdown(nosave=False)  # flushes the AOF
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "private-redis").start()
    yield server
    server.stop()


def private_app(url: str, tmp_path: Path, embedder: Any, **settings: Any) -> Flask:
    app = create_app({"REDIS_URL": url, "KEY_PREFIX": "faults", "DATA_DIR": str(tmp_path / "data"), "TESTING": True,
                      "CELERY": {"task_default_queue": "faults"}, **settings})  # fmt: skip
    app.extensions["storebot"].__dict__["embedder"] = embedder
    return app


def assert_clean_503(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "redis_unavailable" and error["message"] and error["fix"]
    assert response.headers["Retry-After"].isdigit()
    assert "Traceback" not in response.get_data(as_text=True)


# --- Redis down ------------------------------------------------------------------------------------------------


def test_redis_down_answers_503_and_recovers_when_it_returns(
    private_redis: RestartableRedis, tmp_path: Path, embedder: Any
) -> None:
    app = private_app(private_redis.url, tmp_path, embedder)
    services: Services = app.extensions["storebot"]
    created, secret = services.stores.create("Down Shop", ["https://down.example"], store_id="down")
    client = app.test_client()
    merchant = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/products", headers=merchant).status_code == 200

    private_redis.stop()
    assert_clean_503(client.get("/api/v1/products", headers=merchant))
    assert_clean_503(client.get(f"/api/v1/search?key={created.publishable_key}&q=jacket"))
    assert_clean_503(client.post("/api/v1/catalog", headers=merchant, data=b'{"id": "a", "title": "A", "price": "1"}',
                                 query_string={"format": "jsonl"}))  # fmt: skip

    private_redis.start()  # same port, same data: the same app object recovers by itself
    deadline = time.monotonic() + 10
    while client.get("/api/v1/products", headers=merchant).status_code != 200:
        assert time.monotonic() < deadline, "the API did not recover after Redis returned"
        time.sleep(0.1)
    assert client.get("/api/v1/products", headers=merchant).get_json()["total"] == 0


def test_an_app_started_while_redis_is_down_recovers(
    private_redis: RestartableRedis, tmp_path: Path, embedder: Any
) -> None:
    seed = private_app(private_redis.url, tmp_path, embedder)
    _, secret = seed.extensions["storebot"].stores.create("Late Shop", store_id="late")
    private_redis.stop()

    app = private_app(private_redis.url, tmp_path, embedder)  # nothing connects at start-up
    client = app.test_client()
    merchant = {"Authorization": f"Bearer {secret}"}
    assert_clean_503(client.get("/api/v1/products", headers=merchant))
    private_redis.start()
    assert client.get("/api/v1/products", headers=merchant).status_code == 200


# --- Two syncs of one store at once ---------------------------------------------------------------------------


def test_two_concurrent_syncs_of_one_store_are_serialised(services: Services, store: tuple[str, str]) -> None:
    keys = services.keys(store[0])
    timeline: list[tuple[str, float]] = []
    barrier = threading.Barrier(2)

    def feed(tag: str) -> io.BytesIO:
        rows = [{"id": f"p{i}", "title": f"Item {i} {tag}", "price": "10.00" if tag == "a" else "20.00"}
                for i in range(300)]  # fmt: skip
        return jsonl(rows)

    def run(tag: str) -> None:
        def progress(*_args: Any) -> None:
            timeline.append((tag, time.monotonic()))
            time.sleep(0.002)  # widen the window in which an unserialised sync would interleave

        barrier.wait()
        sync_feed(services.redis, keys, feed(tag), SyncOptions(fmt="jsonl", batch_size=10), progress=progress)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    tags = [tag for tag, _ in timeline]
    assert tags.count("a") > 10 and tags.count("b") > 10
    switches = sum(1 for x, y in zip(tags, tags[1:], strict=False) if x != y)
    assert switches == 1, f"the two syncs interleaved ({switches} switches)"
    last = tags[-1]
    catalog = services.catalog(store[0])
    prices = {p.price for p in catalog.iter_products()}
    assert catalog.count() == 300 and {str(p) for p in prices} == {"10.00" if last == "a" else "20.00"}


# --- LLM timeout or error --------------------------------------------------------------------------------------


@pytest.fixture
def small_shop(services: Services, store: tuple[str, str]) -> str:
    keys = services.keys(store[0])
    for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    return store[0]


@pytest.mark.parametrize("failure", ["hangs", "errors"])
def test_llm_timeout_or_error_gives_a_grounded_fallback_within_the_timeout(
    app_config: dict[str, Any], embedder: Any, failure: str
) -> None:
    kwargs = {"delay": 30.0} if failure == "hangs" else {"status": 500}
    with FakeOpenAIServer(reply="Never sent.", **kwargs) as server:
        config = {**app_config, "LLM_BACKEND": "openai-compatible", "LLM_BASE_URL": server.base_url,
                  "LLM_MODEL": "test-model", "LLM_TIMEOUT": 2.0}  # fmt: skip
        app = create_app(config)
        app.extensions["storebot"].__dict__["embedder"] = embedder
        services: Services = app.extensions["storebot"]
        created, _ = services.stores.create("Acme", ["https://acme.example"], store_id="acme")
        keys = services.keys("acme")
        for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
            sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
        update_index(services.redis, keys, services.index_root, services.embedder)
        client = app.test_client()
        url = f"/api/v1/chat?key={created.publishable_key}"

        started = time.monotonic()
        response = client.post(url, json={"message": "Ridge Shell rain jacket", "session_id": "fault-session-1"})
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        # The first request also loads the tokenizer; the model's share is what the timeout bounds.
        assert body["timings"]["llm_ms"] < 2000 + 500, body["timings"]
        assert elapsed < 30, f"answered after {elapsed:.1f} s"
        assert server.requests, "the model was asked"
        assert body["grounding"]["action"] == "fallback" and body["grounding"]["ok"]
        assert "Ridge Shell Rain Jacket" in body["text"] and "Never sent" not in body["text"]
        assert body["cards"][0]["id"] == "rain-1"

        started = time.monotonic()
        stream = client.post(f"/api/v1/chat/stream?key={created.publishable_key}",
                             json={"message": "Ridge Shell rain jacket", "session_id": "fault-session-2"})  # fmt: skip
        text = stream.get_data(as_text=True)
        assert time.monotonic() - started < 2.0 + 1.5, "a warm request must answer within LLM_TIMEOUT plus overhead"
        events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
        assert events[0] == "products" and events[-1] == "done" and "error" not in events
        assert "token" in events and "Ridge Shell Rain Jacket" in text


# --- Missing or corrupt index ---------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_missing_or_corrupt_index_is_rebuilt_through_the_api(
    app_config: dict[str, Any], embedder: Any, small_shop: str, services: Services, damage: str
) -> None:
    publishable = services.stores.get(small_shop).publishable_key
    repo = IndexRepository(services.redis, services.keys(small_shop), services.index_root)
    version = repo.published()
    directory = repo.directory(version)
    if damage == "corrupt":
        vectors = next(p for p in directory.rglob("*") if p.is_file() and p.stat().st_size > 1000)
        vectors.write_bytes(b"\0garbage" * 64)
    else:
        shutil.rmtree(directory)

    fresh = create_app(app_config)  # a web process that has not loaded the index yet
    fresh.extensions["storebot"].__dict__["embedder"] = embedder
    response = fresh.test_client().get(f"/api/v1/search?key={publishable}&q=rain+jacket")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "rain-1" in [item["id"] for item in response.get_json()["items"]][:3]
    assert repo.published() == version + 1  # rebuilt from Redis and published anew
    assert repo.load(repo.published(), embedder).counts()["products"] == len(PRODUCTS)


# --- A worker killed mid-sync ------------------------------------------------------------------------------------


COUNT = 200  # enough for a sync (one product per batch) to take a while; few enough to embed quickly


def big_feed(count: int) -> bytes:
    """``count`` products cloned from the small test catalog, with fresh ids."""
    lines = []
    for i in range(count):
        product = json.loads(json.dumps(PRODUCTS[i % len(PRODUCTS)]))
        product["id"] = f"big-{i:05d}"
        product["title"] = f"{product['title']} No. {i}"
        for n, variant in enumerate(product.get("variants") or []):
            variant["id"] = f"big-{i:05d}-{n}"
        lines.append(json.dumps(product))
    return ("\n".join(lines) + "\n").encode()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "storebot", "worker", "--pool", "solo", "--concurrency", "1",
               "--loglevel", "info"]  # fmt: skip
    handle = log.open("ab")
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


def stop_worker(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(what: str, check: Any, timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


def catalog_state(client: redis.Redis, keys: StoreKeys) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(keys("hashes", "products")).items()}


@pytest.mark.slow
def test_a_worker_killed_mid_sync_is_redelivered_with_no_loss_and_no_duplicates(
    private_redis: RestartableRedis, tmp_path: Path, embedder: Any
) -> None:
    data_dir = tmp_path / "data"
    app = private_app(private_redis.url, tmp_path, embedder)
    services: Services = app.extensions["storebot"]
    services.stores.create("Killed Shop", store_id="killed")
    services.stores.create("Clean Shop", store_id="clean")
    feed = big_feed(COUNT)
    env = {**os.environ, "REDIS_URL": private_redis.url, "STOREBOT_KEY_PREFIX": "faults",
           "STOREBOT_DATA_DIR": str(data_dir), "STOREBOT_BROKER_VISIBILITY_TIMEOUT": "2",
           "STOREBOT_SYNC_BATCH_SIZE": "1", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    log = tmp_path / "worker.log"
    jobs = services.jobs("killed")

    first = start_worker(env, log)
    try:
        wait_for("the first worker", lambda: "ready" in log.read_text(), 120, log)
        job_id = accept_upload(jobs, services.uploads("killed"), io.BytesIO(feed), kind="products",
                               filename="big.jsonl")  # fmt: skip
        app.extensions["celery"].send_task("storebot.sync_catalog", args=["killed", job_id], queue="celery")
        wait_for("the sync to be under way", lambda: jobs.get(job_id)["counts"]["received"] > 0, 60, log)
        os.killpg(first.pid, signal.SIGKILL)  # mid-task, no warning
        first.wait()
    finally:
        stop_worker(first, signal.SIGKILL)
    killed_at = jobs.get(job_id)
    assert killed_at["state"] == "running", killed_at.get("message")
    assert 0 < killed_at["counts"]["received"] < COUNT, killed_at["counts"]

    second = start_worker(env, log)
    try:
        started = time.monotonic()
        done = wait_for("the redelivered sync", lambda: jobs.get(job_id)["state"] in ("succeeded", "failed") and
                        jobs.get(job_id), 120, log)  # fmt: skip
        assert done["state"] == "succeeded", done
        print(f"redelivered and synced in {time.monotonic() - started:.1f} s")
        assert done["counts"]["added"] == COUNT and done["counts"]["failed"] == 0
        killed_keys = services.keys("killed")
        wait_for("the index update", lambda: IndexRepository(services.redis, killed_keys, services.index_root)
                 .published() and not any(pending(services.redis, killed_keys).values()), 180, log)  # fmt: skip
        print(f"indexed {time.monotonic() - started:.1f} s after the second worker started")
    finally:
        stop_worker(second)

    clean_keys = services.keys("clean")
    sync_feed(services.redis, clean_keys, io.BytesIO(feed), SyncOptions(fmt="jsonl"))
    killed_keys = services.keys("killed")
    assert catalog_state(services.redis, killed_keys) == catalog_state(services.redis, clean_keys)
    assert CatalogRepository(services.redis, killed_keys).product_ids() == [f"big-{i:05d}" for i in range(COUNT)]
    killed_index = IndexRepository(services.redis, killed_keys, services.index_root)
    loaded = killed_index.load(killed_index.published(), embedder)  # checksums verified on load
    # A clean run's index holds exactly the catalog's products, once each, built from its final version.
    assert loaded.counts() == {"products": COUNT, "reviews": 0, "policies": 0}
    assert all(f"big-{i:05d}" in loaded.keyword for i in range(COUNT))
    manifest = killed_index.manifest() or {}
    assert manifest["catalog_versions"]["products"] == CatalogRepository(services.redis, killed_keys).version()
    assert not services.redis.exists(killed_keys("lock", "products"))
