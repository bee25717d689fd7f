"""Query understanding: phrasings -> filters and search text; variant matching; relaxation; API params."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from storebot.catalog.models import Product, Variant
from storebot.errors import StorebotError
from storebot.retrieval.filters import Filters
from storebot.retrieval.query import parse_query
from storebot.retrieval.relax import RELAXATION_ORDER, relax
from storebot.retrieval.vocabulary import CatalogVocabulary

APPAREL_SIZES = ("XS", "S", "M", "L", "XL")
SHOE_SIZES = ("8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12")


def _rain_jacket() -> Product:
    # Moss / M is sold out: "moss jacket in medium, in stock" must find nothing until in-stock is relaxed.
    return Product(
        id="rain-1", title="Men's Squall Rain Jacket", brand="Alder", category=["Apparel", "Jackets", "Rain Jackets"],
        attributes={"gender": "men", "waterproof_rating": "10,000 mm"},
        variants=[
            Variant(id=f"rain-{color.split()[0].lower()}-{size}", options={"color": color, "size": size},
                    price=Decimal("139.00"), stock=0 if (color, size) == ("Moss", "M") else 5)
            for color in ("Slate Blue", "Moss", "Black") for size in APPAREL_SIZES
        ],
    )  # fmt: skip


def _down_jacket() -> Product:
    return Product(
        id="down-1", title="Women's Ember Down Jacket", brand="Ridgeline",
        category=["Apparel", "Jackets", "Insulated Jackets"], attributes={"gender": "women"},
        variants=[
            Variant(id=f"down-{color.lower()}-{size}", options={"color": color, "size": size}, price=Decimal("229.00"),
                    sale_price=Decimal("179.00") if color == "Rust" else None)
            for color in ("Black", "Rust") for size in APPAREL_SIZES
        ],
    )  # fmt: skip


def _trail_runner() -> Product:
    return Product(
        id="run-1", title="Scree Trail Runner", brand="Ridgeline", category=["Footwear", "Trail Runners"],
        attributes={"gender": "unisex"},
        variants=[
            Variant(id=f"run-{color.split()[0].lower()}-{size}-{width[0]}", price=Decimal("125.00"),
                    options={"color": color, "size": size, "width": width})
            for color in ("Rust", "Slate Blue") for size in SHOE_SIZES for width in ("Regular", "Wide")
        ],
    )  # fmt: skip


def _catalog() -> list[Product]:
    base_layer = Product(
        id="base-1", title="Crew Base Layer", brand="Alder", category=["Apparel", "Base Layers"],
        variants=[Variant(id=f"base-{m.lower()}-{s}", options={"material": m, "size": s}, price=Decimal("65.00"))
                  for m in ("Merino", "Polyester") for s in APPAREL_SIZES],
    )  # fmt: skip
    return [
        _rain_jacket(),
        _down_jacket(),
        _trail_runner(),
        base_layer,
        Product(id="tent-2", title="Stillwater 2 Tent", brand="Alder", category=["Gear", "Tents"],
                price=Decimal("249.00"), sale_price=Decimal("219.00"),
                variants=[Variant(id="tent-2-moss", options={"color": "Moss"})]),
        Product(id="tent-4", title="Basecamp 4 Tent", brand="Ridgeline", category=["Gear", "Tents"],
                price=Decimal("399.00"), stock=0),
        # A brand spelled like a category word: it must not turn "trail runners" into a brand filter.
        Product(id="bag-1", title="Ember -10C Sleeping Bag", brand="Trail", category=["Gear", "Sleeping Bags"],
                price=Decimal("289.00")),
        Product(id="lamp-1", title="Beacon 400 Headlamp", brand="Drift & Ember", category=["Gear", "Headlamps"],
                price=Decimal("45.00")),
    ]  # fmt: skip


CATALOG = _catalog()
VOCAB = CatalogVocabulary.from_products(CATALOG)

JACKETS: dict[str, Any] = {"categories": ["Jackets"]}
TENTS: dict[str, Any] = {"categories": ["Tents"]}
RUNNERS: dict[str, Any] = {"categories": ["Trail Runners"]}

PHRASINGS = [
    # The brief's examples.
    ("waterproof jacket under $150 in medium", "waterproof jacket",
     {"price_max": "150.00", "currency": "USD", "sizes": ["M"], **JACKETS}, None),
    ("blue trail runners size 10", "blue trail runners", {"colors": ["Slate Blue"], "sizes": ["10"], **RUNNERS}, None),
    ("Alder tents between 200 and 400", "Alder tents",
     {"price_min": "200.00", "price_max": "400.00", "brands": ["Alder"], **TENTS}, None),
    ("in-stock down jackets for women over 100 dollars", "down jackets for women",
     {"price_min": "100.00", "currency": "USD", "gender": ["women"], "in_stock": True, **JACKETS}, None),
    ("cheapest headlamp", "headlamp", {"categories": ["Headlamps"]}, "price_asc"),
    ("sleeping bag rated to -10C", "sleeping bag rated to -10C", {"categories": ["Sleeping Bags"]}, None),
    # Numbers that are not prices or sizes.
    ("10,000 mm jacket", "10,000 mm jacket", JACKETS, None),
    ("2 person tent", "2 person tent", TENTS, None),
    ("tent for 2 people under 250", "tent for 2 people", {"price_max": "250.00", **TENTS}, None),
    ("tent up to 20,000 mm", "tent up to 20,000 mm", TENTS, None),
    ("storm jacket under 2 kg", "storm jacket under 2 kg", JACKETS, None),
    ("headlamp 400 lumens", "headlamp 400 lumens", {"categories": ["Headlamps"]}, None),
    ("3 season tent under 300", "3 season tent", {"price_max": "300.00", **TENTS}, None),
    # Prices.
    ("tents less than 300 usd", "tents", {"price_max": "300.00", "currency": "USD", **TENTS}, None),
    ("€80 headlamp", "headlamp", {"price_max": "80.00", "currency": "EUR", "categories": ["Headlamps"]}, None),
    ("headlamp 45€", "headlamp", {"price_max": "45.00", "currency": "EUR", "categories": ["Headlamps"]}, None),
    ("headlamp max 50", "headlamp", {"price_max": "50.00", "categories": ["Headlamps"]}, None),
    ("tents 300 or less", "tents", {"price_max": "300.00", **TENTS}, None),
    ("at least 100 jackets", "jackets", {"price_min": "100.00", **JACKETS}, None),
    ("jacket $100+", "jacket", {"price_min": "100.00", "currency": "USD", **JACKETS}, None),
    ("jacket $50-$80", "jacket", {"price_min": "50.00", "price_max": "80.00", "currency": "USD", **JACKETS}, None),
    ("tents 200-400", "tents", {"price_min": "200.00", "price_max": "400.00", **TENTS}, None),
    ("tent from $200 to $300", "tent",
     {"price_min": "200.00", "price_max": "300.00", "currency": "USD", **TENTS}, None),
    ("around $100 trail runners", "trail runners",
     {"price_min": "80.00", "price_max": "120.00", "currency": "USD", **RUNNERS}, None),
    ("$1,200 tent", "tent", {"price_max": "1200.00", "currency": "USD", **TENTS}, None),
    # Sizes: only with a cue; a lone "M" is a letter, "medium weight" an adjective.
    ("blue, size M", "blue", {"colors": ["Slate Blue"], "sizes": ["M"]}, None),
    ("M jacket", "M jacket", JACKETS, None),
    ("medium weight base layer", "medium weight base layer", {"categories": ["Base Layers"]}, None),
    ("rain jacket medium", "rain jacket", {"sizes": ["M"], "categories": ["Rain Jackets"]}, None),
    ("jacket in XL or L", "jacket", {"sizes": ["XL", "L"], **JACKETS}, None),
    ("womens jacket size small", "womens jacket", {"sizes": ["S"], "gender": ["women"], **JACKETS}, None),
    ("jacket size s/m", "jacket", {"sizes": ["S", "M"], **JACKETS}, None),
    ("jacket xxl", "jacket", {"sizes": ["XXL"], **JACKETS}, None),  # not stocked: kept, so relaxing can say so
    ("men's 10.5 trail runners", "men's trail runners", {"sizes": ["10.5"], "gender": ["men"], **RUNNERS}, None),
    ("trail runners 10.5", "trail runners", {"sizes": ["10.5"], **RUNNERS}, None),
    ("eu 44 trail runners", "trail runners", {"sizes": ["10"], **RUNNERS}, None),
    ("size 44 trail runners", "trail runners", {"sizes": ["10"], **RUNNERS}, None),
    ("trail runners uk 9 for women", "trail runners for women",
     {"sizes": ["11"], "gender": ["women"], **RUNNERS}, None),
    ("size 13 trail runners", "trail runners", {"sizes": ["13"], **RUNNERS}, None),
    # Colours: store values, families, and words that only qualify a colour.
    ("green tent", "green tent", {"colors": ["Moss"], **TENTS}, None),
    ("red jacket", "red jacket", {"colors": ["Rust"], **JACKETS}, None),
    ("pink jacket", "pink jacket", JACKETS, None),  # no pinkish colour in this store
    ("slate blue jacket", "slate blue jacket", {"colors": ["Slate Blue"], **JACKETS}, None),
    ("blue or black jacket", "blue or black jacket", {"colors": ["Slate Blue", "Black"], **JACKETS}, None),
    # Brands: whole words, any case, accents folded; a category word is a brand only after "by".
    ("ridgeline jacket", "ridgeline jacket", {"brands": ["Ridgeline"], **JACKETS}, None),
    ("ALDER TÉNTS", "ALDER TÉNTS", {"brands": ["Alder"], **TENTS}, None),
    ("Alderwood tent", "Alderwood tent", TENTS, None),
    ("trail runners", "trail runners", RUNNERS, None),
    ("tent by trail", "tent by trail", {"brands": ["Trail"], **TENTS}, None),
    ("drift and ember headlamp", "drift and ember headlamp",
     {"brands": ["Drift & Ember"], "categories": ["Headlamps"]}, None),
    # Other options.
    ("merino base layer", "merino base layer",
     {"categories": ["Base Layers"], "attributes": {"material": ["Merino"]}}, None),
    ("wide width trail runners", "wide width trail runners", {**RUNNERS, "attributes": {"width": ["Wide"]}}, None),
    ("wide trail runners", "wide trail runners", RUNNERS, None),
    # Sort and stock.
    ("top rated tents", "tents", TENTS, "rating"),
    ("most expensive jacket", "jacket", JACKETS, "price_desc"),
    ("tents that are in stock", "tents", {**TENTS, "in_stock": True}, None),
    ("available now tents", "tents", {**TENTS, "in_stock": True}, None),
    ("a tent under $300 that I can order today", "tent", {**TENTS, "price_max": "300.00", "currency": "USD",
                                                          "in_stock": True}, None),  # fmt: skip
    ("tents I could buy right now", "tents", {**TENTS, "in_stock": True}, None),
    ("headlamp not in stock", "headlamp not in stock", {"categories": ["Headlamps"]}, None),
    ("best tent for rain", "best tent for rain", TENTS, None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "search_text", "filters", "sort"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_phrasings(text: str, search_text: str, filters: dict[str, Any], sort: str | None) -> None:
    parsed = parse_query(text, VOCAB)
    assert parsed.text == text
    assert parsed.search_text == search_text
    assert parsed.filters.to_dict() == filters
    assert parsed.sort == sort


def test_there_are_at_least_forty_phrasings() -> None:
    assert len(PHRASINGS) >= 40


def test_parse_without_a_vocabulary_still_reads_prices_sizes_and_stock() -> None:
    parsed = parse_query("blue jacket under $150 in medium, in stock")
    assert parsed.search_text == "blue jacket"
    assert parsed.filters.to_dict() == {"price_max": "150.00", "currency": "USD", "sizes": ["M"], "in_stock": True}


def test_colour_families_only_reach_catalog_values() -> None:
    vocab = CatalogVocabulary(options={"color": ["Midnight Navy", "Slate Blue", "Olive Drab", "Storm Grey"]})
    assert vocab.resolve_colors("blue") == ["Midnight Navy", "Slate Blue"]
    assert vocab.resolve_colors("green") == ["Olive Drab"]
    assert vocab.resolve_colors("gray") == ["Storm Grey"]
    assert vocab.resolve_colors("storm") == []  # a qualifier, not a colour
    assert vocab.resolve_colors("slate blue") == ["Slate Blue"]  # the store's own value wins over the family


def test_category_words_match_segments_by_plural_and_head() -> None:
    vocab = CatalogVocabulary(categories=["Rain Jackets", "Insulated Jackets", "Hats & Gloves", "Shorts"])
    assert vocab.resolve_categories("jacket") == ["Insulated Jackets", "Rain Jackets"]
    assert vocab.resolve_categories("rain jackets") == ["Rain Jackets"]
    assert vocab.resolve_categories("glove") == ["Hats & Gloves"]
    assert vocab.resolve_categories("short") == []  # "short sleeve" is not a request for shorts


def test_vocabulary_round_trips_through_json() -> None:
    data = json.loads(json.dumps(VOCAB.to_dict()))
    again = CatalogVocabulary.from_dict(data)
    assert again == VOCAB
    text = "blue trail runners size 10"
    assert parse_query(text, again).filters == parse_query(text, VOCAB).filters
    assert VOCAB.brands == ["Alder", "Drift & Ember", "Ridgeline", "Trail"]
    assert VOCAB.options["color"] == ["Black", "Moss", "Rust", "Slate Blue"]


# Variant matching ---------------------------------------------------------------------------------------------


def test_blue_size_m_returns_that_variant() -> None:
    match = parse_query("blue, size M", VOCAB).filters.match(_rain_jacket())
    assert match is not None
    assert match.variant is not None and match.variant.id == "rain-slate-M"
    assert match.matched == {"color": "Slate Blue", "size": "M"}


def test_no_variant_has_both_colour_and_size() -> None:
    assert Filters(colors=["Rust"], sizes=["XXL"]).match(_down_jacket()) is None
    assert Filters(colors=["Slate Blue"]).match(_down_jacket()) is None


def test_out_of_stock_variant_is_skipped_when_in_stock_is_asked() -> None:
    filters = parse_query("moss jacket in medium", VOCAB).filters
    match = filters.match(_rain_jacket())
    assert match is not None and match.variant is not None and match.variant.id == "rain-moss-M"
    filters.in_stock = True
    assert filters.match(_rain_jacket()) is None


def test_in_stock_variants_are_preferred() -> None:
    product = Product(id="p", title="Shell", variants=[
        Variant(id="sold-out", options={"size": "M"}, price=Decimal("99"), stock=0),
        Variant(id="in-stock", options={"size": "M"}, price=Decimal("99"), stock=3),
    ])  # fmt: skip
    match = Filters(sizes=["M"]).match(product)
    assert match is not None and match.variant is not None and match.variant.id == "in-stock"


def test_exact_size_beats_a_combined_size() -> None:
    product = Product(id="p", title="Beanie", variants=[
        Variant(id="sm", options={"size": "S/M"}, price=Decimal("25")),
        Variant(id="m", options={"size": "Medium"}, price=Decimal("25")),
    ])  # fmt: skip
    match = Filters(sizes=["M"]).match(product)
    assert match is not None and match.variant is not None and match.variant.id == "m"
    assert Filters(sizes=["S"]).match(product).variant.id == "sm"  # type: ignore[union-attr]


def test_price_uses_the_variant_sale_price() -> None:
    down = _down_jacket()
    match = parse_query("down jacket under 200", VOCAB).filters.match(down)
    assert match is not None and match.variant is not None
    assert match.variant.options["color"] == "Rust"  # Black is 229, Rust is on sale at 179
    assert match.price == Decimal("179.00")
    assert Filters(price_max=Decimal("170")).match(down) is None


def test_price_falls_back_to_the_product_sale_price() -> None:
    tent = next(p for p in CATALOG if p.id == "tent-2")
    match = Filters(price_max=Decimal("230")).match(tent)
    assert match is not None and match.price == Decimal("219.00")
    assert Filters(price_min=Decimal("230")).match(tent) is None


def test_product_level_filters() -> None:
    matched = [p.id for p in CATALOG if parse_query("Alder tents between 200 and 400", VOCAB).filters.match(p)]
    assert matched == ["tent-2"]
    women = [p.id for p in CATALOG if Filters(gender=["women"], categories=["Apparel"]).match(p)]
    assert women == ["down-1", "base-1"]  # the men's jacket is out; the unlabelled base layer is for anyone
    assert [p.id for p in CATALOG if Filters(gender=["women"], categories=["Footwear"]).match(p)] == ["run-1"]
    assert [p.id for p in CATALOG if Filters(categories=["runners"]).match(p)] == ["run-1"]
    assert [p.id for p in CATALOG if Filters(categories=["Gear > Tents"]).match(p)] == ["tent-2", "tent-4"]


def test_option_attributes_match_at_variant_level() -> None:
    match = parse_query("wide width trail runners size 10", VOCAB).filters.match(_trail_runner())
    assert match is not None and match.variant is not None
    assert match.variant.options == {"color": "Rust", "size": "10", "width": "Wide"}
    assert match.matched == {"category": "Trail Runners", "size": "10", "attr:width": "Wide"}


def test_empty_filters_match_everything_with_a_variant() -> None:
    assert not Filters()
    match = Filters().match(_rain_jacket())
    assert match is not None and match.variant is not None and match.matched == {}


# Relaxation ---------------------------------------------------------------------------------------------------


def test_relaxation_order_is_stated() -> None:
    assert RELAXATION_ORDER == (
        "in_stock", "on_sale", "price_widen", "attributes", "color", "brand", "gender", "price", "size", "category",
    )  # fmt: skip


def test_relax_steps_and_notes() -> None:
    filters = Filters(
        price_max=Decimal("150"),
        currency="USD",
        colors=["Slate Blue"],
        sizes=["M"],
        brands=["Alder"],
        categories=["Jackets"],
        gender=["men"],
        in_stock=True,
        attributes={"material": ["Merino"]},
    )
    steps = list(relax(filters))
    assert [note for _, note in steps] == [
        "in stock",
        "price widened by 20% (now under $180)",
        "material (Merino)",
        "colour (Slate Blue)",
        "brand (Alder)",
        "gender (men)",
        "price (under $150)",
        "size (M)",
        "category (Jackets)",
    ]
    assert steps[1][0].price_max == Decimal("180.00") and steps[1][0].in_stock is None
    assert steps[-1][0] == Filters()
    assert filters.in_stock is True and filters.sizes == ["M"]  # the original is untouched


def test_relax_skips_what_was_not_asked_and_widens_both_bounds() -> None:
    steps = list(relax(Filters(price_min=Decimal("50"), price_max=Decimal("80"), sizes=["10"])))
    assert [note for _, note in steps] == ["price widened by 20% (now 40–96)", "price (50–80)", "size (10)"]
    assert (steps[0][0].price_min, steps[0][0].price_max) == (Decimal("40.00"), Decimal("96.00"))
    assert list(relax(Filters())) == []


def test_relaxing_finds_the_sold_out_medium() -> None:
    filters = parse_query("moss jacket in medium in stock", VOCAB).filters
    assert not [p for p in CATALOG if filters.match(p)]
    relaxed, note = next((f, n) for f, n in relax(filters) if any(f.match(p) for p in CATALOG))
    assert note == "in stock"
    assert [p.id for p in CATALOG if relaxed.match(p)] == ["rain-1"]


def test_a_size_nobody_stocks_is_relaxed_after_the_budget() -> None:
    filters = parse_query("blue jacket size 13 under $100", VOCAB).filters
    notes = []
    for relaxed, note in relax(filters):
        notes.append(note)
        if any(relaxed.match(p) for p in CATALOG):
            break
    assert notes == ["price widened by 20% (now under $120)", "colour (Slate Blue)", "price (under $100)", "size (13)"]


# API parameters -----------------------------------------------------------------------------------------------


def test_from_params() -> None:
    params = {"price_max": "150", "color": "blue", "size": "M", "brand": "Alder", "category": "Tents",
              "in_stock": "true", "attr.material": "merino,wool", "q": "ignored", "limit": "10"}  # fmt: skip
    filters = Filters.from_params(params)
    assert filters.to_dict() == {
        "price_max": "150.00", "colors": ["blue"], "sizes": ["M"], "brands": ["Alder"], "categories": ["Tents"],
        "in_stock": True, "attributes": {"material": ["merino", "wool"]},
    }  # fmt: skip
    resolved = Filters.from_params({"color": ["blue", "green"], "size": "medium", "brand": "ridgeline"}, VOCAB)
    assert (resolved.colors, resolved.sizes, resolved.brands) == (["Slate Blue", "Moss"], ["M"], ["Ridgeline"])


def test_from_params_reads_a_multidict() -> None:
    from werkzeug.datastructures import MultiDict

    filters = Filters.from_params(MultiDict([("color", "Moss"), ("color", "Black"), ("in_stock", "0")]))
    assert filters.colors == ["Moss", "Black"] and filters.in_stock is False


@pytest.mark.parametrize(
    ("params", "message", "fix"),
    [
        ({"price_max": "abc"}, "price_max 'abc' is not a number", "Send e.g. price_max=150."),
        ({"price_min": "NaN"}, "price_min 'NaN' is not a number", "Send e.g. price_min=150."),
        ({"price_min": "-5"}, "price_min '-5' is negative", "Send a price of 0 or more, e.g. price_min=150."),
        ({"price_min": "200", "price_max": "100"}, "price_min 200 is above price_max 100",
         "Send the lower bound as price_min and the upper as price_max."),
        ({"in_stock": "maybe"}, "in_stock 'maybe' is not true or false", "Send in_stock=true or in_stock=false."),
        ({"gender": "robots"}, "gender 'robots' is not a gender storebot knows",
         "Send one of: women, men, kids, unisex."),
    ],
)  # fmt: skip
def test_from_params_validation(params: dict[str, str], message: str, fix: str) -> None:
    with pytest.raises(StorebotError) as caught:
        Filters.from_params(params)
    assert caught.value.message == message
    assert caught.value.fix == fix
    assert caught.value.status == 400


def test_explicit_params_override_parsed_filters() -> None:
    parsed = parse_query("blue jacket under $150 in medium", VOCAB).filters
    explicit = Filters.from_params({"size": "L", "price_min": "100", "in_stock": "true"})
    merged = parsed.merge(explicit)
    assert merged.to_dict() == {
        "price_min": "100.00", "price_max": "150.00", "currency": "USD", "colors": ["Slate Blue"], "sizes": ["L"],
        "categories": ["Jackets"], "in_stock": True,
    }  # fmt: skip
    # An explicit bound that contradicts a parsed one wins alone.
    assert parsed.merge(Filters(price_min=Decimal("200"))).to_dict()["price_min"] == "200.00"
    assert "price_max" not in parsed.merge(Filters(price_min=Decimal("200"))).to_dict()
    assert parsed.sizes == ["M"]  # merge returns a new Filters


def test_filters_round_trip_through_json() -> None:
    filters = Filters(
        price_min=Decimal("80.00"),
        price_max=Decimal("120.00"),
        currency="USD",
        colors=["Slate Blue"],
        sizes=["M"],
        brands=["Alder"],
        categories=["Jackets"],
        gender=["women"],
        in_stock=True,
        attributes={"material": ["Merino"]},
    )
    data = json.loads(json.dumps(filters.to_dict()))
    assert Filters.from_dict(data) == filters
    assert Filters.from_dict({}) == Filters()
    parsed = parse_query("in-stock down jackets for women over 100 dollars", VOCAB)
    assert json.loads(json.dumps(parsed.to_dict()))["filters"]["price_min"] == "100.00"
