"""BM25F keyword index: tokenizer, field weights, incremental updates, filters and saving."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from storebot.retrieval.keyword import BM25Config, BM25Index, FieldSpec
from storebot.retrieval.tokenize import stem, tokenize


def make_index(**config: object) -> BM25Index:
    index = BM25Index(BM25Config(**config))  # type: ignore[arg-type]
    index.add("tent", {"title": "Two-person backpacking tent", "description": "Light, with a rain fly."})
    index.add("fly", {"title": "Tent footprint", "description": "Protects the floor of your tent from rocks."})
    index.add("boots", {"title": "Leather hiking boots", "description": "Waterproof boots for long trails."})
    index.add("jacket", {"title": "Rain jacket", "description": "A 10,000mm waterproof shell for hiking."})
    return index


def ids(hits: list[tuple[str, float]]) -> list[str]:
    return [doc_id for doc_id, _ in hits]


def test_tokenizer_normalises_and_keeps_numbers() -> None:
    assert tokenize("Crème BRÛLÉE torches") == ["creme", "brulee", "torch"]
    assert tokenize("10,000mm") == ["10000mm", "10000", "mm"]
    assert tokenize("32 GB") == ["32", "gb"]
    assert set(tokenize("32 GB")) <= set(tokenize("32GB"))
    assert tokenize("Men's") == ["men"]
    assert tokenize("T-shirt") == ["t", "shirt", "tshirt"]
    assert "tshirt" in tokenize("tshirts")
    assert tokenize("1.5 qt") == ["1.5", "qt"]
    unstemmed = ["batteries", "boxes", "boots", "glass", "bus"]
    assert tokenize("batteries boxes boots glass bus", stemming=False) == unstemmed


@pytest.mark.parametrize(
    ("word", "expected"),
    [("batteries", "battery"), ("boxes", "box"), ("boots", "boot"), ("glass", "glass"), ("bus", "bus"),
     ("dress", "dress"), ("dresses", "dress"), ("toys", "toys"), ("gps", "gps")],
)  # fmt: skip
def test_stemmer_folds_plurals_only(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_title_match_outranks_description_match() -> None:
    index = make_index()
    # "tent" is in the title of both "tent" and "fly"; "rain" is in the title of "jacket" only.
    hits = index.search("rain", k=5)
    assert ids(hits) == ["jacket", "tent"]
    assert hits[0][1] > hits[1][1]


def test_field_weights_change_the_order() -> None:
    index = make_index(fields={"title": FieldSpec(0.1, 0.5), "description": FieldSpec(5.0, 0.5)})
    assert ids(index.search("rain", k=5)) == ["tent", "jacket"]


def test_plural_query_matches_singular_and_bigram_rewards_phrase() -> None:
    index = make_index()
    assert set(ids(index.search("tents", k=5))) == {"tent", "fly"}
    index.add("shell", {"title": "Jacket shell for rain", "description": ""})
    # Both titles hold "rain" and "jacket"; only one holds them as the phrase.
    assert ids(index.search("rain jacket", k=2)) == ["jacket", "shell"]


def test_remove_and_idf_follow_live_documents() -> None:
    index = make_index()
    before = index.score_ids("waterproof", ["boots"])["boots"]
    index.remove("jacket")
    assert "jacket" not in index
    assert len(index) == 3
    assert "jacket" not in ids(index.search("rain jacket", k=10))
    # "waterproof" is now rarer (1 of 3 docs rather than 2 of 4), so it weighs more.
    assert index.score_ids("waterproof", ["boots"])["boots"] > before
    index.remove("jacket")  # unknown ids are a no-op
    index.add("boots", {"title": "Trail runners", "description": ""})  # re-adding replaces
    assert ids(index.search("boots", k=5)) == []
    assert ids(index.search("trail runner", k=5)) == ["boots"]


def test_idf_matches_bm25_formula() -> None:
    index = BM25Index(BM25Config(fields={"title": FieldSpec(1.0, 0.0)}, bigram_fields=()))
    index.add("a", {"title": "red"})
    index.add("b", {"title": "blue"})
    index.add("c", {"title": "blue"})
    # One field, b=0, tf=1: score = idf * (k1 + 1) / (k1 + 1) = idf.
    assert index.search("red", 1)[0][1] == pytest.approx(math.log(1 + (3 - 1 + 0.5) / 1.5), rel=1e-5)


def test_allowed_filter_and_k() -> None:
    index = make_index()
    assert ids(index.search("hiking", k=5, allowed=lambda i: i != "boots")) == ["jacket"]
    assert len(index.search("tent", k=1)) == 1
    assert index.search("tent", k=0) == []
    assert index.search("nothing matches this", k=5) == []


def test_ties_keep_insertion_order() -> None:
    index = BM25Index()
    for name in ["c", "a", "b"]:
        index.add(name, {"title": "same words"})
    assert ids(index.search("same", k=3)) == ["c", "a", "b"]


def test_unknown_fields_are_indexed_with_default_spec() -> None:
    index = BM25Index()
    index.add("x", {"title": "Mug", "material": "stoneware"})
    assert ids(index.search("stoneware", k=1)) == ["x"]


def test_compaction_after_many_removals_keeps_results() -> None:
    index = BM25Index()
    for i in range(1500):
        index.add(f"p{i}", {"title": f"item {i} {'red' if i % 2 else 'blue'}"})
    for i in range(0, 1500, 3):
        index.remove(f"p{i}")
    for i in range(1, 1500, 3):
        index.remove(f"p{i}")
    assert len(index) == 500
    assert ids(index.search("item 2", k=1)) == ["p2"]
    assert all(int(doc_id[1:]) % 3 == 2 for doc_id in ids(index.search("red", k=600)))


def test_state_round_trip(tmp_path: Path) -> None:
    index = make_index()
    index.remove("fly")
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    for query in ["rain jacket", "tent", "waterproof boots", "10,000mm"]:
        expected = index.search(query, 5)
        got = loaded.search(query, 5)
        assert ids(got) == ids(expected)
        assert [s for _, s in got] == pytest.approx([s for _, s in expected])
    assert loaded.config == index.config
    loaded.add("fly", {"title": "Tent footprint"})
    assert "fly" in ids(loaded.search("tent", 5))
