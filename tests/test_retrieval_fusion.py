"""Hybrid fusion: signals combine, single-signal hits survive, filters apply and ties are stable."""

from __future__ import annotations

import numpy as np
import pytest

from storebot.retrieval.fusion import FusionConfig, HybridRanker, RankedHit, fuse
from storebot.retrieval.keyword import BM25Index

QUERY = np.zeros(4, dtype=np.float32)


def keyword_index() -> BM25Index:
    index = BM25Index()
    index.add("shell", {"title": "Rain shell jacket", "description": "Waterproof and light."})
    index.add("parka", {"title": "Down parka", "description": "A warm jacket for winter."})
    index.add("boots", {"title": "Hiking boots", "description": "Leather, waterproof."})
    index.add("poncho", {"title": "Poncho", "description": "Keeps the wet out."})
    return index


def fixed(hits: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
    """A vector searcher that always returns ``hits`` (cosines), cut to k."""
    return lambda vector, k: hits[:k]


def test_signals_combine_and_vector_only_hit_appears() -> None:
    # "poncho" shares no word with the query; only the vector signal finds it.
    vectors = {"text": fixed([("shell", 0.80), ("poncho", 0.75), ("parka", 0.40)])}
    hits = HybridRanker(keyword_index(), vectors).rank("rain jacket", QUERY, k=10)
    assert [h.id for h in hits][0] == "shell"  # first for both signals
    assert "poncho" in [h.id for h in hits]
    assert all(isinstance(h, RankedHit) for h in hits)
    shell = hits[0]
    assert set(shell.signals) == {"keyword", "text"}
    assert shell.signals["text"] == pytest.approx(0.80)
    poncho = next(h for h in hits if h.id == "poncho")
    assert poncho.signals["keyword"] == 0.0  # scored exactly, not imputed


def test_keyword_only_hit_appears_with_floor_vector_score() -> None:
    vectors = {"text": fixed([("shell", 0.80), ("parka", 0.40)])}
    hits = HybridRanker(keyword_index(), vectors).rank("waterproof", QUERY, k=10)
    boots = next(h for h in hits if h.id == "boots")
    assert boots.signals["text"] == pytest.approx(0.40)  # the lowest cosine the signal listed


def test_weights_decide_between_signals() -> None:
    vectors = {"text": fixed([("poncho", 0.9), ("parka", 0.5), ("shell", 0.1)])}
    keyword_heavy = FusionConfig(weights={"keyword": 5.0, "text": 1.0})
    vector_heavy = FusionConfig(weights={"keyword": 0.1, "text": 1.0})
    index = keyword_index()
    assert HybridRanker(index, vectors, keyword_heavy).rank("rain jacket", QUERY, k=1)[0].id == "shell"
    assert HybridRanker(index, vectors, vector_heavy).rank("rain jacket", QUERY, k=1)[0].id == "poncho"


def test_zero_weight_signal_is_not_queried() -> None:
    calls: list[int] = []

    def search(vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        calls.append(k)
        return [("poncho", 0.9)]

    config = FusionConfig(weights={"keyword": 1.0, "title": 0.0})
    hits = HybridRanker(keyword_index(), {"title": search}, config).rank("parka", QUERY, k=5)
    assert calls == []
    assert [h.id for h in hits] == ["parka"]


def test_allowed_filters_every_signal() -> None:
    vectors = {"text": fixed([("poncho", 0.9), ("shell", 0.8)])}
    ranker = HybridRanker(keyword_index(), vectors)
    hits = ranker.rank("rain jacket", QUERY, k=10, allowed=lambda i: i not in {"shell", "poncho"})
    assert [h.id for h in hits] == ["parka"]


def test_per_field_query_vectors() -> None:
    seen: dict[str, float] = {}

    def searcher(name: str):  # type: ignore[no-untyped-def]
        def search(vector: np.ndarray, k: int) -> list[tuple[str, float]]:
            seen[name] = float(vector[0])
            return [("poncho", 0.5)]

        return search

    ranker = HybridRanker(keyword_index(), {"text": searcher("text"), "title": searcher("title")})
    ranker.rank("poncho", {"text": np.ones(4), "title": np.full(4, 2.0)}, k=3)
    assert seen == {"text": 1.0, "title": 2.0}


@pytest.mark.parametrize("method", ["weighted", "rrf"])
def test_ties_are_stable(method: str) -> None:
    lists = {"a": [("x", 1.0), ("y", 1.0)], "b": [("y", 1.0), ("x", 1.0)]}
    config = FusionConfig(method=method, weights={"a": 1.0, "b": 1.0})  # type: ignore[arg-type]
    assert [h.id for h in fuse(lists, config)] == ["x", "y"]


def test_rrf_matches_formula() -> None:
    lists = {"keyword": [("a", 9.0), ("b", 5.0)], "text": [("b", 0.9)]}
    hits = fuse(lists, FusionConfig(method="rrf", weights={}, rrf_k=60))
    assert [h.id for h in hits] == ["b", "a"]
    assert hits[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert hits[1].score == pytest.approx(1 / 61)


@pytest.mark.parametrize("normalization", ["minmax", "zscore", "max", "none"])
def test_normalisations_rank_a_clear_winner_first(normalization: str) -> None:
    lists = {"keyword": [("a", 10.0), ("b", 2.0), ("c", 1.0)], "text": [("a", 0.9), ("c", 0.5), ("b", 0.4)]}
    config = FusionConfig(normalization=normalization)  # type: ignore[arg-type]
    assert fuse(lists, config)[0].id == "a"


def test_empty_inputs() -> None:
    assert fuse({}, FusionConfig()) == []
    assert HybridRanker(BM25Index(), {"text": fixed([])}).rank("anything", QUERY, k=5) == []


def test_allowed_goes_to_a_searcher_that_filters() -> None:
    seen: list[object] = []

    def search(vector: np.ndarray, k: int, filter=None):  # type: ignore[no-untyped-def]  # noqa: A002
        seen.append(filter)
        hits = [("poncho", 0.9), ("parka", 0.5)]
        return [h for h in hits if filter is None or filter(h[0])][:k]

    def allowed(doc_id: str) -> bool:
        return doc_id != "poncho"

    hits = HybridRanker(keyword_index(), {"text": search}).rank("warm", QUERY, k=5, allowed=allowed)
    assert seen == [allowed]
    assert "poncho" not in [h.id for h in hits]
