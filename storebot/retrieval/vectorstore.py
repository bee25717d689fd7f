"""A LangChain ``VectorStore`` on hnswlib: upserts, deletes, metadata filters, atomic save/load.

LangChain ships no Python hnswlib store, and storebot needs one that is small,
in-process and fast to reload after a Celery fork. The id-keyed graph itself is
:class:`~storebot.retrieval.vectorindex.HnswlibVectorIndex`, whose raw
``add_vectors`` / ``search_vectors`` paths the indexer and the search service
use (they never build ``Document`` objects); this subclass adds embeddings,
``Document`` results and the JSON sidecar that holds texts and metadata on disk.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from storebot.retrieval.hnsw import MetadataFilter, load_files, metadata_matcher, save_files
from storebot.retrieval.vectorindex import HnswlibVectorIndex, _Item


class HnswlibVectorStore(HnswlibVectorIndex, VectorStore):
    """An in-process vector store on an hnswlib HNSW graph, with upsert semantics.

    The dimension comes from the embeddings (the first vectors added) or from
    ``dimension=``; nothing assumes 384. Locking, capacity growth and the exact
    fallback for selective filters come from :class:`HnswlibVectorIndex`.
    ``filter=`` takes a dict of equality conditions (a list value means "any of")
    or a predicate on the metadata.

    Args:
        embedding: Embeds texts and queries; its vector length sets the dimension.
        **index_params: ``space``, ``M``, ``ef_construction``, ``ef_search``, ``initial_capacity``,
            ``dimension`` and ``build_threads``, as documented on :class:`HnswlibVectorIndex`.

    Example:
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> store = HnswlibVectorStore(DeterministicFakeEmbedding(size=8))
        >>> store.add_texts(["rain shell", "down parka"], [{"brand": "acme"}, {"brand": "bolt"}], ids=["p1", "p2"])
        ['p1', 'p2']
        >>> [d.id for d in store.similarity_search("down parka", k=1, filter={"brand": ["bolt", "zed"]})]
        ['p2']
        >>> store.save("/tmp/storebot-doctest-index")  # doctest: +SKIP
        >>> HnswlibVectorStore.load("/tmp/storebot-doctest-index", embedding)  # doctest: +SKIP
    """

    def __init__(self, embedding: Embeddings, **index_params: Any) -> None:
        super().__init__(**index_params)
        self.embedding = embedding

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    # -- writes -------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and upsert texts; missing ids (``None`` entries included) become uuid4 strings."""
        texts = list(texts)
        given = list(ids) if ids is not None else [None] * len(texts)
        if len(given) != len(texts):
            raise ValueError(f"got {len(given)} ids for {len(texts)} texts")
        final = [id_ if id_ else str(uuid.uuid4()) for id_ in given]
        if texts:
            # Embedding is the slow part, so it runs before the write lock is taken.
            vectors = np.asarray(self.embedding.embed_documents(texts), dtype=np.float32)
            self.add_vectors(final, vectors, texts, metadatas)
        return final

    # -- reads -------------------------------------------------------------

    @staticmethod
    def _item_filter(filter: MetadataFilter | None) -> Callable[[_Item], bool] | None:
        match = metadata_matcher(filter)
        return None if match is None else lambda item: match(item.metadata)

    def _document(self, label: int) -> Document:
        item = self._items[label]
        return Document(id=item.id, page_content=item.text, metadata=dict(item.metadata))

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: MetadataFilter | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Documents and hnswlib distances (lower is closer), nearest first."""
        with self._lock.read():
            hits = self._knn(embedding, k, self._item_filter(filter))
            return [(self._document(label), dist) for label, dist in hits]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: MetadataFilter | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return self.similarity_search_with_score_by_vector(self.embedding.embed_query(query), k, filter)

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: MetadataFilter | None = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, filter)]

    def similarity_search(
        self, query: str, k: int = 4, filter: MetadataFilter | None = None, **kwargs: Any
    ) -> list[Document]:
        return self.similarity_search_by_vector(self.embedding.embed_query(query), k, filter)

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        with self._lock.read():
            hits = self._knn(embedding, max(fetch_k, k), self._item_filter(filter))
            if not hits:
                return []
            labels = [label for label, _ in hits]
            candidates = self._index.get_items(labels, return_type="numpy")
            chosen = maximal_marginal_relevance(np.asarray(embedding, dtype=np.float32), candidates, lambda_mult, k)
            return [self._document(labels[i]) for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: MetadataFilter | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = self.embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, filter)

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Documents for the ids that exist, in the order asked; unknown ids are skipped."""
        with self._lock.read():
            return [self._document(self._labels[id_]) for id_ in ids if id_ in self._labels]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> HnswlibVectorStore:
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    # -- persistence -------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the index and a JSON sidecar to ``directory``, atomically as a pair (see ``hnsw.save_files``)."""
        with self._lock.read():  # saving only reads the graph, so searches go on meanwhile
            state = {
                "space": self.space,
                "dimension": self.dimension,
                "M": self.M,
                "ef_construction": self.ef_construction,
                "ef_search": self.ef_search,
                "next_label": self._next_label,
                "items": [[it.id, label, it.text, it.metadata] for label, it in self._items.items()],
            }
            save_files(Path(directory), state, self._index)

    @classmethod
    def load(
        cls, directory: str | os.PathLike[str], embedding: Embeddings, *, build_threads: int | None = None
    ) -> HnswlibVectorStore:
        """Read a store written by :meth:`save`; ``ValueError`` if the files are missing, corrupt or disagree."""
        state, index = load_files(Path(directory))
        params = {name: state[name] for name in ("space", "M", "ef_construction", "ef_search")}
        store = cls(embedding, build_threads=build_threads, **params)
        if index is not None:
            store._adopt(index, int(state["dimension"]))
        store._items = {label: _Item(id_, text, meta) for id_, label, text, meta in state["items"]}
        store._labels = {id_: label for id_, label, _, _ in state["items"]}
        store._next_label = int(state["next_label"])
        return store
