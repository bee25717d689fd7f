"""Readiness checks: can this process serve traffic? Redis, each store's search index, and the models.

Example:
    >>> report = readiness(services)                  # doctest: +SKIP
    >>> report["ready"], [c["name"] for c in report["checks"]]   # doctest: +SKIP
    (True, ['redis', 'indexes', 'llm', 'embeddings'])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_STORES_CHECKED = 200


def _redis(services: Any) -> str:
    services.redis.ping()
    return "reachable"


def _indexes(services: Any) -> str:
    """Every store with products has a published index whose files this process can read."""
    from storebot.retrieval.index import read_manifest
    from storebot.retrieval.indexer import IndexRepository

    missing, checked = [], 0
    for store in services.stores.list()[:MAX_STORES_CHECKED]:
        if not services.catalog(store.id).count("products"):
            continue
        checked += 1
        repo = IndexRepository(services.redis, services.keys(store.id), services.index_root)
        version = repo.published()
        if not version:
            missing.append(f"{store.id}: never indexed")
            continue
        try:
            read_manifest(repo.directory(version))
        except Exception:  # not on this host's disk, or corrupt: load it, which rebuilds it from Redis
            try:
                if services.indexes.get(store.id) is None:
                    raise RuntimeError("not loadable") from None
            except Exception as exc:
                missing.append(f"{store.id}: {getattr(exc, 'message', None) or exc}")
    if missing:
        raise RuntimeError(f"{len(missing)} store(s) without a loadable index ({'; '.join(missing[:5])}); "
                           "run `storebot index --store ID` or let the worker rebuild it")  # fmt: skip
    return f"{checked} store index(es) loadable"


def _llm(services: Any) -> str:
    from storebot.llm.registry import get_llm, spec_for_store

    spec = spec_for_store({}, services.settings)
    get_llm(spec)  # cheap: checks the install and key; weights load on first use
    return f"{spec.backend} backend available"


def _embeddings(services: Any) -> str:
    embedder = services.embedder
    return f"{getattr(embedder, 'model_name', 'embedding model')} available"


CHECKS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("redis", _redis),
    ("indexes", _indexes),
    ("llm", _llm),
    ("embeddings", _embeddings),
)


def readiness(services: Any) -> dict[str, Any]:
    """Run every check; ``ready`` is False when any fails, and each failing check says why."""
    results = []
    for name, check in CHECKS:
        try:
            results.append({"name": name, "ok": True, "detail": check(services)})
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            results.append({"name": name, "ok": False, "detail": message})
            if name == "redis":  # the other checks all need Redis
                break
    return {"ready": all(r["ok"] for r in results) and len(results) == len(CHECKS), "checks": results}
