"""Shoppers can ask for what's on sale: the phrasings, variant matching, API parameter, relaxation and chat cards.

The first half runs on a small hand-built catalog and the demo feed parsed in memory; the second on the demo
store (fixtures/demo, 180 products) synced into the test Redis and indexed by the real MiniLM, searched through
the API and through the chat with a deterministic fake model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from storebot.catalog.feeds import parse_feed
from storebot.catalog.models import Product, Variant
from storebot.chat.condense import condense
from storebot.chat.intent import classify_intent
from storebot.chat.references import FocusItem, resolve_references
from storebot.chat.service import ChatService
from storebot.chat.types import ChatRequest
from storebot.errors import StorebotError
from storebot.retrieval.filters import Filters
from storebot.retrieval.query import parse_query
from storebot.retrieval.relax import RELAXATION_ORDER, relax
from storebot.retrieval.vocabulary import CatalogVocabulary
from tests.conftest import FIXTURES
from tests.demo_store import demo_products, indexed_store, module_app, sync_feed_bytes
from tests.test_chat_chain import fake


def _variant(pid: str, color: str, price: str, sale: str | None = None) -> Variant:
    return Variant(id=f"{pid}-{color.lower()}", options={"color": color, "size": "M"}, price=Decimal(price),
                   sale_price=Decimal(sale) if sale else None, stock=3)  # fmt: skip


# Rust is the only discounted colour of the shell; the tent is on sale at product level only.
SHELL = Product(id="shell", title="Ridge Shell Rain Jacket", brand="Alder", category=["Apparel", "Jackets"],
                variants=[_variant("shell", "Black", "139.00"), _variant("shell", "Rust", "139", "99")])  # fmt: skip
PARKA = Product(id="parka", title="Hearth Parka", brand="Alder", category=["Apparel", "Jackets"],
                variants=[_variant("parka", "Black", "249.00")])  # fmt: skip
TENT = Product(id="tent", title="Stillwater 2 Tent", brand="Cairn", category=["Gear", "Tents"],
               price=Decimal("299.00"), sale_price=Decimal("249.00"))  # fmt: skip
# A "sale" at the full price is no sale.
BOOT = Product(id="boot", title="Traverse Mid Boot", brand="Cairn", category=["Footwear", "Hiking Boots"],
               price=Decimal("189.00"), sale_price=Decimal("189.00"))  # fmt: skip
CATALOG = [SHELL, PARKA, TENT, BOOT]
VOCAB = CatalogVocabulary.from_products(CATALOG)


# Query understanding -------------------------------------------------------------------------------------------

# (query, search text left, filters beyond on_sale=True)
SALE_PHRASINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("any rain jackets on sale?", "rain jackets?", {"categories": ["Jackets"]}),
    ("what's on sale?", "", {}),
    ("do you have anything on sale, please?", "", {}),
    ("jackets on sale", "jackets", {"categories": ["Jackets"]}),
    ("discounted boots", "boots", {"categories": ["Hiking Boots"]}),
    ("sale tents under $300", "tents", {"categories": ["Tents"], "price_max": "300.00", "currency": "USD"}),
    ("reduced jackets", "jackets", {"categories": ["Jackets"]}),
    ("jackets at a reduced price", "jackets", {"categories": ["Jackets"]}),
    ("deals on tents", "tents", {"categories": ["Tents"]}),
    ("good deals on tents", "tents", {"categories": ["Tents"]}),
    ("best deal tent", "tent", {"categories": ["Tents"]}),
    ("clearance jackets in black", "jackets in black", {"categories": ["Jackets"], "colors": ["Black"]}),
    ("jackets on clearance", "jackets", {"categories": ["Jackets"]}),
    ("marked down boots", "boots", {"categories": ["Hiking Boots"]}),
    ("marked-down tents", "tents", {"categories": ["Tents"]}),
    ("30% off jackets", "jackets", {"categories": ["Jackets"]}),
    ("sales on tents", "tents", {"categories": ["Tents"]}),
    ("ON SALE Tents", "Tents", {"categories": ["Tents"]}),
    ("cheapest jackets on sale in stock", "jackets", {"categories": ["Jackets"], "in_stock": True}),
]


@pytest.mark.parametrize(("text", "search_text", "others"), SALE_PHRASINGS, ids=[p[0] for p in SALE_PHRASINGS])
def test_sale_phrasings_become_the_on_sale_filter(text: str, search_text: str, others: dict[str, Any]) -> None:
    parsed = parse_query(text, VOCAB)
    assert parsed.search_text == search_text
    assert parsed.filters.to_dict() == {**others, "on_sale": True}


# (query, the word that stays in the search text)
NOT_SALES = [
    ("wholesale tents", "wholesale"),  # whole words only
    ("resale value of boots", "resale"),
    ("salesperson", "salesperson"),
    ("tents for sale", "sale"),  # merely sold
    ("jackets not on sale", "sale"),  # negated
    ("a jacket that isn't on sale", "sale"),
    ("do you have a discount code?", "discount"),  # a coupon: a policy question
    ("pack with reduced weight", "reduced"),  # a spec, not a price
    ("boots that deal with mud", "deal"),
    ("tent with ground clearance", "clearance"),
]


@pytest.mark.parametrize(("text", "word"), NOT_SALES, ids=[p[0] for p in NOT_SALES])
def test_words_that_only_look_like_sales_are_not_a_filter(text: str, word: str) -> None:
    parsed = parse_query(text, VOCAB)
    assert parsed.filters.on_sale is None and "on_sale" not in parsed.filters.active()
    assert word in parsed.search_text.split(), "the word is searched, not cut"


def test_parsing_without_a_vocabulary_still_reads_sales() -> None:
    parsed = parse_query("sale tents")
    assert (parsed.search_text, parsed.filters.on_sale) == ("tents", True)


# Matching ------------------------------------------------------------------------------------------------------


def test_only_the_discounted_variant_matches() -> None:
    match = Filters(on_sale=True).match(SHELL)
    assert match is not None and match.variant is not None
    assert (match.variant.options["color"], match.price) == ("Rust", Decimal("99.00"))
    assert match.matched["on_sale"] == "99.00 (was 139.00)"
    assert Filters(on_sale=True, colors=["Black"]).match(SHELL) is None, "no black one is on sale"
    assert Filters(on_sale=True).match(PARKA) is None


def test_product_level_sale_and_a_sale_at_full_price() -> None:
    assert Filters(on_sale=True).match(TENT) is not None
    assert Filters(on_sale=True, price_max=Decimal("250")).match(TENT) is not None, "the sale price is what is paid"
    assert Filters(on_sale=True).match(BOOT) is None, "sale_price equal to price is no sale"
    priceless = Product(id="p", title="Cap", price=Decimal("30"), sale_price=Decimal("20"),
                        variants=[Variant(id="p-1", options={"color": "Black"})])  # fmt: skip
    assert Filters(on_sale=True).match(priceless) is not None, "a variant without a price takes the product's"


def test_on_sale_false_hides_nothing() -> None:
    assert [p.id for p in CATALOG if Filters(on_sale=False).match(p)] == [p.id for p in CATALOG]
    assert not Filters(on_sale=False) and Filters(on_sale=True)
    assert Filters(on_sale=True).active() == ["on_sale"]


def test_to_dict_from_dict_merge_and_describe() -> None:
    filters = Filters(categories=["Jackets"], on_sale=True)
    assert filters.to_dict() == {"categories": ["Jackets"], "on_sale": True}
    assert Filters.from_dict(json.loads(json.dumps(filters.to_dict()))) == filters
    assert Filters.from_dict({"on_sale": False}).to_dict() == {"on_sale": False}
    assert Filters(colors=["Black"]).merge(Filters(on_sale=True)).on_sale is True
    assert Filters(on_sale=True).merge(Filters(colors=["Black"])).on_sale is True
    assert filters.describe() == "Jackets, on sale"
    assert Filters(price_max=Decimal("300"), currency="USD", on_sale=True).describe() == "under $300, on sale"


def test_the_demo_catalog_has_as_many_sale_items_as_its_feed_says() -> None:
    raw = json.loads((FIXTURES / "products.json").read_text())["products"]

    def discounted(variant: dict[str, Any]) -> bool:
        compare = variant.get("compare_at_price")
        return bool(compare) and Decimal(str(compare)) > Decimal(str(variant["price"]))

    expected = {str(p["id"]) for p in raw if any(discounted(v) for v in p["variants"])}
    with (FIXTURES / "products.json").open("rb") as feed:
        products = [row.record for row in parse_feed(feed, "shopify") if row.record is not None]
    assert len(products) == 180
    found = {p.id for p in products if Filters(on_sale=True).match(p)}
    assert found == expected and len(found) == 27


# API parameter -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("Yes", True), ("false", False), ("0", False)])
def test_on_sale_parameter(raw: str, value: bool) -> None:
    assert Filters.from_params({"on_sale": raw, "q": "jacket"}).on_sale is value


def test_a_bad_on_sale_parameter_says_how_to_fix_it() -> None:
    with pytest.raises(StorebotError) as caught:
        Filters.from_params({"on_sale": "maybe"})
    assert "'maybe' is not true or false" in str(caught.value)
    assert caught.value.fix == "Send on_sale=true or on_sale=false."


def test_explicit_on_sale_overrides_the_parsed_one() -> None:
    parsed = parse_query("sale tents", VOCAB).filters
    assert parsed.merge(Filters.from_params({"on_sale": "true"})).on_sale is True
    assert Filters().merge(Filters.from_params({"on_sale": "false"})).on_sale is False


# Relaxation ----------------------------------------------------------------------------------------------------


def test_on_sale_is_relaxed_right_after_in_stock_and_before_the_budget() -> None:
    assert RELAXATION_ORDER[:3] == ("in_stock", "on_sale", "price_widen")
    filters = Filters(price_max=Decimal("300"), currency="USD", categories=["Tents"], in_stock=True, on_sale=True)
    steps = list(relax(filters))
    assert [note for _, note in steps][:3] == ["in stock", "on sale", "price widened by 20% (now under $360)"]
    assert steps[1][0].on_sale is None and steps[1][0].price_max == Decimal("300"), "the budget still holds"
    assert filters.on_sale is True, "the original is untouched"


def test_relaxing_a_sale_nobody_has_finds_the_regular_priced_items() -> None:
    filters = parse_query("parka on sale", VOCAB).filters
    assert filters == Filters(on_sale=True) and filters.match(PARKA) is None
    relaxed, note = next(relax(filters))
    assert note == "on sale" and relaxed.match(PARKA) is not None


# Chat understanding --------------------------------------------------------------------------------------------

FOCUS = [FocusItem.from_product(p) for p in (SHELL, PARKA)]
LAST = {"search_text": "jackets", "filters": {"categories": ["Jackets"]}}


def _understand(message: str) -> tuple[str, Any]:
    resolution = resolve_references(message, FOCUS, vocabulary=VOCAB)
    intent = classify_intent(message, has_focus=True, resolution=resolution, vocabulary=VOCAB).intent
    return intent, condense(message, resolution=resolution, session_last_query=LAST, focus=FOCUS,
                            vocabulary=VOCAB, intent=intent)  # fmt: skip


@pytest.mark.parametrize("message", ["is it on sale?", "is the Hearth Parka discounted?", "is the first one on sale?"])
def test_asking_whether_a_product_is_on_sale_stays_a_question_about_it(message: str) -> None:
    intent, condensed = _understand(message)
    assert intent == "product_question" and not condensed.refined


@pytest.mark.parametrize("message", ["any on sale?", "on sale?", "any deals?", "what about discounted ones?"])
def test_asking_for_sales_after_a_search_refines_it(message: str) -> None:
    intent, condensed = _understand(message)
    assert (intent, condensed.refined) == ("search", True)
    assert condensed.filters == {"categories": ["Jackets"], "on_sale": True}
    assert condensed.standalone_query.endswith("on sale")  # the rewritten question says so, as it says "in stock"


# The demo store, searched through the API and the chat ---------------------------------------------------------

INDEXED = 40  # the demo's first products (its jackets) and its tents are indexed: embedding all 180 is slow


@pytest.fixture(scope="module")
def demo(redis_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    """The app with the demo store's 180 products synced, its first INDEXED and its tents indexed."""
    with module_app(redis_url, embedder, tmp_path_factory, "sale") as app:
        services = app.extensions["storebot"]
        first = demo_products(lambda i, p: i < INDEXED or p["product_type"] == "Tents")
        policies = (FIXTURES / "policies.json").read_bytes()
        store, keys = indexed_store(services, (first, "shopify", "products"), (policies, "json", "policies"))
        sync_feed_bytes(services, keys, demo_products(), "shopify", "products")  # the whole catalog
        sync_feed_bytes(services, keys, (FIXTURES / "reviews.csv").read_bytes(), "csv", "reviews")  # for browsing
        yield app, store.publishable_key


