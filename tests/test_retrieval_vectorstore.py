"""HnswlibVectorStore: LangChain's standard vector store suite, then storebot's own contract."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from storebot.retrieval import vectorindex as vectorindex_module
from storebot.retrieval.hnsw import SIDECAR, metadata_matcher
from storebot.retrieval.vectorstore import HnswlibVectorStore


class TestHnswlibStandard(VectorStoreIntegrationTests):
    """Every standard test, sync and async, on a store built from the suite's 6-d fake embeddings."""

    # The suite's async tests are bare `async def` and pytest-asyncio runs in strict mode, so they need
    # the mark. The suite forbids overriding its tests, so the mark is class-wide, and the warning it
    # causes on the sync tests is silenced here (asyncio_mode = "auto" in pyproject would make both moot).
    pytestmark = [
        pytest.mark.asyncio,
        pytest.mark.filterwarnings("ignore:The test <Function .* is not an async function:pytest.PytestWarning"),
    ]

    @pytest.fixture()
    def vectorstore(self) -> Iterator[VectorStore]:
        # A tiny capacity so the suite also exercises resizing.
        yield HnswlibVectorStore(self.get_embeddings(), initial_capacity=1)


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def embedding() -> DeterministicFakeEmbedding:
    return DeterministicFakeEmbedding(size=17)


@pytest.fixture
def store(embedding: DeterministicFakeEmbedding) -> HnswlibVectorStore:
    return HnswlibVectorStore(embedding, initial_capacity=8)


def catalog(n: int = 300, dim: int = 32) -> tuple[HnswlibVectorStore, np.ndarray]:
    """A store of n products p0..p{n-1}; every 50th is 'rare', colours cycle red/green/blue."""
    vectors = unit_rows(n, dim)
    store = HnswlibVectorStore(DeterministicFakeEmbedding(size=dim), initial_capacity=16)
    metadatas = [{"colour": ("red", "green", "blue")[i % 3], "rare": i % 50 == 0, "tags": ["x", f"t{i % 7}"]}
                 for i in range(n)]  # fmt: skip
    store.add_vectors([f"p{i}" for i in range(n)], vectors, [f"product {i}" for i in range(n)], metadatas)
    return store, vectors


def test_dimension_comes_from_the_embeddings(store: HnswlibVectorStore) -> None:
    assert store.dimension is None
    store.add_texts(["a", "b"])
    assert store.dimension == 17
    with pytest.raises(ValueError, match="17-d"):
        store.add_vectors(["c"], unit_rows(1, 384))


def test_explicit_dimension_builds_the_index_up_front(embedding: DeterministicFakeEmbedding) -> None:
    store = HnswlibVectorStore(embedding, dimension=17)
    assert store.dimension == 17 and store.capacity > 0 and len(store) == 0
    assert store.similarity_search("anything") == []


def test_upsert_replaces_vector_text_and_metadata(store: HnswlibVectorStore) -> None:
    store.add_texts(["red wool scarf", "blue rain shell"], [{"v": 1}, {"v": 1}], ids=["a", "b"])
    store.add_texts(["green tent"], [{"v": 2}], ids=["a"])
    assert len(store) == 2
    assert store.get_by_ids(["a"]) == [Document(id="a", page_content="green tent", metadata={"v": 2})]
    assert store.similarity_search("green tent", k=1)[0].id == "a"
    doc, score = store.similarity_search_with_relevance_scores("green tent", k=1)[0]
    assert doc.id == "a" and score == pytest.approx(1.0, abs=1e-5)


def test_upsert_skips_unchanged_vectors_and_bounds_tombstones() -> None:
    store = HnswlibVectorStore(DeterministicFakeEmbedding(size=8), dimension=8)
    vectors = unit_rows(100, 8)
    ids = [f"p{i}" for i in range(100)]
    store.add_vectors(ids, vectors)
    store.add_vectors(ids, vectors * 3, metadatas=[{"v": 2}] * 100)  # same direction: only metadata changes
    assert store._index.element_count == 100 and store.get_by_ids(["p5"])[0].metadata == {"v": 2}
    for round_ in range(1, 10):  # changed vectors go in fresh until tombstones pass the budget, then reuse slots
        store.add_vectors(ids, unit_rows(100, 8, seed=round_))
        assert len(store) == 100 and store._index.element_count <= 200
    assert store.search_vectors(unit_rows(100, 8, seed=9)[17], k=1)[0][0] == "p17"


def test_repeated_id_in_one_batch_keeps_the_last(store: HnswlibVectorStore) -> None:
    store.add_texts(["first", "second"], ids=["x", "x"])
    assert len(store) == 1 and store.get_by_ids(["x"])[0].page_content == "second"


def test_delete_then_re_add(store: HnswlibVectorStore) -> None:
    store.add_texts(["one", "two", "three"], ids=["1", "2", "3"])
    store.delete(["2", "missing"])
    assert len(store) == 2 and sorted(store.ids()) == ["1", "3"]
    assert "2" not in [d.id for d in store.similarity_search("two", k=3)]
    store.add_texts(["two again"], [{"back": True}], ids=["2"])
    assert len(store) == 3
    assert store.similarity_search("two again", k=1) == [
        Document(id="2", page_content="two again", metadata={"back": True})
    ]
    # The re-added item took the deleted one's slot rather than growing the index.
    assert store._index.element_count == 3


