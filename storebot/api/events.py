"""Shopper events: ``POST /api/v1/events`` with the publishable key, from the widget or the host page."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from storebot.api.auth import add_cors_headers, answer_preflight, current_store, require_publishable_key, services
from storebot.errors import StorebotError
from storebot.insights.events import InvalidEvent, event_list
from storebot.tasks.recommendations import refresh_after_events

bp = Blueprint("events", __name__, url_prefix="/api/v1")
bp.after_request(add_cors_headers)
bp.before_request(answer_preflight)


@bp.post("/events")
@require_publishable_key
def record_events():  # type: ignore[no-untyped-def]
    """One event or ``{"events": [...]}``: 202 with how many were kept and why the others were not.

    Add-to-carts and purchases that link products also schedule a debounced refresh of their goes-with lists.
    """
    body = request.get_json(silent=True)
    try:
        events = event_list(body)
    except InvalidEvent as exc:
        raise StorebotError(
            f"{exc}.",
            fix='Send {"type": "view", "product_id": "1001", "session_id": "..."} with Content-Type: application/json.',
        ) from exc
    store_id = current_store().id
    outcome = services().events(store_id).record_batch(events)
    rejected = {r["index"] for r in outcome["rejected"]}
    refresh_after_events(store_id, [e for i, e in enumerate(events) if i not in rejected])
    return jsonify(outcome), 202