def _on_sale(item: dict[str, Any]) -> bool:
    pair = item["matched_variant"] or item
    return pair["sale_price"] is not None and Decimal(pair["sale_price"]) < Decimal(pair["price"])


def test_the_synced_demo_store_has_27_sale_items(demo: tuple[Flask, str]) -> None:
    raw = json.loads((FIXTURES / "products.json").read_text())["products"]
    expected = sum(
        any(v.get("compare_at_price") and float(v["compare_at_price"]) > float(v["price"]) for v in p["variants"])
        for p in raw
    )
    catalog = demo[0].extensions["storebot"].catalog("demo")
    assert sum(1 for p in catalog.iter_products() if Filters(on_sale=True).match(p)) == expected == 27


def test_api_on_sale_returns_only_sale_items(demo: tuple[Flask, str]) -> None:
    app, key = demo
    client = app.test_client()
    body = client.get("/api/v1/search", query_string={"q": "jacket", "on_sale": "true", "limit": 20, "key": key})
    assert body.status_code == 200, body.get_json()
    data = body.get_json()
    assert data["filters_applied"]["on_sale"] is True and data["relaxed"] == []
    assert data["items"] and all(_on_sale(item) for item in data["items"])
    assert all("on_sale" in item["matched"] for item in data["items"])
    unfiltered = client.get("/api/v1/search", query_string={"q": "jacket", "limit": 20, "key": key}).get_json()
    assert not all(_on_sale(item) for item in unfiltered["items"]), "without the filter, full-price jackets show"
    parsed = client.get("/api/v1/search", query_string={"q": "jackets on sale", "key": key}).get_json()
    assert parsed["filters_applied"]["on_sale"] is True and parsed["search_text"] == "jackets"
    assert parsed["items"] and all(_on_sale(item) for item in parsed["items"])


