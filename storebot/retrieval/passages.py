"""Review and policy passages: what reviewers say about a product, what the store's policies say.

Example:
    >>> passages = search_reviews(index, "how does it fit", product_ids=["1001"], k=3)  # doctest: +SKIP
    >>> passages[0].metadata["rating"]                                                  # doctest: +SKIP
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storebot.retrieval.index import StoreIndex


@dataclass
class Passage:
    id: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "score": round(self.score, 4), **self.metadata}


def _passages(store: Any, vector: Any, k: int, filter: Any = None) -> list[Passage]:
    found = store.similarity_search_with_score_by_vector(vector.tolist(), k=k, filter=filter)
    # The store returns cosine distances; passages report similarity, higher is closer.
    return [Passage(doc.id or "", doc.page_content, 1.0 - float(distance), dict(doc.metadata))
            for doc, distance in found]  # fmt: skip


def search_reviews(index: StoreIndex, query: str, *, product_ids: Sequence[str] | None = None,
                   k: int = 5) -> list[Passage]:  # fmt: skip
    """The review passages closest to ``query``, optionally only for ``product_ids``."""
    if not len(index.reviews):
        return []
    vector = index.embedder.encode_query(query)
    wanted = {"product_id": list(product_ids)} if product_ids else None
    return _passages(index.reviews, vector, k, wanted)


def search_policies(index: StoreIndex, query: str, *, k: int = 3) -> list[Passage]:
    """The policy passages (shipping, returns, FAQ) closest to ``query``."""
    if not len(index.policies):
        return []
    return _passages(index.policies, index.embedder.encode_query(query), k)
