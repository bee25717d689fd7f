""" "What goes with these?" respects what the shopper asked for (finding 5 of the S5 chat test).

A category named in the message filters the cards ("which socks would you pair with the first boots?" shows
socks, searched within the category when the recommender knows too few); the product itself, the cart and,
for "goes with", more of the product's own category never come back; "what else do I need for my trip?" with
a cart answers with complements of the cart.

The first tests read messages against a small vocabulary; the rest run the chat service on the demo store
(fixtures/demo synced into the test Redis, its boots, socks, tents, sleeping bags and pads indexed by the real
MiniLM) with a deterministic fake model.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from storebot.catalog.models import Product
from storebot.chat.recommendations import GoesWith, anchor, named_categories
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest, ChatResponse
from storebot.retrieval.vocabulary import CatalogVocabulary
from tests.demo_store import demo_products, indexed_store, module_app, sync_feed_bytes
from tests.test_chat_chain import fake

BOOTS = "1090"  # Men's Traverse Mid Waterproof Hiking Boots
TENT = "1135"  # Stillwater 2 Backpacking Tent
BAG = "1143"  # Ember 20 Down Sleeping Bag
RAIN_JACKET = "1001"  # Men's Ridge Shell Rain Jacket
WINTER_SOCKS = {"1083", "1088"}  # Summit Heavyweight Mountaineering Socks, Powder Day Snow Socks
INDEXED_TYPES = {"Hiking Boots", "Socks", "Tents", "Sleeping Bags", "Sleeping Pads"}

VOCAB = CatalogVocabulary.from_products([
    Product(id=pid, title=title, category=path)
    for pid, title, path in [("b", "Traverse Mid Boots", ["Footwear", "Hiking Boots"]),
                             ("s", "Summit Socks", ["Apparel", "Socks"]),
                             ("p", "Cloudrest Air Pad", ["Gear", "Sleeping Pads"]),
                             ("g", "Ember 20 Bag", ["Gear", "Sleeping Bags"]),
                             ("t", "Stillwater 2 Tent", ["Gear", "Tents"])]
])  # fmt: skip


# Reading the message --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("which socks would you pair with the first boots for winter?", "the first boots"),
        ("recommend a sleeping pad to go with this bag", "this bag"),
        ("what goes with the Stillwater 2 tent?", "the Stillwater 2 tent"),
        ("any accessories for my new tent, please", "my new tent"),
        ("what else do I need for my trip?", ""),
        ("do these go together?", ""),
    ],
)
def test_the_anchor_is_what_the_products_go_with(message: str, words: str) -> None:
    assert anchor(message) == words


@pytest.mark.parametrize(
    ("message", "wanted"),
    [
        ("which socks would you pair with the first boots for winter?", ["Socks"]),
        ("recommend a sleeping pad to go with this bag", ["Sleeping Pads"]),
        ("what goes with these boots?", []),  # the boots are what the cards go with, not what they are
        ("what goes with the Stillwater 2 tent?", []),
        ("what else do I need for my trip?", []),
        ("any socks or a pad to go with my tent?", ["Socks", "Sleeping Pads"]),
        ("what else will I need for a first backpacking trip with this tent?", []),  # the tent is the anchor
        ("what else do I need for my tent? maybe a pad", ["Sleeping Pads"]),
    ],
)
def test_a_category_named_outside_the_anchor_is_the_one_wanted(message: str, wanted: list[str]) -> None:
    ask = GoesWith.read(message, VOCAB)
    assert ask is not None and ask.kind == "complementary"
    assert ask.categories == wanted


def test_the_store_vocabulary_reads_the_categories() -> None:
    assert [c for c, _, _ in named_categories("a sleeping pad and socks", VOCAB)] == ["Sleeping Pads", "Socks"]
    assert named_categories("a gift for my dad", VOCAB) == []
    assert GoesWith.read("what else do I need for my trip?", VOCAB).kit  # type: ignore[union-attr]
    assert GoesWith.read("a gift for my dad who hikes", VOCAB) is None


# The chat on the demo store -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(redis_url: str, embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The demo store: every product synced, its boots, socks, tents, sleeping bags and pads indexed."""
    with module_app(redis_url, embedder, tmp_path_factory, "goes") as app:
        services = app.extensions["storebot"]
        _, keys = indexed_store(services, (demo_products(INDEXED_TYPES), "shopify", "products"))
        sync_feed_bytes(services, keys, demo_products(), "shopify", "products")  # the whole catalog
        yield services, ChatService.from_services(services, llm=fake("Here are some ideas."))


def _turns(chat: ChatService, *turns: tuple[str, dict[str, Any]]) -> list[ChatResponse]:
    session = f"goes-{uuid.uuid4().hex[:12]}"
    return [chat.respond(ChatRequest("demo", session, message, context)) for message, context in turns]


def _leaves(services: Any, response: ChatResponse) -> list[str]:
    catalog = services.catalog("demo")
    return [catalog.get_product(card.id).category[-1] for card in response.cards]


