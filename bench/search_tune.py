"""Grid searches behind storebot's retrieval defaults, run by ``bench/search.py --tune``.

Every grid is ranked on the dev queries only; the held-out column is printed
beside it so over-fitting shows, but no choice reads it. The defaults baked
into ``BM25Config`` and ``FusionConfig`` are round values from the flat top of
these grids rather than the single best cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
from common import SearchData, ndcg_at_k

from storebot.retrieval.fusion import KEYWORD, FusionConfig, VectorSearch, fuse
from storebot.retrieval.keyword import BM25Config, BM25Index, FieldSpec

MAX_DEPTH = 200


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _print_top(title: str, rows: list[tuple[float, float, str]], marker: str, top: int = 12) -> None:
    rows.sort(key=lambda r: -r[0])
    print(f"\n{title}: {len(rows)} settings, best {top} by dev")
    print(f"{'dev':>7s} {'heldout':>7s}  setting")
    for dev, held, label in rows[:top]:
        print(f"{dev:7.4f} {held:7.4f}  {label}")
    for rank, (dev, held, label) in enumerate(rows, start=1):
        if label == marker:
            print(f"default is #{rank}: dev {dev:.4f} heldout {held:.4f}  {label}")


def tune_bm25(data: SearchData, pids: Sequence[str], dev: Sequence[str], held: Sequence[str]) -> None:
    """BM25F field weights, b per field, k1 and the title-bigram weight, keyword-only nDCG@10."""
    index = BM25Index(BM25Config())
    for pid in pids:
        index.add(pid, {"title": data.titles[pid], "description": data.descriptions[pid]})

    def score(qids: Sequence[str]) -> float:
        return _mean([ndcg_at_k([i for i, _ in index.search(data.queries[q], 10)], data.qrels[q]) for q in qids])

    default = BM25Config()
    marker = ""
    rows: list[tuple[float, float, str]] = []
    grid = itertools.product([2.0, 3.0, 5.0, 8.0], [0.3, 0.6, 0.9], [0.5, 0.75, 0.9], [0.9, 1.2, 1.6], [0.0, 0.3, 0.6])
    for title_w, title_b, desc_b, k1, bigram in grid:
        index.config.fields = {"title": FieldSpec(title_w, title_b), "description": FieldSpec(1.0, desc_b)}
        index.config.k1, index.config.bigram_weight = k1, bigram
        label = f"title w={title_w:g} b={title_b:g}; description w=1 b={desc_b:g}; k1={k1:g}; bigram={bigram:g}"
        if (FieldSpec(title_w, title_b), FieldSpec(1.0, desc_b), k1, bigram) == (
            default.fields["title"], default.fields["description"], default.k1, default.bigram_weight
        ):  # fmt: skip
            marker = label
        rows.append((score(dev), score(held), label))
    _print_top("BM25F grid (keyword only)", rows, marker)


def _fusion_grid() -> list[tuple[str, FusionConfig]]:
    grid: list[tuple[str, FusionConfig]] = []
    for depth in (50, 100, 200):
        for rrf_k in (10.0, 30.0, 60.0):
            for title in (0.0, 0.5, 1.0):
                weights = {KEYWORD: 1.0, "text": 1.0, "title": title}
                grid.append((f"rrf k={rrf_k:g} title={title:g} depth={depth}",
                             FusionConfig(method="rrf", weights=weights, rrf_k=rrf_k, depth=depth)))  # fmt: skip
        for norm in ("max", "minmax", "zscore"):
            for kw, title in itertools.product((0.5, 0.7, 1.0, 1.5, 2.0), (0.0, 0.25, 0.5, 1.0)):
                weights = {KEYWORD: kw, "text": 1.0, "title": title}
                grid.append((f"weighted {norm} keyword={kw:g} text=1 title={title:g} depth={depth}",
                             FusionConfig(normalization=norm, weights=weights, depth=depth)))  # fmt: skip
    return grid


def tune_fusion(
    data: SearchData,
    pids: Sequence[str],
    dev: Sequence[str],
    held: Sequence[str],
    searchers: Mapping[str, VectorSearch],
    query_vectors: Mapping[str, np.ndarray],
) -> None:
    """Fusion method, normalisation, weights and depth over the default BM25F and both vector fields."""
    index = BM25Index(BM25Config())
    for pid in pids:
        index.add(pid, {"title": data.titles[pid], "description": data.descriptions[pid]})
    cached: dict[str, tuple[dict[str, list[tuple[str, float]]], dict[str, dict[str, float]]]] = {}
    for q in [*dev, *held]:
        lists = {KEYWORD: index.search(data.queries[q], MAX_DEPTH)}
        lists.update({name: search(query_vectors[q], MAX_DEPTH) for name, search in searchers.items()})
        union = {i for hits in lists.values() for i, _ in hits}
        cached[q] = lists, {KEYWORD: index.score_ids(data.queries[q], union)}

    def score(config: FusionConfig, qids: Sequence[str]) -> float:
        out = []
        for q in qids:
            lists, exact = cached[q]
            cut = {name: hits[: config.depth] for name, hits in lists.items() if config.weight(name) != 0}
            out.append(ndcg_at_k([h.id for h in fuse(cut, config, exact)[:10]], data.qrels[q]))
        return _mean(out)

    default = FusionConfig()
    marker = ""
    rows: list[tuple[float, float, str]] = []
    for label, config in _fusion_grid():
        if config == default:
            marker = label
        rows.append((score(config, dev), score(config, held), label))
    _print_top("fusion grid (hybrid)", rows, marker, top=20)


def tune(
    data: SearchData,
    pids: Sequence[str],
    dev: Sequence[str],
    held: Sequence[str],
    searchers: Mapping[str, VectorSearch],
    query_vectors: Mapping[str, np.ndarray],
) -> None:
    """Both grids, BM25F first (keyword only), then fusion on top of the default BM25F."""
    tune_bm25(data, pids, dev, held)
    tune_fusion(data, pids, dev, held, searchers, query_vectors)


def ablations(
    data: SearchData,
    pids: Sequence[str],
    dev: Sequence[str],
    held: Sequence[str],
    searchers: Mapping[str, VectorSearch],
    query_vectors: Mapping[str, np.ndarray],
) -> list[tuple[str, float, float, float]]:
    """What each step of storebot's defaults is worth: one change at a time, as (label, dev, held-out, all)."""
    from storebot.retrieval.fusion import HybridRanker

    def keyword_index(config: BM25Config) -> BM25Index:
        index = BM25Index(config)
        for pid in pids:
            index.add(pid, {"title": data.titles[pid], "description": data.descriptions[pid]})
        return index

    def single_field(stemming: bool) -> BM25Index:
        index = BM25Index(BM25Config(fields={}, bigram_fields=(), stemming=stemming))
        for pid in pids:
            index.add(pid, {"text": data.titles[pid] + "\n" + data.descriptions[pid]})
        return index

    default_kw = keyword_index(BM25Config())
    text_only = {KEYWORD: 1.0, "text": 1.0, "title": 0.0}
    title_only = {KEYWORD: 1.0, "text": 0.0, "title": 1.0}
    steps: list[tuple[str, BM25Index, FusionConfig | None]] = [
        ("keyword: one field, no stemming", single_field(False), None),
        ("keyword: one field, plural stemming", single_field(True), None),
        ("keyword: BM25F title/description, no bigrams", keyword_index(BM25Config(bigram_weight=0.0)), None),
        ("keyword: BM25F + title bigrams (default)", default_kw, None),
        ("hybrid: RRF k=60, keyword + text", default_kw, FusionConfig(method="rrf", weights={"title": 0.0})),
        ("hybrid: weighted max, keyword + text", default_kw, FusionConfig(weights=text_only)),
        ("hybrid: weighted max, keyword + title vector", default_kw, FusionConfig(weights=title_only)),
        ("hybrid: default but no title bigrams", keyword_index(BM25Config(bigram_weight=0.0)), FusionConfig()),
        ("hybrid: default but minmax", default_kw, FusionConfig(normalization="minmax")),
        ("hybrid: default but zscore", default_kw, FusionConfig(normalization="zscore")),
        ("hybrid: default but depth 200", default_kw, FusionConfig(depth=200)),
        ("hybrid: storebot default", default_kw, FusionConfig()),
    ]  # fmt: skip
    rows = []
    for label, index, config in steps:
        if config is None:

            def run(q: str, index: BM25Index = index) -> list[str]:
                return [i for i, _ in index.search(data.queries[q], 10)]
        else:
            ranker = HybridRanker(index, searchers, config)

            def run(q: str, ranker: HybridRanker = ranker) -> list[str]:
                return [h.id for h in ranker.rank(data.queries[q], query_vectors[q], 10)]

        scores = {q: ndcg_at_k(run(q), data.qrels[q]) for q in [*dev, *held]}
        rows.append(
            (label, _mean([scores[q] for q in dev]), _mean([scores[q] for q in held]), _mean(list(scores.values())))
        )
    return rows
