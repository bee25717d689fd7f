"""Observability: JSON log lines with request ids, Prometheus metrics after real requests and real tasks, readiness."""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.observability.logs import JsonFormatter, MaskingTextFormatter, RequestContextFilter, configure_logging
from storebot.services import Services
from tests.conftest import ROOT
from tests.retrieval_catalog import POLICIES, PRODUCTS, jsonl
from tests.test_api_catalog import upload, wait_for_job


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What storebot's JSON handler writes, captured: the same formatter and filter on a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def parsed(buffer: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def metric(client: FlaskClient, name: str, **labels: str) -> float:
    """One sample's value from /metrics (0 when absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_request_logs_one_json_line_with_its_request_id(
    client: FlaskClient, auth: dict[str, str], log_lines: io.StringIO
) -> None:
    given = client.get("/api/v1/jobs", headers={**auth, "X-Request-ID": "edge-1234abcd"})
    assert given.headers["X-Request-ID"] == "edge-1234abcd"
    forged = client.get("/api/v1/jobs", headers={**auth, "X-Request-ID": "bad id <script>"})
    generated = forged.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated), "an invalid id is replaced, not echoed"
    lines = [line for line in parsed(log_lines) if line["logger"] == "storebot.access"]
    first, second = lines[-2], lines[-1]
    assert first["request_id"] == "edge-1234abcd" and second["request_id"] == generated
    assert {"time", "level", "logger", "message", "method", "path", "status", "duration_ms"} <= set(first)
    assert (first["method"], first["path"], first["status"], first["store"]) == ("GET", "/api/v1/jobs", 200, "acme")
    assert first["duration_ms"] >= 0


def test_logs_carry_no_secrets(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    services: Services,
    store,
    log_lines: io.StringIO,  # type: ignore[no-untyped-def]
) -> None:
    secret = auth["Authorization"][7:]
    pk = services.stores.get(store[0]).publishable_key

    @app.get("/api/v1/__log_probe")
    def probe():  # type: ignore[no-untyped-def]
        logging.getLogger("storebot.probe").warning("got key %s", secret)
        return {"ok": True}

    client.get("/api/v1/__log_probe", headers=auth, query_string={"key": pk})
    client.get("/api/v1/search", query_string={"q": "tent", "key": pk})
    text = log_lines.getvalue()
    assert secret not in text and pk not in text
    probe_line = next(line for line in parsed(log_lines) if line["logger"] == "storebot.probe")
    assert probe_line["message"] == "got key sk_***" and probe_line["request_id"]


def test_log_format_setting_chooses_json_or_text() -> None:
    root = logging.getLogger()
    try:
        configure_logging({"LOG_FORMAT": "text", "LOG_LEVEL": "INFO"})
        handler = next(h for h in root.handlers if getattr(h, "_storebot", False))
        assert isinstance(handler.formatter, MaskingTextFormatter)
        configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
        assert isinstance(handler.formatter, JsonFormatter)
        assert sum(getattr(h, "_storebot", False) for h in root.handlers) == 1, "configuring again adds no handler"
    finally:
        configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})


def test_metrics_count_requests_tasks_failures_and_syncs_from_a_real_worker(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    store,
    celery_worker: object,  # type: ignore[no-untyped-def]
) -> None:
    app.config["INDEX_AFTER_SYNC"] = False
    sync_labels = {"task": "storebot.sync_catalog", "state": "SUCCESS"}
    before = {
        "requests": metric(client, "storebot_http_request_duration_seconds_count",
                           endpoint="catalog.upload_catalog", method="POST", status="202"),
        "tasks": metric(client, "storebot_task_duration_seconds_count", **sync_labels),
        "added": metric(client, "storebot_sync_records_total", outcome="added"),
        "failures": metric(client, "storebot_task_failures_total", task="storebot.sync_catalog"),
    }  # fmt: skip
    response = upload(client, auth, "/api/v1/catalog", jsonl(PRODUCTS).read(), "feed.jsonl")
    assert response.status_code == 202
    job = wait_for_job(client, auth, response.get_json()["job"]["id"])
    assert job["state"] == "succeeded"
    app.extensions["celery"].send_task("storebot.sync_catalog", args=[store[0], "no-such-job"])

    deadline = time.monotonic() + 30
    while metric(client, "storebot_task_failures_total", task="storebot.sync_catalog") < before["failures"] + 1:
        assert time.monotonic() < deadline, "the failed task was not counted"
        time.sleep(0.1)
    assert metric(client, "storebot_http_request_duration_seconds_count", endpoint="catalog.upload_catalog",
                  method="POST", status="202") == before["requests"] + 1  # fmt: skip
    assert metric(client, "storebot_task_duration_seconds_count", **sync_labels) >= before["tasks"] + 1
    assert metric(client, "storebot_sync_records_total", outcome="added") == before["added"] + len(PRODUCTS)
    assert metric(client, "storebot_http_request_duration_seconds_bucket", endpoint="jobs.get_job", method="GET",
                  status="200", le="+Inf") >= 1  # fmt: skip


def test_llm_calls_and_open_streams_are_measured(app: Flask, client: FlaskClient, services: Services, store) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk

    from storebot.llm import Capabilities, get_llm, register_backend

    class UsageFakeChatModel(GenericFakeChatModel):
        def _stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            for chunk in super()._stream(*args, **kwargs):
                yield chunk
            yield type(chunk)(message=AIMessageChunk("", usage_metadata={"input_tokens": 7, "output_tokens": 3,
                                                                         "total_tokens": 10}))  # fmt: skip

    register_backend("obs-fake", lambda spec: UsageFakeChatModel(messages=itertools.repeat(AIMessage("Two words."))),
                     capabilities=Capabilities(condense=False, follows_instructions=True))  # fmt: skip
    calls = metric(client, "storebot_llm_request_duration_seconds_count", backend="obs-fake")
    prompt = metric(client, "storebot_llm_tokens_total", backend="obs-fake", kind="prompt")
    completion = metric(client, "storebot_llm_tokens_total", backend="obs-fake", kind="completion")
    model = get_llm({"backend": "obs-fake"})
    assert "".join(str(c.content) for c in model.stream("hi")) == "Two words."
    assert metric(client, "storebot_llm_request_duration_seconds_count", backend="obs-fake") == calls + 1
    assert metric(client, "storebot_llm_tokens_total", backend="obs-fake", kind="prompt") == prompt + 7
    assert metric(client, "storebot_llm_tokens_total", backend="obs-fake", kind="completion") == completion + 3

    app.config["LLM_BACKEND"] = "obs-fake"
    pk = services.stores.get(store[0]).publishable_key
    open_before = metric(client, "storebot_sse_streams_open")
    stream = client.post("/api/v1/chat/stream", query_string={"key": pk}, json={"message": "a tent"}, buffered=False)
    next(stream.response)
    assert metric(client, "storebot_sse_streams_open") == open_before + 1
    stream.close()
    assert metric(client, "storebot_sse_streams_open") == open_before


def test_metrics_token_protects_the_endpoint(app: Flask, client: FlaskClient) -> None:
    app.config["METRICS_TOKEN"] = "s3cret-scrape"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert ok.status_code == 200 and b"storebot_http_request_duration_seconds" in ok.data


def test_multiprocess_metrics_add_up_every_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "from storebot.observability import metrics\n"
        "metrics.SYNC_RECORDS.labels('added').inc(5)\n"
        "print(metrics.render({})[0].decode())\n"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    outputs = [subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout for _ in range(2)]  # fmt: skip
    assert 'storebot_sync_records_total{outcome="added"} 10.0' in outputs[1], outputs[1][-500:]
    assert list(tmp_path.glob("counter_*.db")), "each process wrote its values to the shared directory"


def test_healthz_and_readyz_goes_503_while_an_index_is_missing(
    app: Flask,
    client: FlaskClient,
    services: Services,
    store,  # type: ignore[no-untyped-def]
) -> None:
    assert client.get("/healthz").get_json()["ok"] is True
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True
    keys = services.keys(store[0])
    sync_feed(services.redis, keys, jsonl(PRODUCTS), SyncOptions(fmt="jsonl", kind="products"))
    sync_feed(services.redis, keys, jsonl(POLICIES), SyncOptions(fmt="jsonl", kind="policies"))
    missing = client.get("/readyz")
    assert missing.status_code == 503
    checks = {c["name"]: c for c in missing.get_json()["checks"]}
    assert checks["redis"]["ok"] and not checks["indexes"]["ok"] and "acme" in checks["indexes"]["detail"]

    from storebot.retrieval.indexer import update_index

    update_index(services.redis, keys, services.index_root, services.embedder)
    assert client.get("/readyz").status_code == 200

    import shutil

    from storebot.retrieval.index import read_manifest
    from storebot.retrieval.indexer import IndexRepository

    repo = IndexRepository(services.redis, keys, services.index_root)
    shutil.rmtree(repo.directory(repo.published()))  # a new host, or a wiped disk: the probe heals it
    assert client.get("/readyz").status_code == 200
    assert read_manifest(repo.directory(repo.published()))


def test_log_lines_written_inside_a_task_carry_its_id(app: Flask, log_lines: io.StringIO) -> None:
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.log_probe")
    def log_probe() -> None:
        logging.getLogger("storebot.probe").warning("inside the task")

    log_probe.apply(task_id="task-log-0001")  # in-process: only the log context is under test here
    line = next(line for line in parsed(log_lines) if line["message"] == "inside the task")
    assert (line["task"], line["task_id"]) == ("tests.log_probe", "task-log-0001") and "request_id" not in line


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_prefork_worker_serves_its_task_metrics(redis_url: str, key_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`storebot worker --metrics-port`: a real prefork worker in its own process, whose task ran in a child."""
    import os
    import urllib.error
    import urllib.request

    from storebot.app import create_app

    port = _free_port()
    import redis as redis_lib

    redis_lib.Redis.from_url(redis_url).delete("celery")  # Celery's default queue: nothing left by other tests
    (tmp_path / "metrics").mkdir()
    env = {**os.environ, "REDIS_URL": redis_url, "STOREBOT_KEY_PREFIX": key_prefix, "HF_HUB_OFFLINE": "1",
           "STOREBOT_DATA_DIR": str(tmp_path / "data"), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "STOREBOT_METRICS_TOKEN": "scrape-me"}  # fmt: skip
    worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "storebot"), "worker", "--pool", "prefork",
                               "--concurrency", "1", "--metrics-port", str(port), "--loglevel", "warning"],
                              env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:

        def scrape(token: str = "scrape-me") -> str:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()

        deadline = time.monotonic() + 90
        while True:
            try:
                scrape()
                break
            except (urllib.error.URLError, ConnectionError):
                assert worker.poll() is None, worker.communicate()[0][-2000:]
                assert time.monotonic() < deadline, "the worker's metrics server never came up"
                time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as refused:
            scrape("wrong")
        assert refused.value.code == 401

        app = create_app({"REDIS_URL": redis_url, "KEY_PREFIX": key_prefix, "DATA_DIR": str(tmp_path / "data")})
        # Celery's default queue, which the worker consumes (the other tests' workers each have a queue of their own).
        app.extensions["celery"].send_task("storebot.sync_catalog", args=["acme", "no-such-job"], queue="celery")
        failed = 'storebot_task_failures_total{task="storebot.sync_catalog"} 1.0'
        deadline = time.monotonic() + 60
        while failed not in (text := scrape()):
            assert worker.poll() is None, worker.communicate()[0][-2000:]
            assert time.monotonic() < deadline, text[-1500:]
            time.sleep(0.5)
        assert 'storebot_task_duration_seconds_count{state="FAILURE",task="storebot.sync_catalog"} 1.0' in text
        assert list((tmp_path / "metrics").glob("*.db")), "the task ran in a child process, which wrote here"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
