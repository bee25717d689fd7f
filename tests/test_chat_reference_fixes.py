"""Follow-ups about the right product: the page product after a "goes with" list, a product named in the message,
and "the navy one" meaning the card shown in navy.

The first half resolves references on hand-built records; the second runs the chat (real Redis, real MiniLM,
a deterministic fake model) on the demo store's tents, rain jackets, boots, trail runners, sandals and socks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from flask import Flask

from storebot.catalog.models import Product, Variant
from storebot.chat.condense import condense
from storebot.chat.references import FocusItem, resolve_references
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest, ChatResponse
from storebot.retrieval.vocabulary import CatalogVocabulary
from tests.conftest import FIXTURES
from tests.demo_store import demo_products, indexed_store, module_app, sync_feed_bytes
from tests.test_chat_chain import fake


def _variants(pid: str, colors: list[str], price: str) -> list[Variant]:
    return [Variant(id=f"{pid}{i}", options={"size": "M", "color": c}, price=Decimal(price), stock=2)
            for i, c in enumerate(colors)]  # fmt: skip


BOOTS = Product(id="1090", title="Men's Traverse Mid Waterproof Hiking Boots", brand="Quillridge",
                category=["Footwear", "Hiking Boots"], variants=_variants("1090", ["Dune/Rust"], "169"))  # fmt: skip
TRAILHEAD = Product(id="1012", title="Women's Trailhead Rain Jacket", brand="Cinderpeak",
                    category=["Apparel", "Jackets", "Rain Jackets"],
                    variants=_variants("1012", ["Ember Orange", "Midnight Navy", "Clay Red"], "99"))  # fmt: skip
SQUALL = Product(id="1004", title="Women's Squall Line Rain Jacket", brand="Cinderpeak",
                 category=["Apparel", "Jackets", "Rain Jackets"],
                 variants=_variants("1004", ["Heather Oat", "Clay Red"], "109"))  # fmt: skip
DRIZZLE = Product(id="1007", title="Drizzle Packable Rain Jacket", brand="Tallow",
                  category=["Apparel", "Jackets", "Rain Jackets"],
                  variants=_variants("1007", ["Midnight Navy", "Storm Grey", "Fog Grey"], "69"))  # fmt: skip
STILLWATER2 = Product(id="1135", title="Stillwater 2 Backpacking Tent", brand="Hollowmere",
                      category=["Gear", "Tents"], price=Decimal("249"))  # fmt: skip
STILLWATER3 = Product(id="1136", title="Stillwater 3 Backpacking Tent", brand="Hollowmere",
                      category=["Gear", "Tents"], price=Decimal("329"))  # fmt: skip
TRAILHEAD2 = Product(id="1140", title="Trailhead 2 Backpacking Tent", brand="Hollowmere",
                     category=["Gear", "Tents"], price=Decimal("159"))  # fmt: skip
RIDGEBACK = Product(id="1137", title="Ridgeback UL Ultralight Tent", brand="Hollowmere",
                    category=["Gear", "Tents"], price=Decimal("399"))  # fmt: skip
CATALOG = [BOOTS, TRAILHEAD, SQUALL, DRIZZLE, STILLWATER2, STILLWATER3, TRAILHEAD2, RIDGEBACK]
VOCAB = CatalogVocabulary.from_products(CATALOG)
# The rain jacket cards as the shopper saw them: the Trailhead in Ember Orange, the Drizzle in Midnight Navy.
JACKET_CARDS = [(TRAILHEAD, TRAILHEAD.variants[0]), (SQUALL, SQUALL.variants[0]), (DRIZZLE, DRIZZLE.variants[0])]


def _focus(*products: Product) -> list[FocusItem]:
    return [FocusItem.from_product(p) for p in products]


def _jackets() -> tuple[list[FocusItem], dict[str, tuple[Product, Variant | None]]]:
    focus = [replace(FocusItem.from_product(p), variant_id=v.id) for p, v in JACKET_CARDS]
    return focus, {p.id: (p, v) for p, v in JACKET_CARDS}


# Resolution on hand-built records ------------------------------------------------------------------------------


def test_these_boots_on_the_boots_page_is_the_page_product() -> None:
    known = {BOOTS.id: (BOOTS, None)}
    fresh = resolve_references("what goes with these boots?", [], page_product_id="1090", vocabulary=VOCAB,
                               known=known)  # fmt: skip
    assert (fresh.product_ids, fresh.kind, fresh.explicit) == (["1090"], "page", True)
    after_jackets = resolve_references("what goes with these boots?", _focus(TRAILHEAD, DRIZZLE),
                                       page_product_id="1090", vocabulary=VOCAB, known=known)  # fmt: skip
    assert after_jackets.product_ids == ["1090"], after_jackets.note
    bare = resolve_references("what would go with these?", [], page_product_id="1090", vocabulary=VOCAB, known=known)
    assert bare.product_ids == ["1090"] and bare.kind == "page"


def test_these_boots_on_a_jacket_page_is_not_the_page_product() -> None:
    known = {TRAILHEAD.id: (TRAILHEAD, None)}
    resolution = resolve_references("what goes with these boots?", [], page_product_id="1012", vocabulary=VOCAB,
                                    known=known)  # fmt: skip
    assert resolution.product_ids == [], resolution.note


def test_a_product_named_in_the_message_is_not_the_product_in_focus() -> None:
    heavy = resolve_references("how heavy is the Ridgeback UL?", _focus(STILLWATER3), vocabulary=VOCAB)
    assert heavy.product_ids == [] and heavy.unknown_name == "Ridgeback UL", heavy.note
    other_number = resolve_references("what do reviewers say about condensation in the Stillwater 3?",
                                      _focus(TRAILHEAD2, STILLWATER2), vocabulary=VOCAB)  # fmt: skip
    assert other_number.product_ids == [] and other_number.unknown_name == "Stillwater 3", other_number.note
    lowercase = resolve_references("and the stillwater 3?", _focus(STILLWATER2), vocabulary=VOCAB)
    assert lowercase.unknown_name == "stillwater 3"
    common_first_word = resolve_references("does the Alpine Fortress come in green?", _focus(RIDGEBACK),
                                           vocabulary=VOCAB)  # fmt: skip
    assert common_first_word.product_ids == [] and common_first_word.unknown_name == "Alpine Fortress"


def test_what_about_a_named_product_is_a_lookup_not_a_refinement_of_the_last_search() -> None:
    focus = _focus(STILLWATER3, TRAILHEAD2)
    last = {"search_text": "tents for car camping", "filters": {"categories": ["Tents"]}}
    message = "what about the Ridgeback UL?"
    resolution = resolve_references(message, focus, vocabulary=VOCAB)
    condensed = condense(message, resolution=resolution, session_last_query=last, focus=focus, vocabulary=VOCAB)
    assert (condensed.standalone_query, condensed.refined) == (message, False)
    blue = condense("what about in blue?", resolution=resolve_references("what about in blue?", focus),
                       session_last_query=last, focus=focus, vocabulary=VOCAB)  # fmt: skip
    assert blue.refined, "a refinement without a name still refines"


def test_names_in_focus_places_and_colours_are_not_unknown_names() -> None:
    in_focus = resolve_references("is the Stillwater 3 roomy?", _focus(STILLWATER2, STILLWATER3), vocabulary=VOCAB)
    assert in_focus.product_ids == ["1136"] and in_focus.unknown_name == ""
    for message in ("is it good for winter in Colorado?", "good for hiking in Scotland?", "any in Midnight Navy?",
                    "does the Hollowmere one come in green?", "Thanks, is that waterproof?"):  # fmt: skip
        resolution = resolve_references(message, _focus(STILLWATER2, TRAILHEAD), vocabulary=VOCAB)
        assert resolution.unknown_name == "", (message, resolution)


@pytest.mark.parametrize("message", ["the blue one?", "the navy one?", "is the navy one packable?"])
def test_a_colour_picks_the_card_shown_in_it(message: str) -> None:
    focus, known = _jackets()
    resolution = resolve_references(message, focus, vocabulary=VOCAB, known=known)
    assert resolution.product_ids == ["1007"] and not resolution.ambiguous, resolution.note
    # Without the cards' variants, the Trailhead (first, and it offers Midnight Navy) was taken.
    assert resolve_references(message, focus, vocabulary=VOCAB).product_ids[0] == "1012"


def test_a_colour_no_card_shows_falls_back_to_the_colours_offered() -> None:
    focus, known = _jackets()
    red = resolve_references("the red one?", focus, vocabulary=VOCAB, known=known)  # Clay Red: Trailhead and Squall
    assert red.product_ids == ["1012"] and red.ambiguous
    orange = resolve_references("the orange one", focus, vocabulary=VOCAB, known=known)
    assert orange.product_ids == ["1012"] and not orange.ambiguous


# The chat on the demo store --------------------------------------------------------------------------------------

TYPES = {"Tents", "Rain Jackets", "Hiking Boots", "Trail Runners", "Sandals", "Socks"}


@pytest.fixture(scope="module")
def demo(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The demo store with its tents, rain jackets, boots, trail runners, sandals and socks, indexed; reviews synced."""
    with module_app(redis_url, embedder, tmp_path_factory, "refs") as app:
        services = app.extensions["storebot"]
        _, keys = indexed_store(services, (demo_products(TYPES), "shopify", "products"))
        sync_feed_bytes(services, keys, (FIXTURES / "reviews.csv").read_bytes(), "csv", "reviews")
        yield app


