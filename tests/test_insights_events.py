"""Shopper events: validation, storage per store, baskets, decayed trending counts and retention bounds."""

from __future__ import annotations

import time

import pytest

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.insights.events import MAX_BATCH, SESSION_PRODUCTS, EventStore, InvalidEvent, event_list, parse_event
from storebot.services import Services
from tests.conftest import FIXTURES

NOW = 1_790_000_000.0


def load_demo_products(services: Services, store_id: str) -> None:
    with open(FIXTURES / "products.json", "rb") as feed:
        sync_feed(services.redis, services.keys(store_id), feed, SyncOptions(fmt="shopify", kind="products"))


@pytest.fixture
def events(services: Services, store: tuple[str, str]) -> EventStore:
    load_demo_products(services, store[0])
    return services.events(store[0])


def view(product_id: str, session: str = "sess-00000001", **extra: object) -> dict[str, object]:
    return {"type": "view", "product_id": product_id, "session_id": session, **extra}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"type": "like", "product_id": "1", "session_id": "sess-00000001"}, "type must be one of"),
        ({"type": "view", "session_id": "sess-00000001"}, "product_id is required"),
        ({"type": "view", "product_id": "1", "session_id": "bad id!"}, "session_id must be"),
        ({"type": "view", "product_id": "1", "session_id": "short"}, "session_id must be"),
        ({"type": "purchase", "product_id": "1", "session_id": "sess-00000001", "quantity": 0}, "quantity"),
        ({"type": "purchase", "product_id": "1", "session_id": "sess-00000001", "quantity": True}, "quantity"),
        ({"type": "purchase", "product_id": "1", "session_id": "sess-00000001", "order_id": "a b"}, "order_id"),
        ("view", "an event must be an object"),
    ],
)
def test_malformed_events_say_what_is_wrong(raw: object, error: str) -> None:
    with pytest.raises(InvalidEvent, match=error):
        parse_event(raw, now=NOW)


def test_a_good_event_parses_with_its_defaults() -> None:
    event = parse_event({"type": "purchase", "product_id": 1090, "session_id": "sess-00000001", "order_id": 7}, now=NOW)
    assert (event.product_id, event.order_id, event.quantity, event.weight) == ("1090", "7", 1, 5.0)


def test_a_body_is_one_event_or_a_bounded_batch() -> None:
    assert event_list(view("1")) == [view("1")]
    assert len(event_list({"events": [view("1"), view("2")]})) == 2
    with pytest.raises(InvalidEvent, match="at most"):
        event_list({"events": [view("1")] * (MAX_BATCH + 1)})
    with pytest.raises(InvalidEvent):
        event_list({"events": []})
    with pytest.raises(InvalidEvent):
        event_list(["not", "an", "object"])


def test_unknown_products_and_variants_are_rejected_and_good_events_kept(events: EventStore) -> None:
    result = events.record_batch([
        view("1090", variant_id="no-such-variant"), view("nope"), view("1090"), {"type": "nope"},
        {"type": "add_to_cart", "product_id": "1081", "session_id": "sess-00000001", "quantity": 2},
    ])  # fmt: skip
    assert result["accepted"] == 2
    rejected = [(r["index"], r["error"]) for r in result["rejected"]]
    assert [index for index, _ in rejected] == [0, 1, 3]
    assert "has no variant 'no-such-variant'" in rejected[0][1] and "no product 'nope'" in rejected[1][1]
    assert rejected[2][1].startswith("type must be one of view, add_to_cart, purchase")
    assert events.count() == 2
    assert events.session_products("sess-00000001") == ["1081", "1090"]
    assert events.recent(1)[0]["quantity"] == "2"


def test_a_real_variant_is_accepted(events: EventStore) -> None:
    variant = events.catalog.get_product("1090").variants[0].id
    assert events.record_batch([view("1090", variant_id=variant)])["accepted"] == 1
    assert events.recent(1)[0]["variant_id"] == variant


def test_sessions_and_orders_become_baskets(events: EventStore) -> None:
    events.record_batch([
        view("1090", "sess-aaaaaaaa"), view("1081", "sess-aaaaaaaa"),
        {"type": "purchase", "product_id": "1090", "session_id": "sess-bbbbbbbb", "order_id": "A-1"},
        {"type": "purchase", "product_id": "1083", "session_id": "sess-bbbbbbbb", "order_id": "A-1"},
    ])  # fmt: skip
    baskets = sorted(events.baskets())
    assert baskets == [("order", ["1083", "1090"]), ("session", ["1081", "1090"]), ("session", ["1083", "1090"])]
    assert set(events.session_purchases("sess-bbbbbbbb")) == {"1083", "1090"}
    assert events.session_purchases("sess-aaaaaaaa") == []


def test_trending_follows_decayed_counts_and_purchases_weigh_more(services: Services, store: tuple[str, str]) -> None:
    load_demo_products(services, store[0])
    events = EventStore(services.redis, services.keys(store[0]), services.catalog(store[0]), half_life_hours=24)
    day = 86400.0
    # Three views of the boots two days ago are worth 3 / 4 today; two views of the socks now are worth 2.
    events.record_batch([view("1090", f"sess-old-{i:04d}") for i in range(3)], now=NOW - 2 * day)
    events.record_batch([view("1081", "sess-new-0001"), view("1081", "sess-new-0002")], now=NOW)
    top = events.trending(5, now=NOW)
    assert [pid for pid, _ in top] == ["1081", "1090"]
    assert top[0][1] == pytest.approx(2.0) and top[1][1] == pytest.approx(0.75)
    # One purchase outweighs the two views.
    events.record_batch([{"type": "purchase", "product_id": "1001", "session_id": "sess-new-0003"}], now=NOW)
    assert events.trending(1, now=NOW) == [("1001", pytest.approx(5.0))]
    # A day later everything has halved, and the order holds.
    later = events.trending(3, now=NOW + day)
    assert [pid for pid, _ in later] == ["1001", "1081", "1090"] and later[0][1] == pytest.approx(2.5)


def test_rebasing_the_trending_epoch_keeps_values(events: EventStore) -> None:
    events.record_batch([view("1090")], now=NOW)
    before = events.trending(1, now=NOW + 3600)
    events.rebase_trending(NOW + 7200)
    assert events.trending(1, now=NOW + 3600) == [("1090", pytest.approx(before[0][1]))]


def test_retention_is_bounded_by_count_and_age(services: Services, store: tuple[str, str]) -> None:
    load_demo_products(services, store[0])
    events = EventStore(services.redis, services.keys(store[0]), services.catalog(store[0]), max_events=5,
                        retention_days=1)  # fmt: skip
    events.record_batch([view("1090", f"sess-{i:08d}") for i in range(12)])
    assert events.count() == 5, "the stream is capped at EVENTS_MAX"
    assert services.redis.zcard(services.keys(store[0])("events", "sessions")) == 5, "so is the session index"
    ttl = services.redis.ttl(events.session_key("sess-00000011"))
    assert 0 < ttl <= 86400, "session baskets expire with the retention"
    ids = events.catalog.product_ids()[: SESSION_PRODUCTS + 10]
    events.record_batch([view(pid, "sess-browsing") for pid in ids])
    kept = events.session_products("sess-browsing")
    assert kept == list(reversed(ids))[:SESSION_PRODUCTS], "a session keeps its most recent products"
    events.prune(now=time.time() + 2 * 86400)  # two days on: everything is past the one-day retention
    assert events.count() == 0
    assert list(events.baskets(now=time.time() + 2 * 86400)) == []
