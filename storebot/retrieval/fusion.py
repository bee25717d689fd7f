"""Hybrid ranking: fuse BM25F keyword hits with one or more vector searches.

Each signal ("keyword", and one per named vector field such as "text" or
"title") proposes its top ``depth`` candidates. The union is scored by every
signal: keyword scores are computed exactly for all candidates (the keyword
index can score any id cheaply), while a vector signal that did not return a
candidate gives it the lowest score it did return (its top-``depth`` list
says the candidate ranks below all of them). Then either

* ``"weighted"``: per-signal scores are normalised over the candidates
  (``"minmax"``, ``"zscore"`` or ``"max"``) and summed with weights; or
* ``"rrf"``: reciprocal-rank fusion, ``sum(w / (rrf_k + rank))``.

The defaults of :class:`FusionConfig` were tuned on a dev half of a labelled
product-search set and are deliberately plain (a few round weights), so they
carry over to other catalogs; see ``bench/search.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from storebot.retrieval.keyword import BM25Index

VectorSearch = Callable[..., list[tuple[str, float]]]
"""``(query vector, k) -> [(id, cosine), ...]`` best first, e.g. a vector store's ``search_vectors``.

A searcher that also takes a ``filter`` keyword (``Callable[[str], bool]``), as
``HnswlibVectorStore.search_vectors`` does, gets the ranker's ``allowed`` there,
so filtering happens inside the graph walk; any other is over-fetched and
filtered afterwards.
"""


def _takes_filter(search: VectorSearch) -> bool:
    try:
        return "filter" in inspect.signature(search).parameters
    except (TypeError, ValueError):
        return False


KEYWORD = "keyword"


def _default_weights() -> dict[str, float]:
    return {KEYWORD: 1.0, "text": 1.0, "title": 0.25}


@dataclass
class FusionConfig:
    """How signals are combined; signals missing from ``weights`` get weight 1.

    Attributes:
        method: ``"weighted"`` (normalised score sum) or ``"rrf"`` (reciprocal-rank fusion).
        weights: Weight per signal name: ``"keyword"`` and each vector field's name.
        normalization: For ``"weighted"``: ``"minmax"``, ``"zscore"``, ``"max"`` or ``"none"``.
        rrf_k: The rank offset for ``"rrf"``.
        depth: Candidates taken from each signal before fusion.

    Example:
        >>> FusionConfig().weights                      # the tuned default
        {'keyword': 1.0, 'text': 1.0, 'title': 0.25}
        >>> FusionConfig(method="rrf", rrf_k=60.0, weights={})  # plain RRF, every signal weight 1
        FusionConfig(method='rrf', weights={}, normalization='max', rrf_k=60.0, depth=100)
    """

    method: Literal["weighted", "rrf"] = "weighted"
    weights: dict[str, float] = field(default_factory=_default_weights)
    normalization: Literal["minmax", "zscore", "max", "none"] = "max"
    rrf_k: float = 60.0
    depth: int = 100

    def weight(self, signal: str) -> float:
        return float(self.weights.get(signal, 1.0))


@dataclass(frozen=True)
class RankedHit:
    """One fused result: the product id, its fused score and each signal's raw score."""

    id: str
    score: float
    signals: dict[str, float]


