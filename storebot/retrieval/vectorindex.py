"""An id-keyed hnswlib index of raw vectors: upserts, deletes, filtered and batched k-NN search.

The lower layer of :class:`~storebot.retrieval.vectorstore.HnswlibVectorStore`:
product ids (strings) map to hnswlib's integer labels, and each label keeps its
id, text and metadata. Nothing here embeds text or builds ``Document`` objects;
the indexer and the search service use this raw path directly through the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import hnswlib
import numpy as np

from storebot.retrieval.hnsw import ReadWriteLock, exact_search, few_matches, same_vectors

SPACES = ("cosine", "ip", "l2")
# Deleted slots tolerated, as a share of live items, before new vectors reuse them (slower, see _write_vectors).
TOMBSTONE_BUDGET = 0.25


class _Item(NamedTuple):
    id: str
    text: str
    metadata: dict[str, Any]


class HnswlibVectorIndex:
    """Vectors keyed by string id in an hnswlib HNSW graph, with upsert semantics and thread-safe reads.

    The dimension comes from the first vectors added or from ``dimension=``;
    capacity grows by doubling when full. Writes take an exclusive lock because
    hnswlib's ``add_items`` and ``mark_deleted`` are not safe alongside
    ``knn_query``; reads share the lock. A filter too selective for the graph
    search is answered by exact brute force, so results are not cut short.

    Args:
        space: hnswlib space: ``"cosine"`` (default), ``"ip"`` or ``"l2"`` (squared).
        M: Graph degree. ef_construction: build-time beam. ef_search: query-time beam.
        initial_capacity: Slots allocated up front; the index doubles when full.
        dimension: Build the index now for this dimension instead of at the first add.
        build_threads: Threads for ``add_items`` (default: all cores); queries use one.

    Example:
        >>> import numpy as np
        >>> index = HnswlibVectorIndex(dimension=2)
        >>> index.add_vectors(["p1", "p2"], np.array([[1.0, 0.0], [0.0, 1.0]]), ["rain shell", "down parka"])
        >>> [(id_, round(score, 3)) for id_, score in index.search_vectors(np.array([0.1, 1.0]), k=1)]
        [('p2', 0.995)]
    """

    def __init__(
        self,
        *,
        space: str = "cosine",
        M: int = 16,  # noqa: N803 - hnswlib's own name for the graph degree
        ef_construction: int = 200,
        ef_search: int = 64,
        initial_capacity: int = 1024,
        dimension: int | None = None,
        build_threads: int | None = None,
    ) -> None:
        if space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, not {space!r}")
        self.space = space
        self.M = M
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.initial_capacity = max(1, initial_capacity)
        self.build_threads = build_threads or os.cpu_count() or 1
        self.dimension: int | None = None
        self._index: Any = None
        self._labels: dict[str, int] = {}
        self._items: dict[int, _Item] = {}
        self._next_label = 0
        self._lock = ReadWriteLock()
        if dimension is not None:
            self._ensure_index(dimension)

    # -- size and identity -------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        # An empty store is still a store; without this `if store:` would depend on __len__.
        return True

    def ids(self) -> list[str]:
        """The ids of all live items, in no particular order."""
        with self._lock.read():
            return list(self._labels)

    @property
    def capacity(self) -> int:
        """How many items fit before the next resize (0 before the first add)."""
        return int(self._index.get_max_elements()) if self._index is not None else 0

    # -- writes -------------------------------------------------------------

    def add_vectors(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        texts: Sequence[str] | None = None,
        metadatas: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Upsert precomputed vectors, one row per id; the fast path for storebot's indexer.

        An existing id gets its vector, text and metadata replaced (omitted ones become
        ``""`` and ``{}``). For cosine the rows need not be normalised; hnswlib does it.
        """
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"vectors must have shape ({len(ids)}, dimension), got {matrix.shape}")
        if (texts is not None and len(texts) != len(ids)) or (metadatas is not None and len(metadatas) != len(ids)):
            raise ValueError("texts and metadatas, when given, must have one entry per id")
        if not len(ids):
            return
        # The last occurrence of a repeated id wins, as if the rows were added one by one.
        rows = list({id_: row for row, id_ in enumerate(ids)}.values())
        with self._lock.write():
            self._ensure_index(matrix.shape[1])
            self._write_vectors(ids, matrix, rows)
            for r in rows:
                text = texts[r] if texts is not None else ""
                metadata = dict(metadatas[r]) if metadatas is not None and metadatas[r] else {}
                self._items[self._labels[ids[r]]] = _Item(ids[r], text, metadata)

    def _write_vectors(self, ids: Sequence[str], matrix: np.ndarray, rows: list[int]) -> None:
        """Put the given rows into the graph and the id map. Callers hold the write lock.

        hnswlib's in-place update (and its reuse of a deleted slot) costs about seven
        inserts, so unchanged vectors are skipped, and changed or new ones go in as
        fresh inserts while tombstones stay under ``TOMBSTONE_BUDGET`` of the live
        count; past that, slots are reused so the index stops growing.
        """
        known = [r for r in rows if ids[r] in self._labels]
        if known:
            same = same_vectors(self._index, self.space, [self._labels[ids[r]] for r in known], matrix[known])
            known = [r for r, unchanged in zip(known, same, strict=True) if not unchanged]
        reuse = self._index.element_count - len(self._items) > TOMBSTONE_BUDGET * len(self._items)
        if reuse and known:
            labels = np.array([self._labels[ids[r]] for r in known], dtype=np.uint64)
            self._index.add_items(matrix[known], labels, num_threads=self.build_threads)
        inserts = [r for r in rows if ids[r] not in self._labels] + ([] if reuse else known)
        if not inserts:
            return
        # Reused slots need no room; fresh ones do, on top of every slot in use (tombstones included).
        self._reserve(len(self._items) + len(inserts) if reuse else self._index.element_count + len(inserts))
        # Labels as a numpy array: given a Python list, hnswlib's add_items ran single-threaded (measured).
        labels = np.arange(self._next_label, self._next_label + len(inserts), dtype=np.uint64)
        self._next_label += len(inserts)
        block = matrix if len(inserts) == len(matrix) else matrix[inserts]  # a plain bulk add skips the copy
        self._index.add_items(block, labels, num_threads=self.build_threads, replace_deleted=reuse)
        for r, label in zip(inserts, labels.tolist(), strict=True):
            old = self._labels.get(ids[r])
            if old is not None:  # a changed vector moved to a fresh label: retire the old one
                self._index.mark_deleted(old)
                del self._items[old]
            self._labels[ids[r]] = label

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Remove items by id; unknown ids are ignored, and ``None`` deletes nothing."""
        with self._lock.write():
            for id_ in ids or ():
                label = self._labels.pop(id_, None)
                if label is not None:
                    self._index.mark_deleted(label)
                    del self._items[label]
        return True

    def _ensure_index(self, dimension: int) -> None:
        if self._index is not None:
            if dimension != self.dimension:
                raise ValueError(f"this store holds {self.dimension}-d vectors; got {dimension}-d")
            return
        if dimension < 1:
            raise ValueError(f"dimension must be positive, got {dimension}")
        index = hnswlib.Index(space=self.space, dim=dimension)
        index.init_index(
            max_elements=self.initial_capacity,
            M=self.M,
            ef_construction=self.ef_construction,
            allow_replace_deleted=True,
        )
        self._adopt(index, dimension)

    def _adopt(self, index: Any, dimension: int) -> None:
        index.set_ef(self.ef_search)
        # One thread per query: storebot wants low latency per request, not batch throughput.
        index.set_num_threads(1)
        self._index, self.dimension = index, dimension

    def _reserve(self, needed: int) -> None:
        # Doubling keeps a stream of small adds down to O(log n) resizes, each a full copy of the graph.
        capacity = self._index.get_max_elements()
        if needed > capacity:
            self._index.resize_index(max(needed, 2 * capacity))

    # -- reads -------------------------------------------------------------

    def search_vectors(
        self, vector: np.ndarray, k: int, filter: Callable[[str], bool] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest ids as ``(id, score)``, best first; for cosine the score is the cosine similarity."""
        relevance = self._select_relevance_score_fn()
        test = (lambda item: filter(item.id)) if filter is not None else None
        with self._lock.read():
            return [(self._items[label].id, relevance(dist)) for label, dist in self._knn(vector, k, test)]

    def _knn(self, vector: Any, k: int, test: Callable[[_Item], bool] | None) -> list[tuple[int, float]]:
        """Labels and hnswlib distances, nearest first, of items passing ``test``. Callers hold the read lock."""
        if self._index is None or not self._items or k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dimension:
            raise ValueError(f"query has {query.shape[0]} dimensions; the store holds {self.dimension}-d vectors")
        k = min(k, len(self._items))
        # A filter too selective for the graph walk (it would visit most nodes, then come back short) goes exact.
        if test is not None and few_matches(self._items, self._next_label, test, 4 * max(self.ef_search, k)):
            return self._exact(query, k, test)
        allowed = None
        if test is not None:
            items = self._items

            def allowed(label: int) -> bool:
                item = items.get(label)
                return item is not None and test(item)

        try:
            labels, dists = self._index.knn_query(query, k=k, num_threads=1, filter=allowed)
        except RuntimeError:
            # hnswlib found fewer than k (deleted nodes cut the graph, or the filter starved it).
            return self._exact(query, k, test)
        return list(zip(labels[0].tolist(), dists[0].tolist(), strict=True))

    def _exact(self, query: np.ndarray, k: int, test: Callable[[_Item], bool] | None) -> list[tuple[int, float]]:
        """Brute force over the (filtered) live items: exact, and never short when k items match."""
        labels = [label for label, item in self._items.items() if test is None or test(item)]
        return exact_search(self._index, self.space, labels, query, k)

    # LangChain's name for this hook, so the store's relevance scores and the raw scores agree.
    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        if self.space == "l2":
            return lambda squared: 1.0 - float(np.sqrt(max(squared, 0.0))) / np.sqrt(2)
        # hnswlib reports cosine and inner-product distances as 1 - similarity.
        return lambda distance: 1.0 - distance

    def get_vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of the ids that exist (normalised for cosine), without re-embedding anything."""
        with self._lock.read():
            found = [id_ for id_ in ids if id_ in self._labels]
            if not found:
                return [], np.zeros((0, self.dimension or 0), dtype=np.float32)
            matrix = self._index.get_items([self._labels[id_] for id_ in found], return_type="numpy")
            return found, np.asarray(matrix, dtype=np.float32)

    def search_many(self, matrix: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """``search_vectors`` for many query rows in one graph call (no filter), on all build threads."""
        relevance = self._select_relevance_score_fn()
        with self._lock.read():
            if self._index is None or not self._items or len(matrix) == 0:
                return [[] for _ in range(len(matrix))]
            k = min(k, len(self._items))
            labels, dists = self._index.knn_query(np.asarray(matrix, dtype=np.float32), k=k,
                                                  num_threads=self.build_threads)  # fmt: skip
            items = self._items
            return [[(items[label].id, relevance(dist)) for label, dist in zip(row, drow, strict=True)
                     if label in items] for row, drow in zip(labels.tolist(), dists.tolist(), strict=True)]  # fmt: skip
