"""Search reads a catalog's own words the way a shopper means them.

- A yes/no spec (``insulated: no``) is a feature the product lacks: "insulated bottles" must not rank a bottle
  that says it is not insulated among the insulated ones, and "non-insulated" asks for exactly those.
- A product whose title names it as a jacket is one of the store's jackets, wherever the feed filed it.
- Indexes written before these rules (an older format) are rebuilt when loaded, not served stale.

Real Redis, the real MiniLM and the real index; a small hand-written catalog.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from storebot.catalog.models import Product
from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.retrieval import index as index_module
from storebot.retrieval.documents import contradicts, product_fields, product_text
from storebot.retrieval.indexer import LiveIndexes, update_index
from storebot.retrieval.search import close_matches, search_products
from storebot.services import Services


def _bottle(pid: str, title: str, insulated: str, dishwasher: str) -> dict[str, object]:
    return {"id": pid, "title": title, "brand": "Cairn", "category": ["Gear", "Water Bottles"], "price": "25.00",
            "description": "A 750 ml water bottle for the trail, the gym and the office.",
            "attributes": {"insulated": insulated, "dishwasher_safe": dishwasher}}  # fmt: skip


PRODUCTS = [
    # The non-insulated bottle names "water bottle" in its title, so on words alone it outranks the others.
    _bottle("tritan", "Trail Tritan Water Bottle", "no", "yes"),
    _bottle("keeper", "Keeper Insulated Bottle", "yes", "lid only"),
    _bottle("tumbler", "Trailside Insulated Tumbler", "yes", "no"),
    _bottle("flask", "Squeeze Soft Flask", "no", "no"),
    # Sold out: however well it matches, what can be bought now comes first.
    {**_bottle("frost", "Frost Insulated Water Bottle", "yes", "no"), "stock": 0},
    {"id": "softshell", "title": "Windward Softshell Jacket", "brand": "Alder", "price": "149.00",
     "category": ["Apparel", "Fleece & Midlayers"], "description": "A stretchy, wind-resistant softshell."},
    {"id": "rain", "title": "Ridge Shell Rain Jacket", "brand": "Alder", "price": "139.00",
     "category": ["Apparel", "Jackets", "Rain Jackets"], "description": "A shell for wet hikes.",
     "attributes": {"waterproof_rating": "20,000 mm", "packable": "yes, stuffs into its own pocket"}},
    {"id": "vest", "title": "Flurry Down Vest", "brand": "Alder", "price": "66.95",
     "category": ["Apparel", "Jackets", "Insulated Jackets"], "description": "A warm vest for cold mornings.",
     "attributes": {"water_resistance": "water-resistant, not waterproof"}},
    {"id": "fleece", "title": "Hearthside Fleece Pullover", "brand": "Alder", "price": "79.00",
     "category": ["Apparel", "Fleece & Midlayers"], "description": "A warm grid fleece midlayer."},
]  # fmt: skip


@pytest.fixture
def indexed(services: Services, store: tuple[str, str]) -> str:
    store_id = store[0]
    feed = io.BytesIO("".join(json.dumps(p) + "\n" for p in PRODUCTS).encode())
    result = sync_feed(services.redis, services.keys(store_id), feed, SyncOptions(fmt="jsonl", kind="products"))
    assert not result.errors, result.errors
    update_index(services.redis, services.keys(store_id), services.index_root, services.embedder)
    return store_id


def _ids(services: Services, store_id: str, query: str) -> list[str]:
    result = search_products(services.indexes, services.catalog(store_id), store_id, query, limit=10)
    return [hit.product.id for hit in result.hits]


def test_a_yes_no_spec_reads_as_the_feature_or_its_absence() -> None:
    tritan = Product(id="t", title="Trail Tritan Water Bottle", attributes={"insulated": "no", "bpa_free": "yes"})
    assert "not insulated" in product_text(tritan) and "bpa free" in product_text(tritan)
    assert "insulated: no" not in product_text(tritan)
    keywords = product_fields(tritan)["attributes"]
    assert "insulated" not in keywords and "bpa free" in keywords  # BM25 has no "not": the word is left out
    assert contradicts(tritan, "insulated water bottle") and not contradicts(tritan, "non-insulated bottle")
    assert not contradicts(tritan, "bottle without insulated walls")
    assert not contradicts(tritan, "water bottle"), "a search that does not name the feature is not contradicted"
    keeper = Product(id="k", title="Keeper", attributes={"insulated": "yes", "dishwasher_safe": "lid only"})
    assert contradicts(keeper, "non insulated bottle") and not contradicts(keeper, "insulated bottle")
    assert not contradicts(keeper, "dishwasher safe bottle"), "only yes and no are read as a feature's answer"


def test_insulated_bottles_rank_the_bottles_that_say_insulated_no_last(services: Services, indexed: str) -> None:
    ranked = _ids(services, indexed, "insulated water bottles")
    assert set(ranked[:2]) == {"keeper", "tumbler"}, ranked
    assert ranked.index("tritan") > 1 and ranked.index("flask") > 1, ranked


def test_sold_out_products_come_after_those_that_can_be_bought(services: Services, indexed: str) -> None:
    ranked = _ids(services, indexed, "insulated water bottles")
    assert ranked[:3] == [*ranked[:2], "frost"] and set(ranked[:2]) == {"keeper", "tumbler"}, ranked
    cheapest = search_products(services.indexes, services.catalog(indexed), indexed, "cheapest insulated bottle")
    assert [h.product.id for h in cheapest.hits][-1] != "frost" or len(cheapest.hits) == 1
    assert [h.product.id for h in cheapest.hits].index("frost") == 2, "sold out goes after, even sorted by price"


def test_non_insulated_bottles_rank_the_insulated_ones_last(services: Services, indexed: str) -> None:
    ranked = _ids(services, indexed, "non-insulated bottle")
    assert set(ranked[:2]) == {"tritan", "flask"}, ranked


def test_a_feature_after_not_is_read_as_an_absence(services: Services, indexed: str) -> None:
    ranked = _ids(services, indexed, "a bottle that is not dishwasher safe")
    bottles = [i for i in ranked if i in {"tritan", "keeper", "tumbler", "flask", "frost"}]
    assert bottles[-1] == "tritan", ranked


def test_softshell_jackets_finds_the_jacket_filed_under_fleece(services: Services, indexed: str) -> None:
    result = search_products(services.indexes, services.catalog(indexed), indexed, "softshell jackets", limit=5)
    assert result.parsed.filters.categories == ["Jackets"]
    ids = [hit.product.id for hit in result.hits]
    assert ids[0] == "softshell", ids
    assert "fleece" not in ids, "a fleece pullover is not a jacket: the category filter still applies"
    assert result.hits[0].matched.get("category") == "Jackets"


def test_an_index_of_an_older_format_is_rebuilt_when_loaded(
    services: Services, indexed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_version = services.indexes.get(indexed).version  # type: ignore[union-attr]
    manifest_path = Path(services.index_root) / indexed / f"v{repo_version}" / index_module.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = index_module.FORMAT_VERSION - 1
    manifest_path.write_text(json.dumps(manifest))
    fresh = LiveIndexes(services.redis, services.prefix, services.index_root, services.embedder)
    loaded = fresh.get(indexed)
    assert loaded is not None and loaded.version == repo_version + 1, "the stale index is rebuilt and republished"
    rebuilt = json.loads(
        (Path(services.index_root) / indexed / f"v{loaded.version}" / index_module.MANIFEST).read_text()
    )
    assert rebuilt["format"] == index_module.FORMAT_VERSION


def test_chat_cards_keep_only_the_close_matches(services: Services, indexed: str) -> None:
    def cards(query: str) -> list[str]:
        result = search_products(services.indexes, services.catalog(indexed), indexed, query, limit=4)
        assert len(result.hits) > 1, query
        return [hit.product.id for hit in close_matches(result)]

    assert cards("softshell jackets") == ["softshell"], "the rain jacket is a much weaker match: no card"
    bottles = cards("insulated water bottles")
    assert sorted(bottles[:2]) == ["keeper", "tumbler"] and bottles[2:] in ([], ["frost"]), bottles
    assert sorted(cards("non-insulated bottles")) == ["flask", "tritan"]
    cheapest = search_products(
        services.indexes, services.catalog(indexed), indexed, "cheapest softshell jackets", limit=4
    )
    assert cheapest.parsed.sort == "price_asc"
    assert [h.product.id for h in close_matches(cheapest)] == ["vest", "rain", "softshell"], (
        "with an order asked for, the weaker match stays: the cheapest may be one of them"
    )


def test_yes_with_a_detail_and_not_x_in_any_spec_are_read_as_features() -> None:
    shell = Product(id="s", title="Shell", attributes={"packable": "yes, stuffs into its own pocket", "hood": "no"})
    assert "packable (stuffs into its own pocket)" in product_text(shell) and "not hood" in product_text(shell)
    vest = Product(id="v", title="Vest", attributes={"water_resistance": "water-resistant, not waterproof"})
    assert contradicts(vest, "waterproof jacket") and not contradicts(vest, "warm vest")


def test_sorted_by_price_the_products_stating_the_feature_come_first(services: Services, indexed: str) -> None:
    result = search_products(services.indexes, services.catalog(indexed), indexed, "cheapest waterproof jacket")
    ids = [hit.product.id for hit in result.hits]
    assert result.parsed.sort == "price_asc" and ids[0] == "rain", ids  # the only one stating it: its rating
    assert ids[-1] == "vest", "the cheapest, but 'not waterproof': last"
