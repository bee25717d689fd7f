"""Recommendations on the demo catalog: similar, complementary (events, catalog, map), trending, personal,
the refresh task in a real worker, and the chat's "what goes with these?"."""

from __future__ import annotations

import itertools
import time

import pytest
from flask import Flask
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from storebot.chat.service import ChatService
from storebot.chat.session import FocusItem
from storebot.chat.types import ChatRequest
from storebot.insights.recommend.cache import RecommendationCache
from storebot.retrieval.indexer import IndexRepository, update_index
from storebot.services import Services
from tests.test_insights_events import load_demo_products

SOCKS = "1081"  # Trailweight Midweight Hiking Crew Socks
BOOTS = "1090"  # Men's Traverse Mid Waterproof Hiking Boots
JACKET = "1001"  # Men's Ridge Shell Rain Jacket
BOTTLE = "1170"


def demo_store(services: Services, store_id: str) -> str:
    """The demo's 180 products synced and indexed (vectors from the session's embedding cache after the first run)."""
    load_demo_products(services, store_id)
    update_index(services.redis, services.keys(store_id), services.index_root, services.embedder)
    return store_id


def boots_and_socks_sessions(services: Services, store_id: str, sessions: int = 5) -> None:
    """Shoppers who look at the boots and buy socks with them; the bottle is in every basket (a bestseller)."""
    events = services.events(store_id)
    batch = []
    for i in range(sessions):
        sid = f"sess-boots-{i:04d}"
        batch += [
            {"type": "view", "product_id": BOOTS, "session_id": sid},
            {"type": "add_to_cart", "product_id": SOCKS, "session_id": sid},
            {"type": "purchase", "product_id": BOOTS, "session_id": sid, "order_id": f"order-{i}"},
            {"type": "purchase", "product_id": SOCKS, "session_id": sid, "order_id": f"order-{i}"},
            {"type": "view", "product_id": BOTTLE, "session_id": sid},
        ]
    for i in range(20):  # the bottle alone, or with anything else: popular, not specific to the boots
        batch.append({"type": "view", "product_id": BOTTLE, "session_id": f"sess-other-{i:04d}"})
        batch.append({"type": "view", "product_id": str(1140 + i % 10), "session_id": f"sess-other-{i:04d}"})
    for start in range(0, len(batch), 100):
        assert services.events(store_id).record_batch(batch[start : start + 100])["rejected"] == []
    assert events.count() == len(batch)


@pytest.fixture
def demo(services: Services, store: tuple[str, str]) -> str:
    return demo_store(services, store[0])


def category(services: Services, store_id: str, pid: str) -> list[str]:
    return services.catalog(store_id).get_product(pid).category


def test_a_jackets_similar_items_are_jackets_not_socks(services: Services, demo: str) -> None:
    recommender = services.recommender(demo)
    rec = recommender.product("similar", JACKET, limit=6)
    assert rec.source == "vectors"
    products = [p for p, _ in recommender.products_of(rec, 6)]
    assert len(products) == 6
    assert all(p.category[0] == "Apparel" and "Socks" not in p.category for p in products)
    assert sum("Jackets" in p.category for p in products[:4]) >= 3, [p.title for p in products]
    source = services.catalog(demo).get_product(JACKET)
    for p in products:
        assert p.id not in (JACKET, "1002"), "not the jacket itself, nor its women's twin"
        assert p.availability != "out_of_stock"
        assert source.effective_price / 2 <= p.effective_price <= source.effective_price * 2, "in the price band"
    assert "1005" not in [p.id for p in products], "the sold-out Tempest Pro is never recommended"


def test_socks_go_with_boots_once_events_say_so(services: Services, demo: str) -> None:
    recommender = services.recommender(demo)
    before = recommender.product("complementary", BOOTS, limit=6)
    assert before.source == "catalog" and SOCKS not in before.ids[:3]
    assert all(category(services, demo, pid)[-1] != "Hiking Boots" for pid in before.ids), "boots don't go with boots"

    boots_and_socks_sessions(services, demo)
    summary = recommender.refresh()
    assert summary["baskets"] >= 25 and summary["complementary_from_events"] >= 2
    after = recommender.product("complementary", BOOTS, limit=6)
    assert after.source == "events"
    assert after.ids[0] == SOCKS, after.picks[:3]
    assert after.ids.index(SOCKS) < after.ids.index(BOTTLE) if BOTTLE in after.ids else True
    assert recommender.product("complementary", SOCKS, limit=3).ids[0] == BOOTS, "and boots go with socks"


def test_a_bestseller_in_every_basket_does_not_dominate(services: Services, demo: str) -> None:
    from storebot.insights.recommend import ComplementaryFinder

    products = {p.id: p for p in services.catalog(demo).iter_products()}
    baskets = [[BOOTS, SOCKS, BOTTLE]] * 3 + [[BOTTLE, str(1140 + i)] for i in range(8)] + [[BOOTS, BOTTLE]] * 3
    ranked = ComplementaryFinder(products, baskets).complementary(BOOTS).ids
    assert ranked.index(SOCKS) < ranked.index(BOTTLE), "co-occurring 3 of 3 times beats co-occurring with everything"


