"""hnswlib plumbing for :mod:`storebot.retrieval.vectorstore`: locking, filters, exact distances, files.

Kept apart from the store so the LangChain-facing class stays readable; nothing
here knows about documents or embeddings. On disk a store is two files: an
hnswlib index ``hnsw-<token>.bin`` and a JSON sidecar ``vectorstore.json`` that
names it and holds the id/label map, texts, metadata and parameters.
"""

from __future__ import annotations

import json
import os
import random
import struct
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

MetadataFilter = Mapping[str, Any] | Callable[[dict[str, Any]], bool]
"""Equality conditions (a list, tuple or set value means "any of"), or a predicate on the metadata."""

SIDECAR = "vectorstore.json"
FORMAT = "storebot.hnswlib/1"
_MANY = (list, tuple, set, frozenset)


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds off new readers so it is never starved.

    Not reentrant: code holding either side must not take the lock again.

    Example:
        >>> lock = ReadWriteLock()
        >>> with lock.read():
        ...     pass
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def metadata_matcher(filter: MetadataFilter | None) -> Callable[[dict[str, Any]], bool] | None:
    """A predicate on metadata for a ``filter=`` argument (``None`` stays ``None``: no filtering).

    A dict matches when every key is present and equal to the condition; a list,
    tuple or set condition means "any of". A list-valued metadata field (tags,
    categories) matches when any of its values does.
    """
    if filter is None:
        return None
    if isinstance(filter, Mapping):
        conditions = [(key, tuple(want) if isinstance(want, _MANY) else (want,)) for key, want in filter.items()]

        def match(metadata: dict[str, Any]) -> bool:
            for key, accepted in conditions:
                if key not in metadata:
                    return False
                value = metadata[key]
                values = value if isinstance(value, _MANY) else (value,)
                if not any(v in accepted for v in values):
                    return False
            return True

        return match
    if callable(filter):
        return filter
    raise TypeError(f"filter must be a dict or a callable taking the metadata, not {type(filter).__name__}")


def distances(space: str, matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """hnswlib's distance from ``query`` to each row, for an exact search over stored (for cosine, unit) rows."""
    if space == "l2":
        diff = matrix - query
        return np.einsum("ij,ij->i", diff, diff)  # type: ignore[no-any-return]
    if space == "cosine":
        norm = float(np.linalg.norm(query))
        query = query / norm if norm else query
    return 1.0 - matrix @ query  # type: ignore[no-any-return]


def exact_search(index: Any, space: str, labels: list[int], query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` nearest of ``labels`` (live ones) by brute force, as ``(label, distance)`` nearest first."""
    if not labels:
        return []
    dists = distances(space, index.get_items(labels, return_type="numpy"), query)
    top = np.argpartition(dists, k - 1)[:k] if k < len(labels) else np.arange(len(labels))
    top = top[np.argsort(dists[top], kind="stable")]
    return [(labels[i], float(dists[i])) for i in top]


def few_matches(items: Mapping[int, Any], label_bound: int, test: Callable[[Any], bool], enough: int) -> bool:
    """Whether fewer than ``enough`` of ``items`` (keyed by label, below ``label_bound``) likely pass ``test``.

    Estimated from about 100 random live items: labels are mostly dense ints, so
    random probes find live items in O(1) without listing them.
    """
    live = len(items)
    if live <= enough:
        return True
    hits = matches = 0
    for _ in range(400):
        item = items.get(random.randrange(label_bound))
        if item is not None:
            hits += 1
            matches += bool(test(item))
            if hits == 100:
                break
    return hits == 0 or matches / hits * live < enough


def same_vectors(index: Any, space: str, labels: list[int], rows: np.ndarray) -> list[bool]:
    """Whether each row equals what ``index`` already holds for the label (to skip pointless graph updates)."""
    stored = index.get_items(labels, return_type="numpy")
    if space == "cosine":  # hnswlib keeps cosine vectors unit-normalised
        rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-30)
    return np.all(np.abs(stored - rows) <= 1e-6, axis=1).tolist()  # type: ignore[no-any-return]


def save_files(folder: Path, state: dict[str, Any], index: Any | None) -> None:
    """Write ``index`` and the sidecar; the sidecar is renamed into place last, so a crash leaves the old pair.

    Each save's index file has a fresh name recorded in the sidecar, which makes
    the sidecar's rename the single commit point. Older index files go afterwards.
    """
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    index_name = f"hnsw-{token}.bin" if index is not None else None
    state = {**state, "format": FORMAT, "index_file": index_name, "element_count": index.element_count if index else 0}
    payload = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if index is not None:
        temp = folder / f"{index_name}.tmp"
        index.save_index(str(temp))
        fsync_file(temp)
        os.replace(temp, folder / str(index_name))
    temp = folder / f"{SIDECAR}.{token}.tmp"
    write_durably(temp, payload)
    os.replace(temp, folder / SIDECAR)
    fsync_dir(folder)
    for stale in folder.glob("hnsw-*.bin"):
        if stale.name != index_name:
            stale.unlink(missing_ok=True)


def load_files(folder: Path) -> tuple[dict[str, Any], Any | None]:
    """The sidecar's state and its index (``None`` if saved empty); ``ValueError`` if they are unreadable or disagree.

    ``state["items"]`` comes back as checked ``(id, label, text, metadata)`` tuples.
    """
    try:
        state = json.loads((folder / SIDECAR).read_bytes())
        if state.get("format") != FORMAT:
            raise ValueError(f"unknown format {state.get('format')!r}")
        items = [(str(i), int(label), str(text), dict(meta)) for i, label, text, meta in state["items"]]
        labels = {item[1] for item in items}
        if not len(labels) == len({item[0] for item in items}) == len(items):
            raise ValueError("the sidecar repeats an id or a label")
        if labels and max(labels) >= int(state["next_label"]):
            raise ValueError("the sidecar has labels beyond next_label")
        index = None
        if state["index_file"] is not None:
            dimension, count = int(state["dimension"]), int(state["element_count"])
            index = load_index(folder / Path(state["index_file"]).name, state["space"], dimension, count)
            if not labels <= set(index.get_ids_list()):
                raise ValueError("the sidecar names labels the index does not hold")
        elif items:
            raise ValueError("the sidecar lists items but names no index file")
    except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"cannot load the vector store in {folder}: {exc}; rebuild the index") from exc
    return {**state, "items": items}, index


def load_index(path: Path, space: str, dimension: int, element_count: int) -> Any:
    """Load an hnswlib file after checking its header against the expected dimension and element count.

    hnswlib itself would accept a file of another dimension and then read garbage,
    so the header is checked here first.
    """
    with open(path, "rb") as fh:
        header = fh.read(48)
    if len(header) < 48:
        raise ValueError(f"{path.name} is truncated")
    # Header: offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset, offsetData.
    _, _, count, _, label_offset, offset_data = struct.unpack("<6Q", header)
    found = (label_offset - offset_data) // 4  # the float32 vector sits between the level-0 links and the label
    if found != dimension:
        raise ValueError(f"{path.name} holds {found}-d vectors; the sidecar says {dimension}")
    if count != element_count:
        raise ValueError(f"{path.name} holds {count} elements; the sidecar says {element_count}")
    index = hnswlib.Index(space=space, dim=dimension)
    index.load_index(str(path), allow_replace_deleted=True)
    return index


def write_durably(path: Path, payload: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a no-op where directories cannot be opened, as on Windows)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
