"""Shared helpers for the benchmarks: data loading, nDCG and an on-disk embedding cache.

The benchmark data lives outside the repository (``../shared/data``) and is
never copied into it; everything derived from it (cached vectors, reports)
goes to ``bench/out/``, which git ignores.
"""

from __future__ import annotations

import csv
import math
import random
import sqlite3
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "search" / "crowdflower"


class SqliteEmbeddingCache:
    """Vectors as float32 blobs in one sqlite file, keyed by (model id, text hash).

    Implements storebot's ``EmbeddingCache`` protocol so the bench embeds each
    distinct text once, ever, however often it is rerun.

    Example:
        >>> cache = SqliteEmbeddingCache(OUT / "embeddings.sqlite")  # doctest: +SKIP
        >>> emb = SentenceTransformerEmbeddings(cache=cache)         # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, hash TEXT, v BLOB, PRIMARY KEY (model, hash))")
        self._lock = threading.Lock()

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):
                chunk = list(hashes[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    f"SELECT hash, v FROM vec WHERE model = ? AND hash IN ({marks})", [model_id, *chunk]
                )
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self.db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                [(model_id, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )
            self.db.commit()


@dataclass
class SearchData:
    """The relevance benchmark: queries, products and graded judgments."""

    queries: dict[str, str]  # qid -> query text
    titles: dict[str, str]  # pid -> title
    descriptions: dict[str, str]  # pid -> plain-text description
    qrels: dict[str, dict[str, int]]  # qid -> pid -> grade 0..3


def _read_tsv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def load_search_data(root: Path = DEFAULT_DATA) -> SearchData:
    """Read queries, corpus and qrels; descriptions go through the catalog's HTML-to-text, as a sync would."""
    from storebot.catalog.text import html_to_text, looks_like_html

    queries = {r["qid"]: r["query"] for r in _read_tsv(root / "queries.tsv")}
    titles: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for r in _read_tsv(root / "corpus.tsv"):
        desc = r["product_description"] or ""
        titles[r["pid"]] = r["product_title"] or ""
        descriptions[r["pid"]] = html_to_text(desc) if looks_like_html(desc) else desc.strip()
    qrels: dict[str, dict[str, int]] = {}
    for r in _read_tsv(root / "qrels.tsv"):
        qrels.setdefault(r["qid"], {})[r["pid"]] = int(r["grade_0_3"])
    return SearchData(queries, titles, descriptions, qrels)


def ndcg_at_k(ranked: Sequence[str], judged: dict[str, int], k: int = 10) -> float:
    """nDCG@k with gain 2^grade - 1 and log2 discount; the ideal comes from the judged products, unjudged = 0."""
    dcg = sum((2 ** judged.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def split_queries(qids: Sequence[str], seed: int = 13, dev_fraction: float = 0.5) -> tuple[list[str], list[str]]:
    """A seeded split of query ids into (dev, held-out); tuning only ever sees dev."""
    ordered = sorted(qids)
    random.Random(seed).shuffle(ordered)
    cut = int(round(len(ordered) * dev_fraction))
    return sorted(ordered[:cut]), sorted(ordered[cut:])


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def rss_mb() -> float:
    """This process's resident memory in MB (Linux), for index-size deltas."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
