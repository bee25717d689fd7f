"""Benchmark: product-search relevance (nDCG@10) and latency of keyword, vector and hybrid retrieval.

Protocol (../shared/data/MANIFEST.md): the whole CrowdFlower corpus is indexed
as a store's catalog (title as name, description as description), every
query runs against the full corpus, and nDCG@10 uses gain 2^grade - 1, a
log2 discount and the ideal from each query's judged products (unjudged = 0).

Queries are split 50/50 by a seeded shuffle of their ids: ``dev`` is the only
half any default was tuned on (``--tune`` reruns that search); ``heldout`` was
never looked at while tuning; ``all`` is both. Latency is per query, end to
end: the query embedding, both hnswlib searches, BM25F and fusion.

Corpus embeddings are cached in ``bench/out/embeddings.sqlite`` by text hash,
so only the first run embeds (about 5 minutes on two cores).

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/search.py [--limit-queries N] [--tune]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DEFAULT_DATA,
    OUT,
    SearchData,
    SqliteEmbeddingCache,
    load_search_data,
    ndcg_at_k,
    percentile,
    rss_mb,
    split_queries,
)
from search_tune import ablations, tune  # noqa: E402

from storebot.retrieval.embeddings import DEFAULT_MODEL, SentenceTransformerEmbeddings  # noqa: E402
from storebot.retrieval.fusion import FusionConfig, HybridRanker, VectorSearch  # noqa: E402
from storebot.retrieval.keyword import BM25Config, BM25Index, FieldSpec  # noqa: E402
from storebot.retrieval.query import QUERY_STOP_WORDS  # noqa: E402
from storebot.retrieval.spelling import corrected, typo_fixes, unknown_words  # noqa: E402

# The manifest's BM25 baseline: one field of title + description, k1 1.2, b 0.75, no stemming.
BASELINE_BM25 = BM25Config(fields={}, other=FieldSpec(1.0, 0.75), bigram_fields=(), stemming=False)
UNTUNED = FusionConfig(method="rrf", weights={"keyword": 1.0, "text": 1.0}, rrf_k=60.0)


def product_texts(data: SearchData, pids: Sequence[str]) -> dict[str, list[str]]:
    """What each vector field embeds: the full text (the model cuts it at its window) and the title."""
    return {
        "text": [data.titles[p] + ("\n" + data.descriptions[p] if data.descriptions[p] else "") for p in pids],
        "title": [data.titles[p] for p in pids],
    }


def build_keyword(data: SearchData, pids: Sequence[str], config: BM25Config) -> BM25Index:
    index = BM25Index(config)
    for pid in pids:
        if config.fields:
            index.add(pid, {"title": data.titles[pid], "description": data.descriptions[pid]})
        else:
            index.add(pid, {"text": data.titles[pid] + "\n" + data.descriptions[pid]})
    return index


def hnsw_search(vectors: np.ndarray, pids: Sequence[str], ef: int) -> VectorSearch:
    """An hnswlib index (cosine, M=16, ef_construction=200) behind the ``VectorSearch`` signature."""
    import hnswlib

    index = hnswlib.Index(space="cosine", dim=vectors.shape[1])
    index.init_index(max_elements=len(pids), M=16, ef_construction=200, random_seed=7)
    index.add_items(vectors, np.arange(len(pids)), num_threads=2)
    index.set_num_threads(1)
    names = list(pids)

    def search(vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        index.set_ef(max(ef, k))
        labels, distances = index.knn_query(vector, k=min(k, len(names)))
        return [(names[i], 1.0 - float(d)) for i, d in zip(labels[0], distances[0], strict=True)]

    search.index = index  # type: ignore[attr-defined]
    return search


def adapted_model(data: SearchData, pids: Sequence[str], base: str, seconds: float) -> tuple[str, float]:
    """Adapt ``base`` to the corpus text (no labels) once; later runs reuse the saved model."""
    import torch

    from storebot.retrieval.adaptation import adapt_embedding_model, catalog_pairs

    out = OUT / f"adapted-{seconds:g}s"
    if (out / "config.json").exists():
        print(f"reusing adapted model {out}")
        return str(out), float("nan")
    torch.set_num_threads(2)
    pairs = catalog_pairs([data.titles[p] for p in pids], [data.descriptions[p] for p in pids])
    start = time.perf_counter()
    adapt_embedding_model(pairs, base, out, epochs=1, batch_size=32, max_seconds=seconds)
    took = time.perf_counter() - start
    print(f"adapted {base} on {len(pairs)} title/description pairs in {took:.0f}s -> {out}")
    return str(out), took


def evaluate(run: Callable[[str], list[str]], data: SearchData, qids: Sequence[str]) -> dict[str, float]:
    return {q: ndcg_at_k(run(q), data.qrels[q]) for q in qids}


def summary(scores: Mapping[str, float], dev: set[str], heldout: set[str]) -> tuple[float, float, float]:
    def mean(ids: Sequence[str]) -> float:
        return float(np.mean([scores[q] for q in ids])) if ids else float("nan")

    return mean([q for q in scores if q in dev]), mean([q for q in scores if q in heldout]), mean(list(scores))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the crowdflower folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model name or path (e.g. an adapted one)")
    parser.add_argument("--limit-queries", type=int, default=0, help="run only the first N queries (quick check)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the dev/held-out query split")
    parser.add_argument("--ef", type=int, default=128, help="hnswlib ef at query time (raised to k if lower)")
    parser.add_argument("--latency-passes", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--tune", action="store_true", help="grid-search BM25F and fusion on the dev split")
    parser.add_argument("--ablations", action="store_true", help="also print what each default is worth")
    parser.add_argument("--adapt-seconds", type=float, default=0.0,
                        help="adapt the model to the catalog first (title <-> description, no labels) for this "
                             "long, or reuse bench/out/adapted-<N>s; then benchmark the adapted model")  # fmt: skip
    args = parser.parse_args(argv)

    data = load_search_data(args.data)
    qids = sorted(data.qrels)
    dev_ids, held_ids = split_queries(qids, seed=args.seed)
    dev, heldout = set(dev_ids), set(held_ids)
    if args.limit_queries:
        qids = qids[: args.limit_queries]
    pids = sorted(data.titles)
    print(f"corpus {len(pids)} products, {len(qids)} queries ({len(dev & set(qids))} dev, "
          f"{len(heldout & set(qids))} held-out, split seed {args.seed})")  # fmt: skip

    gc.collect()
    rss0, start = rss_mb(), time.perf_counter()
    keyword = build_keyword(data, pids, BM25Config())
    keyword_s, keyword_mb = time.perf_counter() - start, rss_mb() - rss0
    baseline_keyword = build_keyword(data, pids, BASELINE_BM25)

    adapt_s = float("nan")
    if args.adapt_seconds > 0:
        args.model, adapt_s = adapted_model(data, pids, args.model, args.adapt_seconds)
    embedder = SentenceTransformerEmbeddings(args.model, cache=SqliteEmbeddingCache(OUT / "embeddings.sqlite"))
    start = time.perf_counter()
    texts = product_texts(data, pids)
    vectors = {name: embedder.encode(batch) for name, batch in texts.items()}
    embed_s = time.perf_counter() - start
    print(f"embedded corpus in {embed_s:.1f}s ({embedder.encoded} texts through the model, the rest cached)")

    gc.collect()
    start = time.perf_counter()
    searchers = {name: hnsw_search(matrix, pids, args.ef) for name, matrix in vectors.items()}
    hnsw_s = time.perf_counter() - start
    # hnswlib allocates in C; its serialised size is its in-memory size (RSS deltas are noisy after big frees).
    hnsw_mb = sum(search.index.index_file_size() for search in searchers.values()) / 2**20  # type: ignore[attr-defined]
    query_vectors = dict(zip(qids, embedder.encode([data.queries[q] for q in qids]), strict=True))

    def text(q: str) -> str:
        return data.queries[q]

    # Typo correction as search_products does it: words no product has, each one edit from a catalog word.
    fixed = {q: corrected(text(q), typo_fixes(keyword, unknown_words(keyword, text(q), QUERY_STOP_WORDS),
                                               QUERY_STOP_WORDS)) for q in qids}  # fmt: skip
    changed = [q for q in qids if fixed[q] != text(q)]
    fixed_vectors = {**query_vectors, **dict(zip(changed, embedder.encode([fixed[q] for q in changed]), strict=True))}
    print(f"typo correction changed {len(changed)} of {len(qids)} queries, e.g. "
          + "; ".join(f"{text(q)!r} -> {fixed[q]!r}" for q in changed[:5]))  # fmt: skip

    tuned = HybridRanker(keyword, searchers)
    rrf = HybridRanker(keyword, searchers, FusionConfig(method="rrf", weights={}, rrf_k=60.0))
    untuned = HybridRanker(baseline_keyword, {"text": searchers["text"]}, UNTUNED)
    runs: dict[str, Callable[[str], list[str]]] = {
        "keyword BM25 baseline (title+desc, no stem)": lambda q: [i for i, _ in baseline_keyword.search(text(q), 10)],
        "keyword BM25F (storebot default)": lambda q: [i for i, _ in keyword.search(text(q), 10)],
        "vector text (title+description)": lambda q: [i for i, _ in searchers["text"](query_vectors[q], 10)],
        "vector title": lambda q: [i for i, _ in searchers["title"](query_vectors[q], 10)],
        "hybrid untuned (RRF k=60, BM25 baseline + text)": lambda q: [
            h.id for h in untuned.rank(text(q), query_vectors[q], 10)
        ],
        "hybrid RRF k=60 (BM25F + text + title)": lambda q: [h.id for h in rrf.rank(text(q), query_vectors[q], 10)],
        "hybrid storebot (FusionConfig defaults)": lambda q: [h.id for h in tuned.rank(text(q), query_vectors[q], 10)],
        "hybrid storebot + typo correction": lambda q: [h.id for h in tuned.rank(fixed[q], fixed_vectors[q], 10)],
    }
    results: dict[str, tuple[float, float, float]] = {}
    print(f"\n{'configuration':52s} {'dev':>7s} {'heldout':>7s} {'all':>7s}")
    for name, run in runs.items():
        results[name] = summary(evaluate(run, data, qids), dev, heldout)
        print(f"{name:52s} {results[name][0]:7.4f} {results[name][1]:7.4f} {results[name][2]:7.4f}", flush=True)

    if args.ablations:
        dev_q, held_q = [q for q in qids if q in dev], [q for q in qids if q in heldout]
        print(f"\n{'ablation (one change at a time)':52s} {'dev':>7s} {'heldout':>7s} {'all':>7s}")
        for label, *figures in ablations(data, pids, dev_q, held_q, searchers, query_vectors):
            print(f"{label:52s} {figures[0]:7.4f} {figures[1]:7.4f} {figures[2]:7.4f}", flush=True)

    if args.tune:
        tune(data, pids, [q for q in qids if q in dev], [q for q in qids if q in heldout], searchers, query_vectors)

    # Latency: what a shopper waits for, query embedding included; one warm-up pass first.
    for q in qids[:20]:
        tuned.rank(text(q), embedder.encode_query(text(q)), 10)
    latencies: list[float] = []
    for _ in range(max(args.latency_passes, 1)):
        for q in qids:
            start = time.perf_counter()
            tuned.rank(text(q), embedder.encode_query(text(q)), 10)
            latencies.append((time.perf_counter() - start) * 1000)
    embed_only: list[float] = []
    for q in qids:
        start = time.perf_counter()
        embedder.encode_query(text(q))
        embed_only.append((time.perf_counter() - start) * 1000)
    print(f"\nlatency over {len(latencies)} searches; query embedding alone p50 {percentile(embed_only, 50):.2f} ms")
    print(f"keyword index: {keyword_s:.2f}s, {keyword_mb:.1f} MB; hnswlib x{len(searchers)}: {hnsw_s:.2f}s, "
          f"{hnsw_mb:.1f} MB; corpus embedding {embed_s:.1f}s (cached texts skip the model)")  # fmt: skip

    heads = {
        "ndcg10_keyword_baseline": results["keyword BM25 baseline (title+desc, no stem)"][2],
        "ndcg10_keyword": results["keyword BM25F (storebot default)"][2],
        "ndcg10_vector": results["vector text (title+description)"][2],
        "ndcg10_hybrid_untuned": results["hybrid untuned (RRF k=60, BM25 baseline + text)"][2],
        "ndcg10_hybrid": results["hybrid storebot (FusionConfig defaults)"][2],
        "ndcg10_hybrid_dev": results["hybrid storebot (FusionConfig defaults)"][0],
        "ndcg10_hybrid_heldout": results["hybrid storebot (FusionConfig defaults)"][1],
        "ndcg10_hybrid_typo_corrected": results["hybrid storebot + typo correction"][2],
    }
    print()
    for name, value in heads.items():
        print(f"{name}: {value:.4f}")
    print(f"latency_p50_ms: {percentile(latencies, 50):.2f}")
    print(f"latency_p95_ms: {percentile(latencies, 95):.2f}")
    print(f"latency_p99_ms: {percentile(latencies, 99):.2f}")
    print(f"index_build_s: {keyword_s + hnsw_s:.2f}")
    print(f"index_memory_mb: {keyword_mb + hnsw_mb:.1f}")
    if args.adapt_seconds > 0:
        print(f"adapt_train_s: {adapt_s:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