def test_a_merchant_map_leads_before_events(app: Flask, services: Services, demo: str) -> None:
    services.settings["RECS_COMPLEMENTARY_MAP"] = "Hiking Boots=Socks|Gaiters"
    rec = services.recommender(demo).product("complementary", BOOTS, limit=4)
    assert rec.source == "map"
    assert all(category(services, demo, pid)[-1] == "Socks" for pid in rec.ids)


def test_trending_follows_events(services: Services, demo: str) -> None:
    recommender = services.recommender(demo)
    assert recommender.trending(5).source == "none"
    events = services.events(demo)
    events.record_batch([{"type": "view", "product_id": JACKET, "session_id": f"sess-t-{i:04d}"} for i in range(4)],
                        now=time.time() - 3 * 72 * 3600)  # three half-lives ago: 4 views count as 0.5  # fmt: skip
    events.record_batch([{"type": "view", "product_id": SOCKS, "session_id": "sess-t-9999"}])
    events.record_batch([{"type": "add_to_cart", "product_id": BOOTS, "session_id": "sess-t-9998"}])
    rec = recommender.trending(3)
    assert rec.source == "events" and rec.ids == [BOOTS, SOCKS, JACKET]
    assert [item["id"] for item in recommender.items(rec, 2)] == [BOOTS, SOCKS]


def test_personal_uses_viewed_and_chatted_products_and_skips_what_was_seen(services: Services, demo: str) -> None:
    recommender = services.recommender(demo)
    session = "sess-personal-01"
    services.events(demo).record_batch([{"type": "purchase", "product_id": SOCKS, "session_id": session},
                                        {"type": "view", "product_id": BOOTS, "session_id": session}])  # fmt: skip
    chat = services.sessions(demo).open(session)
    chat.update(focus=[FocusItem("1014")], subject=["1014"], new_turn=True)  # asked about the Emberline down jacket
    rec = recommender.personal(session, limit=10)
    assert rec.source == "events"
    assert not {BOOTS, SOCKS, "1014"} & set(rec.ids), "never what the session already saw, bought or discussed"
    reasons = {pick.reason for pick in rec.picks}
    assert any("viewed the Men's Traverse" in r for r in reasons), reasons
    assert any("asked about the Men's Emberline" in r for r in reasons)
    cached_similar = RecommendationCache(services.redis, services.keys(demo)).get("similar", "1014")
    assert cached_similar is not None and set(cached_similar.ids[:3]) & set(rec.ids), "from the jacket's neighbours"
    fresh = recommender.personal("sess-nobody-00", limit=3)
    assert fresh.source == "events" and "trending" in fresh.note, "a new session gets what is popular"
    assert fresh.ids == recommender.trending(3).ids


def test_refresh_runs_in_a_real_worker_after_an_index_update(app: Flask, services: Services, store: tuple[str, str],
                                                             celery_worker: object) -> None:  # fmt: skip
    load_demo_products(services, store[0])
    celery_app = app.extensions["celery"]
    celery_app.send_task("storebot.update_index", args=[store[0]]).get(timeout=300)
    assert IndexRepository(services.redis, services.keys(store[0]), services.index_root).published() == 1
    cache = RecommendationCache(services.redis, services.keys(store[0]))
    deadline = time.monotonic() + 120
    while "complementary" not in cache.meta():  # the update queued a refresh
        assert time.monotonic() < deadline, "the index update did not refresh the recommendations"
        time.sleep(0.2)
    assert cache.meta()["similar"]["count"] == 180 and cache.get("similar", JACKET) is not None
    again = celery_app.send_task("storebot.refresh_recommendations", args=[store[0]]).get(timeout=120)
    assert again["products"] == 180, "running twice is harmless"
    assert celery_app.tasks["storebot.refresh_recommendations"].acks_late is True
    queued = celery_app.send_task("storebot.refresh_all_recommendations").get(timeout=60)
    assert store[0] in queued["queued"]


def test_chat_what_goes_with_these_shows_complementary_cards(services: Services, demo: str) -> None:
    boots_and_socks_sessions(services, demo)
    services.recommender(demo).refresh()
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage("These pair well with them.")]))
    chat = ChatService.from_services(services, llm=llm)
    first = chat.respond(ChatRequest(demo, "sess-chat-0001", "Men's Traverse Mid waterproof hiking boots", {}))
    assert first.cards[0].id == BOOTS
    answer = chat.respond(ChatRequest(demo, "sess-chat-0001", "what goes with these?", {}))
    assert answer.intent == "recommendation"
    assert answer.cards[0].id == SOCKS, [c.title for c in answer.cards]
    catalog = services.catalog(demo)
    for card in answer.cards:
        product = catalog.get_product(card.id)
        assert card.title == product.title and card.price == f"{product.price:.2f}", "cards come from the catalog"
    on_page = chat.respond(
        ChatRequest(demo, "sess-chat-0002", "what would go with these boots?", {"product_id": BOOTS})
    )
    assert on_page.intent == "recommendation" and on_page.cards[0].id == SOCKS
    cheaper = chat.respond(
        ChatRequest(demo, "sess-chat-0003", "anything like this but cheaper?", {"product_id": JACKET})
    )
    jacket = catalog.get_product(JACKET)
    assert cheaper.cards and all(catalog.get_product(c.id).effective_price < jacket.effective_price
                                 for c in cheaper.cards)  # fmt: skip
    assert JACKET not in [c.id for c in cheaper.cards]
