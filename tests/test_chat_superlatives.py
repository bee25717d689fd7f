""" "Which one is the warmest?" about the cards on screen names a winner, with the figure that decides it; "what
about large?" about the product under discussion stays on it.

The ranking is read from the records (attributes, ratings, prices) in one unit; the chat test runs the real chain on
the small test catalog with a fake model.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from storebot.catalog.models import Product
from storebot.chat.service import ChatService
from storebot.chat.superlatives import rank_by_superlative
from storebot.chat.types import ChatRequest
from storebot.services import Services
from tests.demo_store import demo_products, indexed_store, module_app
from tests.test_chat_chain import ask, fake, shop  # noqa: F401 - the small catalog fixture


def _bag(pid: str, comfort: str | None, weight: str) -> Product:
    attributes = {"weight": weight} | ({"temperature_comfort": comfort} if comfort else {})
    return Product(id=pid, title=f"Bag {pid}", price=Decimal("200"), attributes=attributes)


BAGS = [(_bag("campfire", "10 °C / 50 °F", "1700 g"), None), (_bag("glacier", "-12 °C / 10 °F", "1157 g"), None),
        (_bag("ember", "-1 °C / 30 °F", "2.7 lb"), None), (_bag("liner", None, "250 g"), None)]  # fmt: skip


def test_the_warmest_is_the_lowest_comfort_temperature_and_a_bag_without_one_is_said_to_lack_it() -> None:
    ranked = rank_by_superlative("which one is the warmest?", BAGS)
    assert ranked is not None
    assert [p.id for p, _ in ranked.products] == ["glacier", "ember", "campfire", "liner"]
    assert ranked.text.startswith("The Bag glacier is the warmest of these: comfort temperature -12 °C / 10 °F")
    assert ranked.text.endswith("The Bag liner does not list its temperature comfort.")


def test_weights_in_different_units_are_compared_in_one() -> None:
    ranked = rank_by_superlative("which is the lightest?", BAGS)
    assert ranked is not None and [p.id for p, _ in ranked.products] == ["liner", "glacier", "ember", "campfire"]
    heaviest = rank_by_superlative("which one is heavier?", BAGS[:3])
    assert heaviest is not None and heaviest.products[0][0].id == "campfire"  # 1700 g beats 2.7 lb (1225 g)


def test_one_five_star_review_does_not_beat_many_good_ones() -> None:
    lone = Product(id="lone", title="Lone", rating_avg=5.0, rating_count=1)
    loved = Product(id="loved", title="Loved", rating_avg=4.8, rating_count=21)
    ranked = rank_by_superlative("which of those has the best reviews?", [(lone, None), (loved, None)])
    assert ranked is not None and ranked.products[0][0].id == "loved"
    assert "4.8★ from 21 reviews" in ranked.text and "5.0★ from 1 review)" in ranked.text


def test_products_without_reviews_are_said_to_have_none() -> None:
    """A listed product with no reviews used to raise (an HTTP 500 in the exploratory re-test)."""
    rated = Product(id="rated", title="Rated", rating_avg=4.6, rating_count=12)
    fresh = Product(id="fresh", title="Fresh", rating_avg=None, rating_count=0)
    other = Product(id="other", title="Other", rating_avg=3.9, rating_count=8)
    ranked = rank_by_superlative("which of those has the best reviews?", [(fresh, None), (rated, None), (other, None)])
    assert ranked is not None and [p.id for p, _ in ranked.products] == ["rated", "other", "fresh"]
    assert ranked.text.endswith("The Fresh has no reviews yet."), ranked.text


def test_no_superlative_or_no_figure_means_no_ranking() -> None:
    assert rank_by_superlative("is it waterproof?", BAGS) is None
    assert rank_by_superlative("which one is the brightest?", BAGS) is None, "no bag lists an output"
    assert rank_by_superlative("which one is the warmest?", BAGS[:1]) is None


def test_the_chat_names_the_cheapest_of_the_cards_shown(services: Services, shop: str) -> None:  # noqa: F811
    service = ChatService.from_services(services, llm=fake("Here you go."))
    listing = ask(service, shop, "rain jackets")
    assert {c.id for c in listing.cards} >= {"rain-1", "rain-2"}
    answer = ask(service, shop, "which one is the cheapest?")
    assert answer.intent == "comparison" and answer.cards[0].id == "rain-1"
    assert answer.text.startswith("The Ridge Shell Rain Jacket is the cheaper of the two: $139"), answer.text
    assert answer.grounding["ok"], answer.grounding
    new_search = ask(service, shop, "show me the cheapest tents", session="session-0002")
    assert new_search.intent == "search" and {c.id for c in new_search.cards} <= {"tent-1", "tent-2"}


def test_what_about_another_size_or_colour_stays_on_the_product_under_discussion(
    services: Services,
    shop: str,  # noqa: F811
) -> None:
    service = ChatService.from_services(services, llm=fake("Here you go."))
    first = ask(service, shop, "is it available in medium?", product_id="rain-1")
    assert first.intent == "product_question" and [c.id for c in first.cards] == ["rain-1"]
    for message in ("what about in Moss?", "how about size S?", "and what about large in Slate Blue?"):
        answer = ask(service, shop, message, product_id="rain-1")
        assert answer.intent == "product_question" and [c.id for c in answer.cards] == ["rain-1"], (message, answer)
    other = ask(service, shop, "what about tents?", product_id="rain-1")
    assert other.intent == "search" and {c.id for c in other.cards} <= {"tent-1", "tent-2"}


@pytest.fixture(scope="module")
def outdoor(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatService]:  # type: ignore[no-untyped-def]
    """The demo store's tents, sleeping bags and headlamps, indexed."""
    with module_app(redis_url, embedder, tmp_path_factory, "best") as app:
        services = app.extensions["storebot"]
        indexed_store(services, (demo_products({"Tents", "Sleeping Bags", "Headlamps"}), "shopify", "products"))
        yield ChatService.from_services(services, llm=fake("Here you go."))