def _normalize(values: np.ndarray, how: str) -> np.ndarray:
    if how == "none" or values.size == 0:
        return values
    if how == "max":
        top = float(np.abs(values).max())
        return values / top if top > 0 else np.zeros_like(values)
    if how == "zscore":
        std = float(values.std())
        return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def fuse(
    lists: Mapping[str, Sequence[tuple[str, float]]],
    config: FusionConfig,
    exact: Mapping[str, Mapping[str, float]] | None = None,
) -> list[RankedHit]:
    """Fuse ranked ``(id, score)`` lists per signal into one ranking, best first.

    Args:
        lists: Each signal's candidates, best first.
        config: The fusion method and weights.
        exact: Optional per-signal scores for any candidate (e.g. keyword scores of
            vector-only hits); a candidate a signal neither listed nor scored gets
            that signal's lowest listed score.

    Returns:
        Every candidate once, by fused score; ties keep the order candidates were first seen.
    """
    order: dict[str, int] = {}
    for hits in lists.values():
        for doc_id, _ in hits:
            order.setdefault(doc_id, len(order))
    ids = list(order)
    if not ids:
        return []
    fused = np.zeros(len(ids), dtype=np.float64)
    raw: dict[str, np.ndarray] = {}
    for name, hits in lists.items():
        weight = config.weight(name)
        listed = dict(hits)
        known = {**listed, **(exact or {}).get(name, {})}
        floor = min(listed.values()) if listed else 0.0
        values = np.array([known.get(doc_id, floor) for doc_id in ids], dtype=np.float64)
        raw[name] = values
        if weight == 0:
            continue
        if config.method == "rrf":
            ranks = {doc_id: rank for rank, (doc_id, _) in enumerate(hits, start=1)}
            fused += np.array([weight / (config.rrf_k + ranks[d]) if d in ranks else 0.0 for d in ids])
        else:
            fused += weight * _normalize(values, config.normalization)
    position = np.lexsort((np.arange(len(ids)), -fused))
    return [
        RankedHit(ids[i], float(fused[i]), {name: float(values[i]) for name, values in raw.items()}) for i in position
    ]


class HybridRanker:
    """Ranks products by fusing a BM25F keyword index with named vector searches.

    Example:
        >>> keyword = BM25Index()
        >>> keyword.add("p1", {"title": "Rain shell", "description": "Waterproof jacket."})
        >>> keyword.add("p2", {"title": "Down parka", "description": "Warm winter coat."})
        >>> vectors = {"text": lambda vec, k: [("p2", 0.61), ("p1", 0.42)][:k]}
        >>> ranker = HybridRanker(keyword, vectors)
        >>> [hit.id for hit in ranker.rank("rain jacket", np.zeros(384, np.float32), k=2)]
        ['p1', 'p2']
    """

    def __init__(
        self,
        keyword: BM25Index,
        vectors: Mapping[str, VectorSearch],
        config: FusionConfig | None = None,
    ) -> None:
        self.keyword = keyword
        self.vectors = dict(vectors)
        self.config = config or FusionConfig()
        self._filterable = {name: _takes_filter(search) for name, search in self.vectors.items()}

    def candidates(
        self,
        query_text: str,
        query_vector: np.ndarray | Mapping[str, np.ndarray],
        allowed: Callable[[str], bool] | None = None,
    ) -> tuple[dict[str, list[tuple[str, float]]], dict[str, dict[str, float]]]:
        """Each signal's top ``depth`` candidates, and exact keyword scores for the union."""
        depth = self.config.depth
        lists: dict[str, list[tuple[str, float]]] = {}
        if self.config.weight(KEYWORD) != 0 or not self.vectors:
            lists[KEYWORD] = self.keyword.search(query_text, depth, allowed)
        for name, search in self.vectors.items():
            if self.config.weight(name) == 0:
                continue
            vector = query_vector[name] if isinstance(query_vector, Mapping) else query_vector
            if allowed is None:
                lists[name] = search(vector, depth)
            elif self._filterable[name]:
                lists[name] = search(vector, depth, filter=allowed)
            else:  # over-fetch, then filter here
                lists[name] = [(i, s) for i, s in search(vector, 2 * depth) if allowed(i)][:depth]
        union = {doc_id for hits in lists.values() for doc_id, _ in hits}
        exact = {KEYWORD: self.keyword.score_ids(query_text, union)} if KEYWORD in lists else {}
        return lists, exact

    def rank(
        self,
        query_text: str,
        query_vector: np.ndarray | Mapping[str, np.ndarray],
        k: int = 10,
        allowed: Callable[[str], bool] | None = None,
    ) -> list[RankedHit]:
        """The ``k`` best products for a query; ``query_vector`` may differ per vector field (a mapping)."""
        lists, exact = self.candidates(query_text, query_vector, allowed)
        return fuse(lists, self.config, exact)[:k]