def test_delete_churn_reuses_slots() -> None:
    store = HnswlibVectorStore(DeterministicFakeEmbedding(size=8), dimension=8, initial_capacity=10)
    for round_ in range(20):
        ids = [f"r{round_}-{i}" for i in range(10)]
        store.add_vectors(ids, unit_rows(10, 8, seed=round_))
        store.delete(ids)
    assert len(store) == 0 and store.capacity == 10


def test_resize_beyond_initial_capacity() -> None:
    store = HnswlibVectorStore(DeterministicFakeEmbedding(size=16), initial_capacity=4)
    vectors = unit_rows(1000, 16)
    for start in range(0, 1000, 7):  # many small batches: every resize path, not one big one
        store.add_vectors([f"p{i}" for i in range(start, min(start + 7, 1000))], vectors[start : start + 7])
    assert len(store) == 1000 and store.capacity >= 1000
    assert store.search_vectors(vectors[123], k=1)[0][0] == "p123"


def test_add_vectors_and_search_vectors_with_numpy() -> None:
    store, vectors = catalog(500, 64)
    hits = store.search_vectors(vectors[42], k=10)
    assert hits[0][0] == "p42" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    exact = vectors @ vectors[42]
    assert hits[1][1] == pytest.approx(float(np.sort(exact)[-2]), abs=1e-4)
    # The id filter sees string ids and never lets others through.
    only_even = store.search_vectors(vectors[42], k=10, filter=lambda pid: int(pid[1:]) % 2 == 0)
    assert len(only_even) == 10 and all(int(pid[1:]) % 2 == 0 for pid, _ in only_even)
    assert store.search_vectors(vectors[0], k=1000)[-1][0]  # k above the live count is clamped
    assert len(store.search_vectors(vectors[0], k=1000)) == 500


def test_dict_filter_equality_and_any_of(monkeypatch: pytest.MonkeyPatch) -> None:
    store, vectors = catalog(2000)
    # A third of the catalog matches: that is hnswlib's filtered graph search, not the brute-force fallback.
    monkeypatch.setattr(store, "_exact", lambda *a: pytest.fail("unexpected brute-force fallback"))
    red = store.similarity_search_by_vector(vectors[0].tolist(), k=20, filter={"colour": "red"})
    assert len(red) == 20 and {d.metadata["colour"] for d in red} == {"red"}
    warm = store.similarity_search_by_vector(vectors[1].tolist(), k=30, filter={"colour": ["red", "green"]})
    assert len(warm) == 30 and {d.metadata["colour"] for d in warm} <= {"red", "green"}
    monkeypatch.undo()  # the narrower filters below are meant to take the exact path
    tagged = store.similarity_search_by_vector(vectors[1].tolist(), k=5, filter={"tags": "t3", "colour": "blue"})
    assert tagged and all("t3" in d.metadata["tags"] and d.metadata["colour"] == "blue" for d in tagged)
    assert store.similarity_search_by_vector(vectors[1].tolist(), k=5, filter={"no_such_key": 1}) == []


def test_callable_filter_on_metadata() -> None:
    store, vectors = catalog()
    docs = store.similarity_search_by_vector(vectors[5].tolist(), k=15, filter=lambda m: m["colour"] != "red")
    assert len(docs) == 15 and all(d.metadata["colour"] != "red" for d in docs)


def test_very_selective_filter_still_returns_k() -> None:
    store, vectors = catalog(3000, 32)  # 60 items are rare; the graph search alone would come back short
    docs = store.similarity_search_by_vector(vectors[7].tolist(), k=50, filter={"rare": True})
    assert len(docs) == 50 and all(d.metadata["rare"] for d in docs)
    # It is the exact answer, too.
    rare = np.array([i for i in range(3000) if i % 50 == 0])
    best = rare[np.argsort(-(vectors[rare] @ vectors[7]))[:50]]
    assert [d.id for d in docs] == [f"p{i}" for i in best]
    # Fewer matches than k: all of them, no error.
    assert len(store.similarity_search_by_vector(vectors[7].tolist(), k=100, filter={"rare": True})) == 60


def test_graph_search_coming_back_short_falls_back_to_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    store, vectors = catalog(3000, 32)
    monkeypatch.setattr("storebot.retrieval.vectorindex.few_matches", lambda *a: False)  # the sample "promised plenty"
    fallbacks = []
    real_exact = vectorindex_module.exact_search
    monkeypatch.setattr(vectorindex_module, "exact_search", lambda *a: fallbacks.append(1) or real_exact(*a))
    # 60 items match and 100 are asked for: hnswlib raises, and the exact search returns all 60.
    docs = store.similarity_search_by_vector(vectors[7].tolist(), k=100, filter={"rare": True})
    assert fallbacks and len(docs) == 60 and all(d.metadata["rare"] for d in docs)


