"""Field-weighted BM25 (BM25F) over product fields, updated one product at a time.

Each field has a weight and its own length normalisation; a term's per-field
frequencies are normalised, weighted and summed *before* BM25's saturation,
so a word repeated in the description cannot outweigh one title match (the
BM25F of Robertson, Zaragoza and Taylor). Document frequencies and average
field lengths are live: ``add`` and ``remove`` keep idf exact without a
rebuild. Postings are compact ``array`` buffers read as numpy views at query
time, so a query costs a few vectorised passes over its terms' postings.

Adjacent title words are also indexed as bigram terms in a field of their
own (``"<field>~2"``), which rewards a title containing the query's phrase
("wine rack") over one with both words apart.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storebot.retrieval.tokenize import stem, tokenize

BIGRAM_SUFFIX = "~2"


@dataclass(frozen=True)
class FieldSpec:
    """How much a field counts (``weight``) and how much its length is normalised (``b``, 0..1)."""

    weight: float = 1.0
    b: float = 0.75


def _default_fields() -> dict[str, FieldSpec]:
    return {
        "title": FieldSpec(5.0, 0.3),
        "brand": FieldSpec(3.0, 0.3),
        "category": FieldSpec(2.0, 0.3),
        "attributes": FieldSpec(1.0, 0.5),
        "description": FieldSpec(1.0, 0.5),
    }


@dataclass
class BM25Config:
    """BM25F parameters; a field not in ``fields`` gets ``other`` (weight 1, b 0.75).

    The title/description values were tuned on a labelled product-search set
    (``bench/search.py --tune``); brand, category and attributes could not be
    measured there and sit between the two by judgement.

    Example:
        >>> config = BM25Config(fields={"title": FieldSpec(5.0, 0.3), "description": FieldSpec(1.0, 0.5)})
        >>> config.spec("title~2")  # title bigrams: the title's b, weight scaled by bigram_weight
        FieldSpec(weight=1.5, b=0.3)
    """

    fields: dict[str, FieldSpec] = field(default_factory=_default_fields)
    other: FieldSpec = field(default_factory=FieldSpec)
    k1: float = 1.2
    bigram_fields: tuple[str, ...] = ("title",)
    bigram_weight: float = 0.3
    stemming: bool = True

    def spec(self, name: str) -> FieldSpec:
        if name.endswith(BIGRAM_SUFFIX):
            base = self.spec(name[: -len(BIGRAM_SUFFIX)])
            return FieldSpec(base.weight * self.bigram_weight, base.b)
        return self.fields.get(name, self.other)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["bigram_fields"] = list(self.bigram_fields)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BM25Config:
        data = dict(data)
        data["fields"] = {k: FieldSpec(**v) for k, v in data.get("fields", {}).items()}
        data["other"] = FieldSpec(**data.get("other", {}))
        data["bigram_fields"] = tuple(data.get("bigram_fields", ()))
        return cls(**data)


class BM25Index:
    """An incremental BM25F keyword index over named product fields.

    Example:
        >>> index = BM25Index()
        >>> index.add("p1", {"title": "Rain shell jacket", "description": "Light and packable."})
        >>> index.add("p2", {"title": "Down parka", "description": "Warmer than any rain jacket."})
        >>> [pid for pid, _ in index.search("rain jacket", k=2)]
        ['p1', 'p2']
        >>> index.remove("p1")
        >>> [pid for pid, _ in index.search("rain jacket", k=2)]
        ['p2']
    """

    def __init__(self, config: BM25Config | None = None) -> None:
        self.config = config or BM25Config()
        self._slot: dict[str, int] = {}  # live id -> slot
        self._ids: list[str | None] = []  # slot -> id (None once removed)
        self._vocab: dict[str, int] = {}  # term -> term id
        self._words: list[str] = []  # term id -> term
        self._df = np.zeros(0, dtype=np.int32)  # term id -> live documents holding it
        # field -> term id -> postings as interleaved (slot, tf) int32 pairs; compact and appendable.
        self._postings: dict[str, dict[int, array]] = {}
        self._terms: list[array] = []  # slot -> distinct term ids, for remove()
        self._lengths: dict[str, np.ndarray] = {}  # field -> length per slot
        self._length_sum: Counter[str] = Counter()
        self._alive = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slot

    def _field_terms(self, fields: Mapping[str, str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, text in fields.items():
            tokens = tokenize(text, stemming=self.config.stemming) if text else []
            if not tokens:
                continue
            out[name] = tokens
            if name in self.config.bigram_fields and len(tokens) > 1:
                out[name + BIGRAM_SUFFIX] = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        return out

    def _term_id(self, term: str) -> int:
        term_id = self._vocab.get(term)
        if term_id is None:
            term_id = self._vocab[term] = len(self._words)
            self._words.append(term)
            if term_id >= len(self._df):
                self._df = np.concatenate([self._df, np.zeros(max(1024, len(self._df)), dtype=np.int32)])
        return term_id

    def _grow(self, size: int) -> None:
        if size <= len(self._alive):
            return
        extra = max(size, 2 * len(self._alive), 64) - len(self._alive)
        self._alive = np.concatenate([self._alive, np.zeros(extra, dtype=bool)])
        for name, lengths in self._lengths.items():
            self._lengths[name] = np.concatenate([lengths, np.zeros(extra, dtype=np.float32)])

    def add(self, doc_id: str, fields: Mapping[str, str]) -> None:
        """Index a product's fields; an id already present is replaced."""
        if doc_id in self._slot:
            self.remove(doc_id)
        slot = len(self._ids)
        self._grow(slot + 1)
        self._ids.append(doc_id)
        self._slot[doc_id] = slot
        self._alive[slot] = True
        distinct: set[int] = set()
        for name, tokens in self._field_terms(fields).items():
            if name not in self._lengths:
                self._lengths[name] = np.zeros(len(self._alive), dtype=np.float32)
                self._postings[name] = {}
            self._lengths[name][slot] = len(tokens)
            self._length_sum[name] += len(tokens)
            field_postings = self._postings[name]
            for term, tf in Counter(tokens).items():
                term_id = self._term_id(term)
                postings = field_postings.get(term_id)
                if postings is None:
                    postings = field_postings[term_id] = array("i")
                postings.append(slot)
                postings.append(tf)
                distinct.add(term_id)
        terms = array("i", sorted(distinct))
        self._terms.append(terms)
        self._df[np.frombuffer(terms, dtype=np.int32)] += 1

    def add_many(self, docs: Iterable[tuple[str, Mapping[str, str]]]) -> None:
        """``add`` for each ``(id, fields)`` pair."""
        for doc_id, fields in docs:
            self.add(doc_id, fields)

    def remove(self, doc_id: str) -> None:
        """Forget a product (a no-op for an unknown id); its postings are dropped at the next compaction."""
        slot = self._slot.pop(doc_id, None)
        if slot is None:
            return
        self._ids[slot] = None
        self._alive[slot] = False
        self._df[np.frombuffer(self._terms[slot], dtype=np.int32)] -= 1
        self._terms[slot] = array("i")
        for name, lengths in self._lengths.items():
            self._length_sum[name] -= int(lengths[slot])
            lengths[slot] = 0
        if len(self._ids) > 1000 and len(self._slot) < 0.75 * len(self._ids):
            self.compact()

    def compact(self) -> None:
        """Renumber live products densely and drop removed ones' postings."""
        old = np.flatnonzero(self._alive[: len(self._ids)])
        remap = np.full(len(self._ids), -1, dtype=np.int32)
        remap[old] = np.arange(len(old), dtype=np.int32)
        for field_postings in self._postings.values():
            for term_id in list(field_postings):
                pairs = np.frombuffer(field_postings[term_id], dtype=np.int32).reshape(-1, 2)
                slots = remap[pairs[:, 0]]
                keep = slots >= 0
                if not keep.any():
                    del field_postings[term_id]
                elif not keep.all():
                    fresh = np.stack([slots[keep], pairs[keep, 1]], axis=1)
                    field_postings[term_id] = array("i", fresh.astype(np.int32).tobytes())
                else:
                    pairs_out = np.stack([slots, pairs[:, 1]], axis=1).astype(np.int32)
                    field_postings[term_id] = array("i", pairs_out.tobytes())
        self._ids = [self._ids[i] for i in old]
        self._terms = [self._terms[i] for i in old]
        self._slot = {doc_id: i for i, doc_id in enumerate(self._ids) if doc_id is not None}
        self._lengths = {name: lengths[old].copy() for name, lengths in self._lengths.items()}
        self._alive = np.ones(len(old), dtype=bool)

    def document_frequency(self, word: str) -> int:
        """How many indexed documents hold ``word`` (stemmed like the index's terms)."""
        term_id = self._vocab.get(stem(word) if self.config.stemming else word)
        return int(self._df[term_id]) if term_id is not None else 0

    def words(self) -> Iterator[tuple[str, int]]:
        """Every term some live document holds, with how many documents hold it."""
        return ((term, int(self._df[term_id])) for term, term_id in self._vocab.items() if self._df[term_id] > 0)

    @property
    def stamp(self) -> tuple[int, int, int]:
        """Changes whenever a document is added or removed: for caches of what :meth:`words` gives."""
        return len(self._words), len(self._ids), len(self._slot)

    def _idf(self, term: str) -> float:
        term_id = self._vocab.get(term)
        df = int(self._df[term_id]) if term_id is not None else 0
        return math.log(1.0 + (len(self._slot) - df + 0.5) / (df + 0.5))

    def query_terms(self, query: str) -> list[tuple[str, str]]:
        """The ``(term, field)`` pairs a query looks up: its tokens in every field, its bigrams in bigram fields."""
        tokens = tokenize(query, stemming=self.config.stemming)
        names = [n for n in self._lengths if not n.endswith(BIGRAM_SUFFIX)]
        pairs = [(t, n) for t in dict.fromkeys(tokens) for n in names]
        bigrams = dict.fromkeys(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
        pairs += [(g, n + BIGRAM_SUFFIX) for g in bigrams for n in self.config.bigram_fields]
        return pairs

    def scores(self, query: str) -> np.ndarray:
        """A dense BM25F score per slot (0 where nothing matched); removed slots score 0."""
        n_slots = len(self._ids)
        total = np.zeros(n_slots, dtype=np.float32)
        live = max(len(self._slot), 1)
        by_term: dict[str, list[tuple[str, array]]] = {}
        for term, name in self.query_terms(query):
            term_id = self._vocab.get(term)
            postings = self._postings.get(name, {}).get(term_id) if term_id is not None else None
            if postings is not None and self.config.spec(name).weight > 0:
                by_term.setdefault(term, []).append((name, postings))
        k1 = self.config.k1
        for term, hits in by_term.items():
            pseudo = np.zeros(n_slots, dtype=np.float32)
            for name, postings in hits:
                spec = self.config.spec(name)
                pairs = np.frombuffer(postings, dtype=np.int32).reshape(-1, 2)
                docs = pairs[:, 0]
                avg = max(self._length_sum[name] / live, 1e-9)
                norm = 1.0 - spec.b + spec.b * self._lengths[name][docs] / avg
                pseudo[docs] += spec.weight * pairs[:, 1] / norm
            touched = np.flatnonzero(pseudo)
            saturated = pseudo[touched] * (k1 + 1.0) / (k1 + pseudo[touched])
            total[touched] += self._idf(term) * saturated
        total[~self._alive[:n_slots]] = 0.0
        return total

    def score_ids(self, query: str, ids: Iterable[str]) -> dict[str, float]:
        """BM25F scores of given products (0 for no match or an unknown id), e.g. to fuse with vector hits."""
        dense = self.scores(query)
        return {doc_id: float(dense[self._slot[doc_id]]) if doc_id in self._slot else 0.0 for doc_id in ids}

    def search(self, query: str, k: int = 10, allowed: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, score)`` pairs, best first; ties keep insertion order; ``allowed`` filters ids."""
        dense = self.scores(query)
        matched = np.flatnonzero(dense > 0)
        if k <= 0 or matched.size == 0:
            return []
        ranked = matched[np.argsort(-dense[matched], kind="stable")]  # stable: ties keep insertion order
        out: list[tuple[str, float]] = []
        for slot in ranked:
            doc_id = self._ids[slot]
            if doc_id is None or (allowed is not None and not allowed(doc_id)):
                continue
            out.append((doc_id, float(dense[slot])))
            if len(out) == k:
                break
        return out

    # Saving: JSON metadata plus flat numpy arrays, never pickle.

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(metadata, arrays)``: JSON-safe metadata and flat numpy arrays that ``from_state`` rebuilds from."""
        self.compact()
        names = sorted(self._lengths)
        chunks = [
            (name_index, term_id, np.frombuffer(postings, dtype=np.int32).reshape(-1, 2))
            for name_index, name in enumerate(names)
            for term_id, postings in self._postings[name].items()
        ]
        pairs = np.concatenate([c[2] for c in chunks]) if chunks else np.zeros((0, 2), np.int32)
        sizes = np.array([len(c[2]) for c in chunks], dtype=np.int64)
        arrays = {
            "post_field": np.repeat(np.array([c[0] for c in chunks], dtype=np.int16), sizes),
            "post_term": np.repeat(np.array([c[1] for c in chunks], dtype=np.int32), sizes),
            "post_doc": np.ascontiguousarray(pairs[:, 0]),
            "post_tf": np.ascontiguousarray(pairs[:, 1]),
            "lengths": np.stack([self._lengths[n][: len(self._ids)] for n in names])
            if names
            else np.zeros((0, len(self._ids)), np.float32),
        }
        meta = {"version": 2, "config": self.config.to_dict(), "ids": self._ids, "fields": names, "terms": self._words}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> BM25Index:
        """Rebuild an index saved by ``to_state``."""
        index = cls(BM25Config.from_dict(meta["config"]))
        ids: list[str] = list(meta["ids"])
        names: list[str] = list(meta["fields"])
        index._words = list(meta["terms"])
        index._vocab = {term: i for i, term in enumerate(index._words)}
        index._df = np.zeros(len(index._words) + 1024, dtype=np.int32)
        index._ids = list(ids)
        index._slot = {doc_id: i for i, doc_id in enumerate(ids)}
        index._alive = np.ones(len(ids), dtype=bool)
        lengths = np.asarray(arrays["lengths"], dtype=np.float32)
        for i, name in enumerate(names):
            index._lengths[name] = lengths[i].copy()
            index._length_sum[name] = int(lengths[i].sum())
            index._postings[name] = {}
        fields = np.asarray(arrays["post_field"])
        terms = np.asarray(arrays["post_term"], dtype=np.int32)
        pairs = np.stack([arrays["post_doc"], arrays["post_tf"]], axis=1).astype(np.int32)
        # Runs of equal (field, term) are contiguous, as to_state wrote them.
        change = np.flatnonzero((np.diff(terms) != 0) | (np.diff(fields) != 0)) + 1
        bounds = np.concatenate([[0], change, [len(terms)]]).astype(np.int64) if len(terms) else np.zeros(1, np.int64)
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            index._postings[names[int(fields[start])]][int(terms[start])] = array("i", pairs[start:end].tobytes())
        # Distinct term ids per document, for df and remove().
        order = np.lexsort((terms, pairs[:, 0]))
        doc_term = np.unique(np.stack([pairs[order, 0], terms[order]], axis=1), axis=0)
        cuts = np.searchsorted(doc_term[:, 0], np.arange(len(ids) + 1))
        index._terms = [array("i", doc_term[cuts[i] : cuts[i + 1], 1].tobytes()) for i in range(len(ids))]
        np.add.at(index._df, doc_term[:, 1], 1)
        return index

    def save(self, directory: Path) -> None:
        """Write ``keyword.json`` and ``keyword.npz`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        meta, arrays = self.to_state()
        (directory / "keyword.json").write_text(json.dumps(meta), encoding="utf-8")
        np.savez(directory / "keyword.npz", **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        """Read an index written by ``save``."""
        meta = json.loads((directory / "keyword.json").read_text(encoding="utf-8"))
        with np.load(directory / "keyword.npz", allow_pickle=False) as data:
            return cls.from_state(meta, {k: data[k] for k in data.files})