def test_api_rejects_a_bad_on_sale_with_a_fix(demo: tuple[Flask, str]) -> None:
    app, key = demo
    response = app.test_client().get("/api/v1/search", query_string={"q": "jacket", "on_sale": "maybe", "key": key})
    assert response.status_code == 400 and response.is_json
    error = response.get_json()["error"]
    assert "on_sale" in error["message"] and error["fix"] == "Send on_sale=true or on_sale=false."


def test_api_relaxes_a_sale_no_tent_has(demo: tuple[Flask, str]) -> None:
    app, key = demo
    with (FIXTURES / "products.json").open("rb") as feed:
        tents = [row.record for row in parse_feed(feed, "shopify") if row.record and "Tents" in row.record.category]
    assert tents and not [t for t in tents if Filters(on_sale=True).match(t)], "the demo has no tent on sale"
    body = app.test_client().get("/api/v1/search", query_string={"q": "tents on sale", "key": key}).get_json()
    assert body["relaxed"] == ["on sale"] and "on_sale" not in body["filters_applied"]
    assert body["items"] and all("Tents" in item["category"] for item in body["items"])


def test_chat_cards_for_jackets_on_sale_are_all_on_sale(demo: tuple[Flask, str]) -> None:
    app, _ = demo
    services = app.extensions["storebot"]
    service = ChatService.from_services(services, llm=fake("Here are some jackets on sale."))
    response = service.respond(ChatRequest("demo", "sale-session-1", "any jackets on sale?", {}))
    assert response.intent == "search" and response.cards
    for card in response.cards:
        assert card.sale_price is not None and Decimal(card.sale_price) < Decimal(card.price or "0"), card
        assert "Jackets" in services.catalog("demo").get_product(card.id).category, card.title
    assert response.grounding["ok"], response.grounding
    follow_up = service.respond(ChatRequest("demo", "sale-session-1", "is the first one on sale?", {}))
    assert follow_up.intent == "product_question" and follow_up.focus == [response.cards[0].id]
    chip = service.respond(ChatRequest("demo", "sale-session-2", "What's on sale?", {}))  # a suggestion chip
    assert chip.intent == "search" and chip.cards
    assert all(card.sale_price is not None and Decimal(card.sale_price) < Decimal(card.price or "0")
               for card in chip.cards)  # fmt: skip