def test_filter_must_be_dict_or_callable() -> None:
    with pytest.raises(TypeError):
        metadata_matcher(["colour"])  # type: ignore[arg-type]


def test_mmr_returns_k_distinct() -> None:
    store, vectors = catalog(200, 16)
    docs = store.max_marginal_relevance_search_by_vector(vectors[3].tolist(), k=5, fetch_k=20)
    assert len({d.id for d in docs}) == 5 and docs[0].id == "p3"
    assert store.max_marginal_relevance_search("anything", k=3, filter={"colour": "red"})


def test_from_texts_and_relevance_fn(embedding: DeterministicFakeEmbedding) -> None:
    store = HnswlibVectorStore.from_texts(["a", "b"], embedding, [{"n": 1}, {"n": 2}], ids=["A", "B"], M=8)
    assert store.M == 8 and sorted(store.ids()) == ["A", "B"]
    assert store._select_relevance_score_fn()(0.25) == 0.75


def test_save_load_round_trip(tmp_path: Path) -> None:
    store, vectors = catalog(400, 24)
    store.delete(["p1", "p2"])
    store.save(tmp_path)
    store.add_vectors(["p1"], vectors[1:2])
    store.save(tmp_path)  # a second save replaces the pair and drops the old index file
    assert len(list(tmp_path.glob("*.bin"))) == 1 and not list(tmp_path.glob("*.tmp"))
    loaded = HnswlibVectorStore.load(tmp_path, DeterministicFakeEmbedding(size=24))
    assert len(loaded) == 399 and loaded.dimension == 24 and set(loaded.ids()) == set(store.ids())
    assert loaded.get_by_ids(["p9"]) == store.get_by_ids(["p9"])
    assert loaded.search_vectors(vectors[9], k=5) == store.search_vectors(vectors[9], k=5)
    assert "p2" not in dict(loaded.search_vectors(vectors[2], k=5))
    # The loaded store keeps working: upserts reuse deleted slots and it saves again.
    loaded.add_vectors(["p2", "new"], vectors[2:4])
    assert loaded.search_vectors(vectors[2], k=1)[0][0] == "p2" and len(loaded) == 401
    loaded.save(tmp_path / "again")


def test_save_load_empty_store(tmp_path: Path, embedding: DeterministicFakeEmbedding) -> None:
    HnswlibVectorStore(embedding).save(tmp_path)
    loaded = HnswlibVectorStore.load(tmp_path, embedding)
    assert len(loaded) == 0 and loaded.similarity_search("x") == []
    loaded.add_texts(["x"], ids=["x"])
    assert loaded.dimension == 17


def _saved(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    store, _ = catalog(100, 12)
    store.save(tmp_path)
    return tmp_path / SIDECAR, json.loads((tmp_path / SIDECAR).read_text())


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda s: {**s, "dimension": 13}, id="dimension"),
        pytest.param(lambda s: {**s, "element_count": 99}, id="count"),
        pytest.param(lambda s: {**s, "items": s["items"] + [["extra", 5000, "", {}]], "next_label": 5001}, id="label"),
        pytest.param(lambda s: {**s, "items": s["items"] + [s["items"][0]]}, id="duplicate"),
        pytest.param(lambda s: {**s, "format": "other/9"}, id="format"),
        pytest.param(lambda s: {k: v for k, v in s.items() if k != "items"}, id="missing-key"),
    ],
)
def test_mismatched_sidecar_raises_value_error(tmp_path: Path, corrupt) -> None:  # type: ignore[no-untyped-def]
    path, state = _saved(tmp_path)
    path.write_text(json.dumps(corrupt(state)))
    with pytest.raises(ValueError, match="rebuild"):
        HnswlibVectorStore.load(tmp_path, DeterministicFakeEmbedding(size=12))


def test_unreadable_files_raise_value_error(tmp_path: Path) -> None:
    path, state = _saved(tmp_path)
    index_file = tmp_path / state["index_file"]
    index_file.write_bytes(index_file.read_bytes()[:1000])  # truncated index
    with pytest.raises(ValueError, match="rebuild"):
        HnswlibVectorStore.load(tmp_path, DeterministicFakeEmbedding(size=12))
    index_file.unlink()
    with pytest.raises(ValueError, match="rebuild"):
        HnswlibVectorStore.load(tmp_path, DeterministicFakeEmbedding(size=12))
    path.write_text("{not json")
    with pytest.raises(ValueError, match="rebuild"):
        HnswlibVectorStore.load(tmp_path, DeterministicFakeEmbedding(size=12))
    with pytest.raises(ValueError, match="rebuild"):
        HnswlibVectorStore.load(tmp_path / "nowhere", DeterministicFakeEmbedding(size=12))


def test_concurrent_reads_and_writes() -> None:
    store, vectors = catalog(500, 16)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for i in range(300):
                assert len(store.search_vectors(vectors[i % 500], k=10)) == 10
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writer() -> None:
        try:
            for i in range(300):
                store.add_vectors([f"w{i}"], vectors[i : i + 1])
                store.delete([f"w{i - 1}"])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(store) == 501
