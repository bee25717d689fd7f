"""A store's search index: product vectors, keyword index, review and policy passages.

A :class:`StoreIndex` is an in-memory snapshot that can be updated in place
with changed and deleted records, saved to a directory with a checksummed
manifest, and loaded back. Loading verifies every file against the manifest
and raises :class:`IndexCorrupt` on any mismatch, so the caller rebuilds it
from Redis, the source of truth.

Example:
    >>> index = StoreIndex.empty(embedder)                      # doctest: +SKIP
    >>> index.apply(Changes(products=[product]))                # doctest: +SKIP
    >>> index.save(Path(".storebot/indexes/demo/v1"), version=1)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storebot.catalog.models import Policy, Product, Review
from storebot.retrieval.documents import PRODUCT_VECTOR_FIELDS, policy_passages, product_fields, review_passage
from storebot.retrieval.embeddings import SentenceTransformerEmbeddings
from storebot.retrieval.filters import CatalogVocabulary
from storebot.retrieval.keyword import BM25Index
from storebot.retrieval.vectorstore import HnswlibVectorStore

MANIFEST = "manifest.json"
FORMAT_VERSION = 3  # 2: yes/no attributes read as "insulated" / "not insulated"; 3: "yes, detail"; older rebuild


class IndexCorrupt(Exception):
    """An index directory is missing, incomplete, or does not match its manifest."""


@dataclass
class Changes:
    """Records to (re)index and ids to drop, by collection."""

    products: list[Product] = field(default_factory=list)
    deleted_products: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    deleted_reviews: list[str] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    deleted_policies: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(v) for v in vars(self).values())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StoreIndex:
    """Everything search needs for one store, in memory."""

    def __init__(
        self,
        embedder: SentenceTransformerEmbeddings,
        products: dict[str, HnswlibVectorStore],
        keyword: BM25Index,
        reviews: HnswlibVectorStore,
        policies: HnswlibVectorStore,
        vocabulary: CatalogVocabulary,
        version: int = 0,
    ) -> None:
        self.embedder = embedder
        self.products = products  # one vector store per field of PRODUCT_VECTOR_FIELDS
        self.keyword = keyword
        self.reviews = reviews
        self.policies = policies
        self.vocabulary = vocabulary
        self.version = version
        self.embedded = 0  # texts sent to the model during the last apply (cache misses)
        self._snapshot: list[Product] | None = None
        self._derived: OrderedDict[Any, Any] = OrderedDict()
        self._derived_lock = threading.Lock()

    def catalog_snapshot(self, catalog: Any) -> list[Product]:
        """Every product, read from the catalog once per loaded index (for whole-catalog filtering)."""
        if self._snapshot is None:
            self._snapshot = list(catalog.iter_products())
        return self._snapshot

    def derived(self, key: Any, compute: Callable[[], Any], *, keep: int = 64) -> Any:
        """``compute()``, remembered under ``key`` until the index changes (the last ``keep`` keys).

        For lists worked out from the whole catalog snapshot, such as a browse order: scanning 100,000 products
        takes seconds, so it is done once per index version rather than once per request.
        """
        with self._derived_lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
        value = compute()  # outside the lock: two threads may compute the same value once each
        with self._derived_lock:
            self._derived[key] = value
            while len(self._derived) > keep:
                self._derived.popitem(last=False)
        return value

    @classmethod
    def empty(cls, embedder: SentenceTransformerEmbeddings) -> StoreIndex:
        def store() -> HnswlibVectorStore:
            # ef 128: the hybrid ranker asks for ~100 candidates, and recall at that depth needs it
            return HnswlibVectorStore(embedder, dimension=embedder.dimension, ef_search=128)

        products = {name: store() for name in PRODUCT_VECTOR_FIELDS}
        return cls(embedder, products, BM25Index(), store(), store(), CatalogVocabulary.from_products([]))

    def apply(self, changes: Changes, vocabulary: CatalogVocabulary | None = None) -> None:
        """Upsert and delete exactly the given records; embed only text the cache lacks."""
        before = self.embedder.encoded
        if changes.deleted_products:
            for store in self.products.values():
                store.delete(changes.deleted_products)
            for pid in changes.deleted_products:
                self.keyword.remove(pid)
        if changes.products:
            ids = [p.id for p in changes.products]
            for name, compose in PRODUCT_VECTOR_FIELDS.items():
                self.products[name].add_vectors(ids, self.embedder.encode([compose(p) for p in changes.products]))
            for product in changes.products:
                self.keyword.remove(product.id)
                self.keyword.add(product.id, product_fields(product))
        if changes.deleted_reviews:
            self.reviews.delete(changes.deleted_reviews)
        if changes.reviews:
            passages = [review_passage(r) for r in changes.reviews]
            metadata = [{"product_id": r.product_id, "rating": r.rating, "date": r.date} for r in changes.reviews]
            self.reviews.add_vectors([r.id for r in changes.reviews], self.embedder.encode(passages), passages,
                                     metadata)  # fmt: skip
        self._apply_policies(changes)
        if vocabulary is not None:
            self.vocabulary = vocabulary
        self.embedded = self.embedder.encoded - before
        self._snapshot = None
        with self._derived_lock:
            self._derived.clear()

    def _apply_policies(self, changes: Changes) -> None:
        touched = set(changes.deleted_policies) | {p.id for p in changes.policies}
        if not touched:
            return
        stale = [pid for pid in self.policies.ids() if pid.split("#", 1)[0] in touched]
        if stale:
            self.policies.delete(stale)
        passages = [(pid, text, policy.id) for policy in changes.policies for pid, text in policy_passages(policy)]
        if passages:
            self.policies.add_vectors(
                [p[0] for p in passages],
                self.embedder.encode([p[1] for p in passages]),
                [p[1] for p in passages],
                [{"policy_id": p[2]} for p in passages],
            )

    def counts(self) -> dict[str, int]:
        return {"products": len(self.keyword), "reviews": len(self.reviews), "policies": len(self.policies)}

    def save(self, directory: Path, *, version: int, catalog_versions: dict[str, int] | None = None) -> dict[str, Any]:
        """Write every part and a manifest of their SHA-256 checksums; returns the manifest."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, store in self.products.items():
            store.save(directory / "products" / name)
        self.reviews.save(directory / "reviews")
        self.policies.save(directory / "policies")
        self.keyword.save(directory / "keyword")
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary.to_dict()))
        files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
        manifest = {
            "format": FORMAT_VERSION,
            "version": version,
            "model_id": self.embedder.model_id,
            "dimension": self.embedder.dimension,
            "catalog_versions": catalog_versions or {},
            "counts": self.counts(),
            "created_at": time.time(),
            "files": {str(p.relative_to(directory)): _sha256(p) for p in files},
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2))
        self.version = version
        return manifest

    @classmethod
    def load(cls, directory: Path, embedder: SentenceTransformerEmbeddings) -> StoreIndex:
        """Load and verify a saved index; :class:`IndexCorrupt` if anything is off."""
        manifest = read_manifest(directory)
        if manifest.get("format") != FORMAT_VERSION or manifest.get("model_id") != embedder.model_id:
            raise IndexCorrupt(f"{directory} was built with another format or embedding model")
        for name, digest in manifest["files"].items():
            path = directory / name
            if not path.is_file() or _sha256(path) != digest:
                raise IndexCorrupt(f"{path} is missing or does not match its checksum")
        try:
            products = {n: HnswlibVectorStore.load(directory / "products" / n, embedder) for n in PRODUCT_VECTOR_FIELDS}
            reviews = HnswlibVectorStore.load(directory / "reviews", embedder)
            policies = HnswlibVectorStore.load(directory / "policies", embedder)
            keyword = BM25Index.load(directory / "keyword")
            vocabulary = CatalogVocabulary.from_dict(json.loads((directory / "vocabulary.json").read_text()))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorrupt(f"{directory} could not be read: {exc}") from exc
        return cls(embedder, products, keyword, reviews, policies, vocabulary, version=int(manifest["version"]))


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{directory} has no readable manifest: {exc}") from exc
    return manifest