def test_socks_asked_for_with_boots_are_socks_for_winter(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    boots, goes_with, socks = _turns(chat, ("men's waterproof hiking boots size 10", {}),
                                     ("what goes with these boots?", {}),
                                     ("which socks would you pair with the first boots for winter?", {}))  # fmt: skip
    assert boots.cards and set(_leaves(services, boots)) == {"Hiking Boots"}
    assert goes_with.cards and "Hiking Boots" not in _leaves(services, goes_with)
    assert socks.intent == "recommendation"
    assert socks.cards and set(_leaves(services, socks)) == {"Socks"}, [c.title for c in socks.cards]
    assert {c.id for c in socks.cards[:3]} >= WINTER_SOCKS, [c.title for c in socks.cards]
    assert [c.id for c in socks.cards] != [c.id for c in goes_with.cards]


def test_a_sleeping_pad_for_this_bag_shows_pads_and_nothing_from_the_cart(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    (pads,) = _turns(chat, ("recommend a sleeping pad to go with this bag", {"product_id": BAG, "cart": [TENT, BAG]}))
    assert pads.intent == "recommendation"
    assert pads.cards and set(_leaves(services, pads)) == {"Sleeping Pads"}, [c.title for c in pads.cards]
    assert not {TENT, BAG} & {c.id for c in pads.cards}


def test_goes_with_a_named_tent_is_never_the_tent_nor_more_tents(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    (answer,) = _turns(chat, ("what goes with the Stillwater 2 tent?", {}))
    assert answer.intent == "recommendation"
    assert len(answer.cards) >= 3 and TENT not in [c.id for c in answer.cards]
    leaves = _leaves(services, answer)
    assert "Tents" not in leaves and {"Sleeping Bags", "Sleeping Pads"} <= set(leaves), leaves


def test_goes_with_on_a_product_page_skips_the_product_and_its_category(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    # The Ridge Shell rain jacket is the boots' first complement; it is already in the cart.
    (answer,) = _turns(chat, ("what goes with these boots?", {"product_id": BOOTS, "cart": [RAIN_JACKET]}))
    ids = [c.id for c in answer.cards]
    assert answer.intent == "recommendation" and len(ids) >= 3
    assert BOOTS not in ids and RAIN_JACKET not in ids and "Hiking Boots" not in _leaves(services, answer)


def test_what_else_for_a_trip_with_this_tent_is_not_more_tents(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    message = "What else will I need for a first backpacking trip with this tent?"
    (answer,) = _turns(chat, (message, {"product_id": TENT}))
    leaves = _leaves(services, answer)
    assert answer.intent == "recommendation" and len(answer.cards) >= 3
    assert "Tents" not in leaves and {"Sleeping Bags", "Sleeping Pads"} <= set(leaves), leaves


def test_my_tent_is_the_tent_in_the_cart_not_the_boots_discussed(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    *_, question, answer = _turns(chat, ("men's waterproof hiking boots size 10", {}),
                                  ("is the first one waterproof?", {}),
                                  ("what goes with my tent?", {"cart": [TENT]}))  # fmt: skip
    assert question.intent == "product_question" and len(question.focus) == 1  # the boots are under discussion
    leaves = _leaves(services, answer)
    assert answer.intent == "recommendation" and answer.cards
    assert TENT not in [c.id for c in answer.cards] and "Tents" not in leaves
    assert {"Sleeping Bags", "Sleeping Pads"} <= set(leaves) and "Rain Jackets" not in leaves, leaves


def test_what_else_do_i_need_completes_the_cart(demo: tuple[Any, ChatService]) -> None:
    services, chat = demo
    (answer,) = _turns(chat, ("what else do I need for my trip?", {"cart": [TENT, BAG]}))
    leaves = _leaves(services, answer)
    assert answer.intent == "recommendation" and len(answer.cards) == 4
    assert not {TENT, BAG} & {c.id for c in answer.cards}
    assert not {"Tents", "Sleeping Bags", "Hiking Boots", "Daypacks"} & set(leaves), leaves
    assert leaves[0] == "Sleeping Pads" and len(set(leaves)) >= 3, leaves  # one of each kind before a second pad


def test_the_merchants_goes_with_map_reaches_the_chat(demo: tuple[Any, ChatService]) -> None:
    """RECS_COMPLEMENTARY_MAP (the demo's, as `storebot demo` sets it) decides "goes with" before events exist."""
    from storebot.cli.demo import DEMO_COMPLEMENTARY_MAP

    services, _ = demo
    chat = ChatService.from_services(services, llm=fake("Here are some ideas."))
    chat.settings = {**services.settings, "RECS_COMPLEMENTARY_MAP": DEMO_COMPLEMENTARY_MAP}
    services.redis.delete(services.keys("demo")("recs", "complementary"))  # lists cached by the tests before: no map
    (answer,) = _turns(chat, ("what goes with these boots?", {"product_id": BOOTS}))
    leaves = _leaves(services, answer)
    assert answer.intent == "recommendation" and answer.cards
    assert leaves[0] == "Socks" and "Trail Runners" not in leaves and "Sandals" not in leaves, leaves


@pytest.mark.parametrize(
    ("message", "kind"),
    [("what goes with these boots?", "complementary"), ("something similar but cheaper", "similar"),
     ("anything else instead?", "similar"), ("Show me rechargeable headlamps under $50 instead", None),
     ("any alternatives to the Ridge Shell?", "similar")],
)  # fmt: skip
def test_instead_after_a_new_request_is_a_search_not_more_like_this(message: str, kind: str | None) -> None:
    from storebot.chat.recommendations import recommendation_kind

    assert recommendation_kind(message) == kind
