"""Words the catalog does not have: typos are searched as the catalog's words, and a thing the store does not sell is
said to be missing instead of answered with whatever is nearest in meaning.

Real Redis, the real MiniLM, the small test catalog (tests/retrieval_catalog.py) and the chat with a fake model.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from storebot.chat.service import ChatService
from storebot.retrieval.keyword import BM25Index
from storebot.retrieval.spelling import edit_distance, suggest, unknown_words
from storebot.services import Services
from tests.test_chat_chain import ask, fake, shop  # noqa: F401 - the small catalog fixture


def test_typos_are_matched_to_the_catalogs_words_and_other_words_are_not() -> None:
    index = BM25Index()
    index.add(
        "boots",
        {"title": "Women's waterproof hiking boots", "description": "Leather, but light, with a gusseted tongue."},
    )
    index.add("tent", {"title": "Stillwater 2 tent", "description": "A light tent, but roomy."})
    assert unknown_words(index, "waterprof hikng bots for wmen", ignore={"for"}) == [
        "waterprof",
        "hikng",
        "bots",
        "wmen",
    ]
    assert [suggest(index, w) for w in ("waterprof", "hikng", "wmen", "tnet", "lether")] == [
        "waterproof", "hiking", "women", "tent", "leather"]  # fmt: skip
    assert suggest(index, "bots") == "but" and suggest(index, "bots", avoid={"but"}) == "boot"
    assert suggest(index, "kayaks") is None and suggest(index, "gps") is None, "nothing close, or too short to tell"
    assert suggest(index, "toungue") == "tongue", "an adjacent swap is one edit"
    assert edit_distance("kayak", "jacket", 2) == 3


def test_api_search_corrects_typos_and_says_what_it_searched(
    client: FlaskClient,
    services: Services,
    shop: str,  # noqa: F811
) -> None:
    key = services.stores.get(shop).publishable_key
    body = client.get("/api/v1/search", query_string={"q": "rian jaket under $200", "key": key}).get_json()
    assert body["corrected_query"] == "rain jacket under $200" and body["corrections"] == {
        "rian": "rain",
        "jaket": "jacket",
    }
    assert body["items"][0]["id"] == "rain-1" and body["filters_applied"]["price_max"] == "200.00"
    plain = client.get("/api/v1/search", query_string={"q": "kayak paddles", "key": key}).get_json()
    assert plain["corrected_query"] is None and plain["unmatched_words"] == ["kayak", "paddles"]


def test_chat_says_the_store_does_not_carry_what_nothing_matches(services: Services, shop: str) -> None:  # noqa: F811
    service = ChatService.from_services(services, llm=fake("Here is what I found."))
    response = ask(service, shop, "Do you sell kayaks?")
    assert response.intent == "search" and response.cards == []
    assert 'We don\'t seem to carry "kayaks".' in response.text
    plain = ask(service, shop, "Actually, show me rain jackets instead", session="session-0004")
    assert plain.cards and "carry" not in plain.text, "the way of asking is not a product the store lacks"
    mixed = ask(service, shop, "Patagonia rain jackets", session="session-0002")
    assert mixed.cards and mixed.cards[0].id == "rain-1"
    assert mixed.text.startswith('We don\'t seem to carry "Patagonia", so here are the closest matches.')


def test_chat_searches_a_typo_as_the_word_it_misspells(services: Services, shop: str) -> None:  # noqa: F811
    service = ChatService.from_services(services, llm=fake("Here is what I found."))
    response = ask(service, shop, "a backpaking tnet")
    assert response.text.startswith('Showing results for "backpacking tent".'), response.text
    assert response.cards and response.cards[0].id == "tent-1"
    foreign = ask(service, shop, "busco una chaqueta impermeable para mujer", session="session-0003")
    assert foreign.cards == [] and "in English if you can" in foreign.text


def test_forms_of_catalog_words_are_not_typos() -> None:
    index = BM25Index()
    index.add("bag", {"title": "Warm down sleeping bag", "description": "Light, bright and hot."})
    assert unknown_words(index, "warmest lightest brighter hottest sleeping bags") == []
    assert unknown_words(index, "warmth kayaking") == ["warmth", "kayaking"], "a form of an unknown word stays unknown"


def test_small_talk_and_long_stories_are_not_things_the_store_lacks(services: Services, shop: str) -> None:  # noqa: F811
    service = ChatService.from_services(services, llm=fake("Here is what I found."))
    for n, message in enumerate(("lol", "cheers, that helped")):
        answer = ask(service, shop, message, session=f"session-01{n}")
        assert answer.intent == "greeting" and answer.cards == [] and "carry" not in answer.text, (message, answer)
    story = ask(service, shop, "I need a light tent for two people, for a Sierra trip with my partner",
                session="session-0200")  # fmt: skip
    assert story.cards and "carry" not in story.text and story.cards[0].id.startswith("tent"), story
