"""Recommendations for shoppers (publishable key and origin) or merchants (secret key), served from the cache."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from storebot.api.auth import (
    add_cors_headers,
    answer_preflight,
    current_store,
    require_any_key,
    services,
)
from storebot.chat.memory import validate_session_id
from storebot.errors import StorebotError
from storebot.insights.recommend import PRODUCT_KINDS, SESSION_KINDS, Recommendation

bp = Blueprint("recommendations", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)
bp.before_request(answer_preflight)

MAX_LIMIT = 50


def _kind(allowed: tuple[str, ...], default: str) -> str:
    kind = request.args.get("kind", default)
    if kind not in allowed:
        raise StorebotError(
            f"kind must be one of {', '.join(allowed)}, not {kind[:40]!r}.", fix=f"Send kind={default}."
        )
    return kind


def _limit() -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return min(int(current_app.config.get("RECS_LIMIT", 12)), MAX_LIMIT)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise StorebotError(f"limit must be a whole number from 1 to {MAX_LIMIT}.", fix="Send e.g. limit=6.")
    return int(raw)


def _body(kind: str, subject: dict[str, str], rec: Recommendation, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, **subject, "items": items, "source": rec.source,
                            "computed_at": datetime.fromtimestamp(rec.computed_at, UTC).isoformat()}  # fmt: skip
    if rec.note:
        body["note"] = rec.note
    return body


@bp.get("/products/<product_id>/recommendations")
@require_any_key
def product_recommendations(product_id: str):  # type: ignore[no-untyped-def]
    """``?kind=similar|complementary&limit=``: products like this one, or that go with it."""
    kind, limit = _kind(PRODUCT_KINDS, "similar"), _limit()
    store = current_store()
    services().catalog(store.id).get_product(product_id)  # 404 for unknown products
    recommender = services().recommender(store.id)
    rec = recommender.product(kind, product_id, limit)
    return jsonify(_body(kind, {"product_id": product_id}, rec, recommender.items(rec, limit)))


@bp.get("/recommendations")
@require_any_key
def session_recommendations():  # type: ignore[no-untyped-def]
    """``?kind=personal&session=...`` (for one shopper) or ``?kind=trending`` (the whole store)."""
    kind, limit = _kind(SESSION_KINDS, "personal"), _limit()
    recommender = services().recommender(current_store().id)
    if kind == "trending":
        rec = recommender.trending(limit)
        return jsonify(_body(kind, {}, rec, recommender.items(rec, limit)))
    session_id = request.args.get("session", "")
    if not session_id:
        raise StorebotError("kind=personal needs a session.", fix="Send session=<the widget's session id>.")
    validate_session_id(session_id)
    rec = recommender.personal(session_id, limit)
    return jsonify(_body(kind, {"session_id": session_id}, rec, recommender.items(rec, limit)))
