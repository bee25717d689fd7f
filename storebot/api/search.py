"""Shopper-facing search (publishable key, CORS for the store's origins)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from storebot.api.auth import add_cors_headers, answer_preflight, current_store, require_publishable_key, services
from storebot.errors import StorebotError
from storebot.retrieval.filters import Filters
from storebot.retrieval.passages import search_reviews
from storebot.retrieval.search import MAX_DEPTH, IndexNotReady, search_products

bp = Blueprint("search", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)
bp.before_request(answer_preflight)

MAX_QUERY_CHARS = 500


def _limit(default: int = 10) -> int:
    maximum = int(current_app.config["SEARCH_LIMIT_MAX"])
    raw = request.args.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise StorebotError(f"limit must be a whole number from 1 to {maximum}.", fix="Send e.g. limit=10.")
    return int(raw)


def _offset() -> int:
    raw = request.args.get("offset", "0")
    if not raw.isdigit() or int(raw) >= MAX_DEPTH:
        raise StorebotError(f"offset must be a whole number from 0 to {MAX_DEPTH - 1}.",
                            fix="Send the next_offset of the previous page, e.g. offset=10.")  # fmt: skip
    return int(raw)


def _query() -> str:
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise StorebotError(f"The query is longer than {MAX_QUERY_CHARS} characters.", fix="Shorten it.")
    return query


@bp.get("/search")
@require_publishable_key
def search():  # type: ignore[no-untyped-def]
    store = current_store()
    result = search_products(
        services().indexes, services().catalog(store.id), store.id, _query(),
        limit=_limit(), offset=_offset(), filters=Filters.from_params(request.args) or None,
    )  # fmt: skip
    return jsonify(result.to_dict())


@bp.get("/products/<product_id>/review-passages")
@require_publishable_key
def review_passages(product_id: str):  # type: ignore[no-untyped-def]
    """The reviews of one product that best answer ``q`` (e.g. "how does it fit")."""
    store = current_store()
    query = _query() or "what do reviewers say"
    index = services().indexes.get(store.id)
    if index is None:
        raise IndexNotReady(f"Store {store.id!r} has no search index yet.", fix="Sync a catalog first.")
    services().catalog(store.id).get_product(product_id)  # 404 for unknown products
    passages = search_reviews(index, query, product_ids=[product_id], k=_limit(5))
    return jsonify({"product_id": product_id, "query": query, "items": [p.to_dict() for p in passages]})
