"""Goes-with lists follow the events: add-to-carts and purchases posted to the API queue one debounced refresh per
store, a real worker runs it, and the boots' complementary list shows the socks without a refresh by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from flask import Flask

from storebot.locks import leased_lock
from storebot.services import Services
from storebot.tasks.recommendations import event_queue
from tests.test_insights_events import load_demo_products
from tests.test_insights_recommendations import BOOTS, BOTTLE, SOCKS

INTERVAL = 5  # seconds: longer than posting the burst takes, short enough to wait for


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "RECS_EVENT_REFRESH_SECONDS": INTERVAL}


@pytest.fixture
def shop(services: Services, store: tuple[str, str]) -> dict[str, str]:
    load_demo_products(services, store[0])
    return {"key": services.stores.get(store[0]).publishable_key}


def basket_events(sessions: int) -> list[dict[str, object]]:
    """Shoppers who put the boots and socks in their carts and buy both; as many others only look at a bottle."""
    events: list[dict[str, object]] = []
    for i in range(sessions):
        sid, order = f"sess-burst-{i:04d}", f"order-{i}"
        events += [
            {"type": "add_to_cart", "product_id": BOOTS, "session_id": sid},
            {"type": "add_to_cart", "product_id": SOCKS, "session_id": sid},
            {"type": "purchase", "product_id": BOOTS, "session_id": sid, "order_id": order},
            {"type": "purchase", "product_id": SOCKS, "session_id": sid, "order_id": order},
            {"type": "view", "product_id": BOTTLE, "session_id": f"sess-look-{i:04d}"},
        ]
    return events


def queued_messages(services: Services, app: Flask) -> int:
    """Messages waiting in this test's Celery queue (a Redis list named after the queue)."""
    return int(services.redis.llen(app.extensions["celery"].conf.task_default_queue))


def goes_with(app: Flask, shop: dict[str, str], product_id: str = BOOTS) -> dict[str, object]:
    response = app.test_client().get(
        f"/api/v1/products/{product_id}/recommendations", query_string={**shop, "kind": "complementary"}
    )
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_burst_of_purchases_queues_one_refresh_that_the_worker_runs(
    app: Flask, services: Services, store: tuple[str, str], shop: dict[str, str], request: pytest.FixtureRequest
) -> None:
    before = goes_with(app, shop)
    assert before["source"] == "catalog", "no events yet: the catalog's category pairs (now cached)"

    def post(event: dict[str, object]) -> int:
        return app.test_client().post("/api/v1/events", json=event, query_string=shop).status_code

    burst = basket_events(10)
    assert len(burst) == 50
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:  # several web processes at once
        statuses = list(pool.map(post, burst))
    assert time.monotonic() - started < INTERVAL, "the burst must fit in one debounce window for this test"
    assert statuses == [202] * 50
    queue = event_queue(services, store[0])
    assert queued_messages(services, app) == 1, "50 events, one refresh task"
    assert queue.stats() == {"queued": 1, "runs": 0, "stale": 2}
    assert services.redis.ttl(queue.marker_key) > 0
    assert goes_with(app, shop)["source"] == "catalog", "nothing is recomputed inside the request"

    request.getfixturevalue("celery_worker")  # now the worker starts and runs the refresh when it is due
    wait_for(lambda: queue.stats()["runs"] == 1, 60, "the worker did not run the queued refresh")
    after = goes_with(app, shop)
    assert after["source"] == "events"
    assert after["items"][0]["id"] == SOCKS and "baskets" in after["items"][0]["reason"]  # type: ignore[index]
    socks = goes_with(app, shop, SOCKS)
    assert socks["source"] == "events" and socks["items"][0]["id"] == BOOTS  # type: ignore[index]
    assert queue.stats() == {"queued": 1, "runs": 1, "stale": 0}
    assert not services.redis.exists(queue.marker_key)

    celery_app = app.extensions["celery"]
    assert celery_app.tasks["storebot.refresh_complementary"].acks_late is True
    again = celery_app.send_task("storebot.refresh_complementary", args=[store[0], "stale-token"]).get(timeout=60)
    assert again == {"stale": 0}, "a redelivered refresh finds nothing left to do"
    assert goes_with(app, shop)["items"][0]["id"] == SOCKS  # type: ignore[index]


def test_the_refresh_waits_for_a_running_full_refresh(
    app: Flask, services: Services, store: tuple[str, str], shop: dict[str, str], celery_worker: object
) -> None:
    goes_with(app, shop)  # cache the catalog's list
    queue = event_queue(services, store[0])
    with leased_lock(services.redis, services.keys(store[0])("lock", "recs")):  # as refresh_recommendations does
        posted = app.test_client().post("/api/v1/events", json={"events": basket_events(3)}, query_string=shop)
        assert posted.status_code == 202 and posted.get_json()["accepted"] == 15
        assert queue.stats()["queued"] == 1
        time.sleep(INTERVAL + 2)  # the refresh came due while the lock was held
        assert queue.stats()["runs"] == 0 and queue.stats()["stale"] == 2, "it did not run beside the other refresh"
        assert goes_with(app, shop)["source"] == "catalog"
    wait_for(lambda: queue.stats()["runs"] == 1, 60, "the refresh did not retry once the lock was free")
    assert goes_with(app, shop)["items"][0]["id"] == SOCKS  # type: ignore[index]
    assert queue.stats()["queued"] == 1, "a retry is not a second refresh"


def test_zero_turns_it_off(app: Flask, services: Services, store: tuple[str, str], shop: dict[str, str]) -> None:
    services.settings["RECS_EVENT_REFRESH_SECONDS"] = 0
    posted = app.test_client().post("/api/v1/events", json={"events": basket_events(4)}, query_string=shop)
    assert posted.status_code == 202 and posted.get_json()["accepted"] == 20
    queue = event_queue(services, store[0])
    assert queued_messages(services, app) == 0
    assert queue.stats() == {"queued": 0, "runs": 0, "stale": 0}
    assert not services.redis.exists(queue.marker_key)


def test_only_events_that_link_products_schedule_a_refresh(
    services: Services, store: tuple[str, str], shop: dict[str, str], redis_client: redis.Redis
) -> None:
    events, queue = services.events(store[0]), event_queue(services, store[0])

    def record(*batch: dict[str, object]) -> str | None:
        assert events.record_batch(list(batch))["rejected"] == []
        return queue.note(list(batch))

    sid = "sess-link-0001"
    assert record({"type": "view", "product_id": BOOTS, "session_id": sid}) is None, "views alone do not"
    assert record({"type": "view", "product_id": SOCKS, "session_id": sid}) is None
    alone = {"type": "add_to_cart", "product_id": BOOTS, "session_id": "sess-link-0002"}
    assert record(alone) is None, "a basket of one links nothing"
    token = record({"type": "add_to_cart", "product_id": SOCKS, "session_id": "sess-link-0002"})
    assert token is not None and queue.stale() == [SOCKS]
    second = record({"type": "purchase", "product_id": BOOTS, "session_id": "sess-link-0002", "order_id": "o-1"})
    assert second is None and queue.stale() == sorted([BOOTS, SOCKS]), "marked stale, but already scheduled"
    assert not queue.release("someone-else") and redis_client.exists(queue.marker_key), "only the holder releases"
    assert queue.release(token) and not redis_client.exists(queue.marker_key)

    result = services.recommender(store[0]).refresh_complementary(queue.stale())
    assert result["stale"] == 2 and result["products"] >= 2
    assert services.recommender(store[0]).cache.get("complementary", BOOTS).ids[0] == SOCKS  # type: ignore[union-attr]
