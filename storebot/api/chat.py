"""The chat API: JSON and server-sent events for shoppers (publishable key), handoffs and feedback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from storebot.api.auth import (
    add_cors_headers,
    answer_preflight,
    current_store,
    require_publishable_key,
    require_secret_key,
    services,
)
from storebot.api.limits import leased_stream
from storebot.api.sse import SSE_HEADERS, sse_stream
from storebot.chat.types import ChatRequest
from storebot.errors import StorebotError

bp = Blueprint("chat", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)
bp.before_request(answer_preflight)

MAX_CART_ITEMS = 50


def _chat_service() -> Any:
    from storebot.chat.service import ChatService

    svc = services()
    if "chat_service" not in svc.__dict__:
        svc.__dict__["chat_service"] = ChatService.from_services(svc)
    return svc.__dict__["chat_service"]


def _chat_request() -> ChatRequest:
    from storebot.chat.memory import new_session_id, validate_session_id

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise StorebotError('Send a JSON body like {"message": "..."}.', fix="Set Content-Type: application/json.")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise StorebotError("message is required.", fix='Send {"message": "waterproof jacket under $150"}.')
    max_chars = int(current_app.config["CHAT_MAX_MESSAGE_CHARS"])
    if len(message) > max_chars:
        raise StorebotError(f"message is longer than {max_chars} characters.", fix="Shorten it.")
    session_id = body.get("session_id") or new_session_id()
    validate_session_id(session_id)
    page = body.get("page_context") or {}
    if not isinstance(page, dict):
        raise StorebotError("page_context must be an object.", fix='Send e.g. {"product_id": "1001", "cart": []}.')
    cart = page.get("cart") or []
    if not isinstance(cart, list) or len(cart) > MAX_CART_ITEMS:
        raise StorebotError(f"page_context.cart must be a list of at most {MAX_CART_ITEMS} product ids.")
    context = {"product_id": str(page["product_id"])[:128] if page.get("product_id") else None,
               "cart": [str(i)[:128] for i in cart]}  # fmt: skip
    return ChatRequest(current_store().id, session_id, message.strip(), context)


@bp.post("/chat")
@require_publishable_key
def chat():  # type: ignore[no-untyped-def]
    return jsonify(_chat_service().respond(_chat_request()).to_dict())


@bp.post("/chat/stream")
@require_publishable_key
def chat_stream():  # type: ignore[no-untyped-def]
    chat_request = _chat_request()
    service = _chat_service()

    def events() -> Any:
        for name, data in service.stream(chat_request):
            yield name, (data["response"].to_dict() if name == "done" else data)

    stream = leased_stream(current_store().id, chat_request.session_id, sse_stream(events))  # 429 if too many
    response = Response(stream_with_context(stream), mimetype="text/event-stream", headers=SSE_HEADERS)
    response.headers["X-Storebot-Session"] = chat_request.session_id
    return response


@bp.get("/chat/<session_id>/history")
@require_publishable_key
def history(session_id: str):  # type: ignore[no-untyped-def]
    return jsonify(_chat_service().history(current_store().id, session_id))


@bp.delete("/chat/<session_id>")
@require_publishable_key
def forget(session_id: str):  # type: ignore[no-untyped-def]
    _chat_service().forget(current_store().id, session_id)
    return jsonify({"deleted": True, "session_id": session_id})


@bp.post("/chat/<session_id>/feedback")
@require_publishable_key
def feedback(session_id: str):  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise StorebotError('Send {"rating": "up" | "down", "comment": "..."}.')
    rating, comment, turn = body.get("rating"), body.get("comment") or "", body.get("turn")
    if not isinstance(rating, str) or not isinstance(comment, str) or not isinstance(turn, str | int | None):
        raise StorebotError("rating and comment must be strings, turn a message id or index.",
                            fix='Send {"rating": "up", "comment": "...", "turn": "<message_id>"}.')  # fmt: skip
    saved = _chat_service().feedback(current_store().id, session_id, rating, comment, turn)
    return jsonify(saved), 201


@bp.get("/handoffs")
@require_secret_key
def handoffs():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 50, type=int) or 50, 1), 200)
    return jsonify({"items": _chat_service().handoffs(current_store().id, limit)})


@bp.get("/feedback")
@require_secret_key
def list_feedback():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 50, type=int) or 50, 1), 200)
    return jsonify({"items": _chat_service().feedback_list(current_store().id, limit)})
