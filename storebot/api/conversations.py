"""Merchant API over the store's chat sessions: a searchable list and readable transcripts (secret key)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from storebot.api.auth import current_store, require_secret_key, services
from storebot.chat.transcripts import get_conversation, list_conversations
from storebot.errors import StorebotError

bp = Blueprint("conversations", __name__, url_prefix="/api/v1")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip() or str(default)
    if not raw.isdigit():
        raise StorebotError(f"{name} must be a whole number.", fix=f"Send e.g. {name}={default}.")
    return int(raw)


@bp.get("/conversations")
@require_secret_key
def conversations():  # type: ignore[no-untyped-def]
    store_id = current_store().id
    page = list_conversations(services().redis, services().keys(store_id), q=request.args.get("q", ""),
                              limit=_int_arg("limit", 20), cursor=_int_arg("cursor", 0))  # fmt: skip
    return jsonify(page)


@bp.get("/conversations/<session_id>")
@require_secret_key
def conversation(session_id: str):  # type: ignore[no-untyped-def]
    store_id = current_store().id
    svc = services()
    return jsonify(get_conversation(svc.redis, svc.keys(store_id), svc.catalog(store_id), session_id))
