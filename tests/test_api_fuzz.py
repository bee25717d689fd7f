"""schemathesis fuzzes every operation of /api/v1/openapi.json over the live app: no 5xx, answers as documented.

The app is the real one on the test Redis, with the demo store (180 products, 1,165 reviews, policies) synced
and indexed by the real MiniLM, and the store's real keys, so requests get past auth. Only the chat model is a
stand-in: a ``fake`` backend registered through the LLM registry (as any backend is), answering with a fixed
sentence at once, so that each fuzzed chat request runs the whole pipeline (memory, retrieval, grounding,
streaming) without generating with SmolLM2.
"""

from __future__ import annotations

import io
import itertools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storebot import __version__
from storebot.api.spec import build_spec
from storebot.app import create_app
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.retrieval.indexer import update_index
from tests.conftest import FIXTURES

MAX_EXAMPLES = 8
INDEXED_PRODUCTS = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FAKE_ANSWER = "Here are some products from the catalog that match."


def register_fake_backend() -> None:
    """A chat backend that answers ``FAKE_ANSWER`` instantly, registered like any user's backend."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from storebot.llm import Capabilities, register_backend

    register_backend(
        "fuzz-fake",
        lambda spec: GenericFakeChatModel(messages=itertools.repeat(AIMessage(FAKE_ANSWER))),
        capabilities=Capabilities(condense=False, follows_instructions=True),
    )


def sync(services: Any, keys: Any, feed: Any, fmt: str, kind: str) -> None:
    with feed:
        result = sync_feed(services.redis, keys, feed, SyncOptions(fmt=fmt, kind=kind))
    assert not result.errors, result.errors[:3]


@pytest.fixture(scope="module")
def fuzz_app(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app with the demo store synced and indexed, shared by every fuzzed operation."""
    register_fake_backend()
    prefix = f"fuzz{uuid.uuid4().hex[:8]}"
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app({
        "REDIS_URL": redis_url, "KEY_PREFIX": prefix, "DATA_DIR": str(data_dir), "TESTING": True,
        "CELERY": {"task_default_queue": prefix}, "LLM_BACKEND": "fuzz-fake", "INDEX_AFTER_SYNC": False,
        # Fuzzing is a burst from one IP and key: the limits themselves are tested in test_limits.py.
        "RATE_LIMIT_SHOPPER": "100000/minute", "RATE_LIMIT_MERCHANT": "100000/minute",
        "RATE_LIMIT_CHAT_IP": "100000/minute", "RATE_LIMIT_CHAT_SESSION": "100000/minute",
        "RATE_LIMIT_AUTH_FAILURES": "100000/minute",
    })  # fmt: skip
    services = app.extensions["storebot"]
    services.__dict__["embedder"] = embedder
    store, secret = services.stores.create("Northwind Trail Co.", ["https://shop.example"], store_id="demo")
    keys = services.keys(store.id)
    # Embedding the whole store takes minutes on a busy 2-core machine: the index holds the first
    # INDEXED_PRODUCTS products and the policies; the rest of the catalog (all 180 products and 1,165
    # reviews) is synced after it, so the API lists, counts and rates everything.
    products = json.loads((FIXTURES / "products.json").read_text())
    first = json.dumps({**products, "products": products["products"][:INDEXED_PRODUCTS]}).encode()
    sync(services, keys, io.BytesIO(first), "shopify", "products")
    sync(services, keys, (FIXTURES / "policies.json").open("rb"), "json", "policies")
    update_index(services.redis, keys, services.index_root, services.embedder)
    sync(services, keys, (FIXTURES / "products.json").open("rb"), "shopify", "products")
    sync(services, keys, (FIXTURES / "reviews.csv").open("rb"), "csv", "reviews")
    app.config["FUZZ_KEYS"] = {"secret": secret, "publishable": store.publishable_key}
    yield app
    client = redis.Redis.from_url(redis_url)
    doomed = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if doomed:
        client.delete(*doomed)


# The document is built without an app; each test sends its case to the module's app in-process (WSGI).
# (schemathesis.pytest.from_fixture would fetch it from the app, but needs a pytest older than 9.)
SPEC = build_spec(__version__)
schema = schemathesis.openapi.from_dict(SPEC)


def authenticate(case: Any, operation: dict[str, Any], keys: dict[str, str]) -> None:
    """Put the right key on the case: the secret key for merchant operations, the publishable one otherwise."""
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    headers = dict(case.headers or {})
    query = dict(case.query or {})
    for name in ("Authorization", "X-Storebot-Key"):
        headers.pop(name, None)
    query.pop("key", None)
    if "secretKey" in schemes:
        headers["Authorization"] = f"Bearer {keys['secret']}"
    elif schemes & {"publishableKey", "publishableKeyHeader"}:
        query["key"] = keys["publishable"]
    case.headers, case.query = headers, query


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_answers_as_documented_and_never_with_a_server_error(case: Any, fuzz_app: Flask) -> None:
    item = SPEC["paths"][case.operation.path]
    # The coverage phase also sends methods a path lacks (TRACE...): any operation of the path gives the key.
    operation = item.get(case.method.lower()) or next(iter(item.values()))
    authenticate(case, operation, fuzz_app.config["FUZZ_KEYS"])
    case.call_and_validate(checks=CHECKS, app=fuzz_app)


def test_the_fuzzed_document_is_the_served_one(fuzz_app: Flask) -> None:
    assert fuzz_app.test_client().get("/api/v1/openapi.json").get_json() == SPEC