def _pays(item: dict[str, Any]) -> Decimal:
    """What the shopper would pay for a search item: the matched variant's sale price, else its price."""
    pair = item["matched_variant"] or item
    return Decimal(str(pair["sale_price"] if pair["sale_price"] is not None else pair["price"]))


def _discount(item: dict[str, Any]) -> float:
    pair = item["matched_variant"] or item
    return round(1 - float(pair["sale_price"]) / float(pair["price"]), 2)


def test_a_query_with_nothing_left_to_search_browses_the_whole_catalog(demo: tuple[Flask, str]) -> None:
    app, key = demo
    client = app.test_client()
    catalog = app.extensions["storebot"].catalog("demo")
    products = list(catalog.iter_products())

    # "What's on sale?": every sale item (not only those near the words "what's on sale"), biggest discount first.
    sale = client.get("/api/v1/search", query_string={"q": "What’s on sale?", "limit": 50, "key": key}).get_json()
    assert sale["search_text"] == "" and sale["filters_applied"]["on_sale"] is True
    assert len(sale["items"]) == 27 and all(_on_sale(item) for item in sale["items"])
    discounts = [_discount(item) for item in sale["items"]]
    assert discounts == sorted(discounts, reverse=True) and discounts[0] > discounts[-1]

    # Only a budget: the best rated products under it, ratings read from the store's reviews.
    cheap = client.get("/api/v1/search", query_string={"q": "anything under $40?", "key": key}).get_json()
    assert cheap["search_text"] == "" and len(cheap["items"]) == 10
    assert all(_pays(item) <= 40 for item in cheap["items"])
    ratings = [item["rating_avg"] or 0 for item in cheap["items"]]
    assert ratings == sorted(ratings, reverse=True) and ratings[0] > 0
    under_40 = [p for p in products if Filters(price_max=Decimal("40")).match(p)]
    best = max(catalog.get_ratings([p.id for p in under_40]).values(), key=lambda r: r["avg"])
    assert ratings[0] == best["avg"]

    # Only a sort: the cheapest products of the whole catalog.
    cheapest = client.get("/api/v1/search", query_string={"q": "show me the cheapest", "key": key}).get_json()
    prices = [_pays(item) for item in cheapest["items"]]
    assert cheapest["sort"] == "price_asc" and prices == sorted(prices)
    lowest = min(m.price for p in products if (m := Filters().match(p)) is not None and m.price is not None)
    assert prices[0] == lowest