@pytest.mark.parametrize(
    ("message", "winner", "measure"),
    [("the lightest backpacking tent", "Trekker 1 Trekking Pole Tent", "lightest"),
     ("warmest sleeping bag", "Glacier 0 Down Sleeping Bag", "warmest"),
     ("your brightest headlamp?", "Beacon 900 Pro Headlamp", "brightest")],
)  # fmt: skip
def test_a_superlative_search_ranks_the_matches_by_the_figure(outdoor: ChatService, message: str, winner: str,
                                                              measure: str) -> None:  # fmt: skip
    answer = outdoor.respond(ChatRequest("demo", f"best-{abs(hash(message))}", message))
    assert answer.intent == "search" and answer.cards[0].title == winner, [c.title for c in answer.cards]
    assert answer.text.startswith(f"The {winner} is the {measure} of these:"), answer.text
    assert "don't seem to carry" not in answer.text and "Showing results for" not in answer.text
    assert answer.grounding["ok"], answer.grounding


def test_a_winner_question_on_a_product_page_with_no_list_ranks_its_category(outdoor: ChatService) -> None:
    """Found by the exploratory re-test: it compared a pair of slides and a merino top."""
    page = {"product_id": "1135"}  # the Stillwater 2 tent
    answer = outdoor.respond(ChatRequest("demo", "best-page-1", "which one is the lightest?", page))
    assert answer.cards and all("Tent" in c.title for c in answer.cards), [c.title for c in answer.cards]
    assert answer.text.startswith(f"The {answer.cards[0].title} is the lightest of these:"), answer.text


def test_a_question_about_the_cheapest_one_is_not_another_ranking(outdoor: ChatService) -> None:
    session = "best-cheapest-1"
    outdoor.respond(ChatRequest("demo", session, "headlamps"))
    answer = outdoor.respond(ChatRequest("demo", session, "is the cheapest one rechargeable?"))
    assert answer.intent == "product_question" and answer.cards[0].title == "Trail 250 Headlamp"  # $24.95
    assert "the cheapest of these" not in answer.text, answer.text


def test_which_colour_is_cheapest_is_about_the_variants_not_a_ranking() -> None:
    assert rank_by_superlative("which colour is cheapest?", BAGS) is None
    assert rank_by_superlative("which size is the lightest?", BAGS) is None
