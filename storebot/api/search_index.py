"""Merchant view of the search index: its published version and size, and searches with their scores (secret key).

``GET /api/v1/search`` is for shoppers (publishable key, CORS); the merchant's dashboard tries queries through
``GET /api/v1/index/search`` with the secret key instead, and gets the same result with the ranking signals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request

from storebot.api.auth import current_store, require_secret_key, services
from storebot.api.search import _limit, _offset, _query
from storebot.retrieval.filters import Filters
from storebot.retrieval.indexer import IndexRepository, pending
from storebot.retrieval.search import search_products

bp = Blueprint("search_index", __name__, url_prefix="/api/v1")


def _size(directory: Path) -> tuple[int, int]:
    files = [p for p in directory.rglob("*") if p.is_file()] if directory.is_dir() else []
    return sum(p.stat().st_size for p in files), len(files)


@bp.get("/index")
@require_secret_key
def index_status():  # type: ignore[no-untyped-def]
    store_id = current_store().id
    svc = services()
    repo = IndexRepository(svc.redis, svc.keys(store_id), svc.index_root)
    version = repo.published()
    manifest: dict[str, Any] = repo.manifest() or {}
    size_bytes, files = _size(repo.directory(version)) if version else (0, 0)
    catalog = svc.catalog(store_id)
    return jsonify({
        "version": version,
        "created_at": manifest.get("created_at"),
        "model_id": manifest.get("model_id"),
        "dimension": manifest.get("dimension"),
        "counts": manifest.get("counts", {}),
        "size_bytes": size_bytes,
        "files": files,
        "catalog": {kind: catalog.count(kind) for kind in ("products", "reviews", "policies")},
        "pending_changes": {kind: len(ids) for kind, ids in pending(svc.redis, svc.keys(store_id)).items()},
    })  # fmt: skip


@bp.get("/index/search")
@require_secret_key
def merchant_search():  # type: ignore[no-untyped-def]
    store_id = current_store().id
    result = search_products(
        services().indexes, services().catalog(store_id), store_id, _query(),
        limit=_limit(), offset=_offset(), filters=Filters.from_params(request.args) or None,
    )  # fmt: skip
    return jsonify(result.to_dict())