def test_search_pages_with_offset_and_next_offset(demo: tuple[Flask, str]) -> None:
    app, key = demo
    client = app.test_client()

    def page(q: str, limit: int, offset: int | None = None) -> dict[str, Any]:
        args = {"q": q, "limit": limit, "key": key, **({"offset": offset} if offset is not None else {})}
        response = client.get("/api/v1/search", query_string=args)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    whole = [item["id"] for item in page("rain jacket", 10)["items"]]
    first, second = page("rain jacket", 5), page("rain jacket", 5, 5)
    assert first["offset"] == 0 and first["next_offset"] == 5 and second["offset"] == 5
    assert [item["id"] for item in first["items"] + second["items"]] == whole

    # A browse pages too; the last page says so.
    sale = [page("what's on sale?", 20, offset) for offset in (0, 20)]
    assert sale[0]["next_offset"] == 20 and sale[1]["next_offset"] is None
    ids = [item["id"] for p in sale for item in p["items"]]
    assert len(ids) == len(set(ids)) == 27

    for args, wrong in (({"offset": "115", "limit": "10"}, "offset + limit"), ({"offset": "x"}, "offset")):
        response = client.get("/api/v1/search", query_string={"q": "jacket", "key": key, **args})
        assert response.status_code == 400 and wrong in response.get_json()["error"]["message"]
        assert response.get_json()["error"]["fix"]