class _Chat:
    """One shopper session against the demo store."""

    def __init__(self, app: Flask, **page: str) -> None:
        self.service = ChatService.from_services(app.extensions["storebot"], llm=fake("Here is what I found."))
        self.session, self.page = f"refs-{uuid.uuid4().hex[:10]}", dict(page)

    def __call__(self, message: str) -> ChatResponse:
        return self.service.respond(ChatRequest("demo", self.session, message, dict(self.page)))


def test_on_the_boots_page_they_are_the_boots_after_a_goes_with_list(demo: Flask) -> None:
    chat = _Chat(demo, product_id="1090")
    recommended = [card.id for card in chat("what goes with these boots?").cards]
    assert len(recommended) >= 2 and "1090" not in recommended
    for question in ("do they run small?", "are they good for winter?", "how much are they?"):
        response = chat(question)
        assert response.focus == ["1090"], (question, response.focus)
    assert [(card.id, card.sale_price) for card in response.cards] == [("1090", "99.00")]  # on sale from $169
    second = chat("is the second one waterproof?")
    assert second.focus == [recommended[1]], "an ordinal still counts the recommendation cards"


def test_a_named_product_wins_over_the_product_in_focus(demo: Flask) -> None:
    chat = _Chat(demo)
    assert chat("tents for car camping with the family").cards
    assert chat("what do reviewers say about condensation in the Stillwater 3?").focus == ["1136"]
    heavy = chat("how heavy is the Ridgeback UL?")
    assert heavy.focus == ["1137"] and [card.id for card in heavy.cards] == ["1137"], heavy.standalone_query
    assert "Stillwater" not in heavy.standalone_query


def test_a_named_product_wins_over_the_one_just_discussed(demo: Flask) -> None:
    chat = _Chat(demo)
    cards = [card.id for card in chat("a lightweight 2 person backpacking tent under $350").cards]
    assert "1136" not in cards[:1]
    first = chat("what do reviewers say about condensation in the first one?")
    assert first.focus == cards[:1]
    named = chat("what do reviewers say about condensation in the Stillwater 3?")
    assert named.focus == ["1136"], named.standalone_query


def test_the_blue_one_is_the_card_shown_in_navy(demo: Flask) -> None:
    chat = _Chat(demo)
    cards = chat("waterproof rain jacket for women, size M, under 120 dollars").cards
    colours = [(card.id, (card.matched_variant or {}).get("options", {}).get("color")) for card in cards]
    navy = [pid for pid, colour in colours if colour == "Midnight Navy"]
    offers_navy_first = [pid for pid, colour in colours[: colours.index((navy[0], "Midnight Navy"))]
                         if pid == "1012"] if navy else []  # fmt: skip
    assert navy and offers_navy_first, f"the test needs a card offering navy before the navy card: {colours}"
    assert chat("the blue one?").focus == navy[:1]
