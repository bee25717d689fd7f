"""Conversations as a merchant reads them: a searchable list of a store's chat sessions, and one transcript.

Sessions live in Redis as ``storebot:{store}:chat:{session}`` (messages) beside
``...:state`` (see :mod:`storebot.chat.session`), and the store's session index
(a sorted set by last activity, kept by :class:`~storebot.chat.session.ChatSession`)
lists them newest first. A store whose sessions predate the index gets it built
once, by a SCAN of its own chat keys. Every request does bounded work: at most
``MAX_SESSIONS`` sessions are considered, and a search reads at most
``MAX_SEARCHED`` histories before it returns a page with a cursor to continue from.

Example:
    >>> page = list_conversations(client, StoreKeys("storebot", "demo"), q="rain", limit=20)  # doctest: +SKIP
    >>> page["items"][0]["first_question"], page["next_cursor"]  # doctest: +SKIP
    ('a waterproof jacket under $150', None)
"""

from __future__ import annotations

import json
from typing import Any

import redis
from langchain_core.messages import messages_from_dict

from storebot.catalog.repository import CatalogRepository
from storebot.chat.cards import shown_card
from storebot.chat.events import MAX_PAGE, list_feedback, list_handoffs
from storebot.chat.history_view import stored_sources
from storebot.chat.memory import validate_session_id
from storebot.chat.session import SessionState, session_index_key
from storebot.errors import NotFound, StorebotError
from storebot.keys import StoreKeys

MAX_SESSIONS = 5000  # sessions considered per listing (the newest, by last activity)
MAX_SEARCHED = 500  # histories read per search request; the cursor continues from there
MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160
SCAN_COUNT = 1000
FEEDBACK_READ = MAX_PAGE  # the newest feedback and handoff records searched for a session's own


def list_conversations(
    client: redis.Redis, keys: StoreKeys, *, q: str = "", limit: int = 20, cursor: int = 0
) -> dict[str, Any]:
    """A page of the store's sessions, most recently active first; ``q`` keeps those whose messages contain it.

    Returns ``{"items": [...], "next_cursor": int | None, "total": int, "truncated": bool}``. ``total`` is the
    number of sessions considered (all of them unless ``truncated``); with ``q`` it is not the match count.
    """
    q = " ".join((q or "").split()).lower()
    if not 1 <= limit <= MAX_LIMIT or cursor < 0:
        raise StorebotError(f"limit must be 1 to {MAX_LIMIT} and cursor 0 or more.", fix="Send e.g. limit=20.")
    if len(q) > MAX_QUERY_CHARS:
        raise StorebotError(f"q is longer than {MAX_QUERY_CHARS} characters.", fix="Search for a shorter phrase.")
    sessions, truncated = _sessions_newest_first(client, keys)
    items: list[dict[str, Any]] = []
    position = cursor
    read = 0
    budget = MAX_SEARCHED if q else limit
    while position < len(sessions) and len(items) < limit and read < budget:
        batch = sessions[position : position + min(50, budget - read)]
        histories = _histories(client, keys, [sid for sid, _ in batch])
        for (session_id, state), raw in zip(batch, histories, strict=True):
            position += 1
            read += 1
            messages = [_plain(m) for m in raw]
            if q and not any(q in m["text"].lower() for m in messages):
                continue
            items.append(_summary(session_id, state, messages, q))
            if len(items) >= limit:
                break
    next_cursor = position if position < len(sessions) else None
    return {"items": items, "next_cursor": next_cursor, "total": len(sessions), "truncated": truncated}


def get_conversation(
    client: redis.Redis, keys: StoreKeys, catalog: CatalogRepository, session_id: str
) -> dict[str, Any]:
    """One session's transcript: messages with the product cards each answer showed, the reviews and policies it was
    based on (``sources``, as the history API returns them; absent for answers stored before sources were kept),
    feedback and handoffs."""
    validate_session_id(session_id)
    raw = client.lrange(keys("chat", session_id), 0, -1)
    if not raw:
        raise NotFound(
            f"No conversation {session_id!r} in this store.", fix="Conversations expire after CHAT_TTL_DAYS."
        )
    state = SessionState.from_hash(client.hgetall(keys("chat", session_id, "state")))
    decoded = messages_from_dict([json.loads(item) for item in raw])
    shown = {
        (c["product_id"], c.get("variant_id")) for m in decoded for c in (m.response_metadata or {}).get("cards", [])
    }
    products = {p.id: p for p in catalog.get_products(sorted({pid for pid, _ in shown} | set(state.focus_ids)))}
    ratings: dict[str, list[dict[str, Any]]] = {}
    for record in list_feedback(client, keys, limit=FEEDBACK_READ):
        if record.session_id == session_id:
            ratings.setdefault(record.message_id, []).append(
                {"rating": record.rating, "comment": record.comment, "created_at": record.created_at}
            )
    sources = stored_sources([(m.response_metadata or {}) if m.type == "ai" else {} for m in decoded], catalog)
    messages = []
    for message, shaped in zip(decoded, sources, strict=True):
        entry = _plain(message)
        if message.type == "ai":
            cards = (message.response_metadata or {}).get("cards", [])
            entry["cards"] = [shown_card(products, c["product_id"], c.get("variant_id")) for c in cards]
            entry["cards"] = [c for c in entry["cards"] if c is not None]
            entry["feedback"] = ratings.get(message.id or "", [])
            if shaped is not None:
                entry["sources"] = shaped
        messages.append(entry)
    handoffs = [h.to_dict() for h in list_handoffs(client, keys, limit=FEEDBACK_READ) if h.session_id == session_id]
    return {
        "session_id": session_id,
        "updated_at": state.updated_at or None,
        "turns": state.turns,
        "page_context": state.page_context,
        "focus": [c for c in (shown_card(products, i.product_id, i.variant_id) for i in state.focus) if c is not None],
        "messages": messages,
        "handoffs": handoffs,
    }


def _sessions_newest_first(client: redis.Redis, keys: StoreKeys) -> tuple[list[tuple[str, SessionState]], bool]:
    index = session_index_key(keys)
    if not client.exists(index):
        _build_session_index(client, keys)
    total = int(client.zcard(index))
    session_ids = [
        raw.decode() if isinstance(raw, bytes) else raw for raw in client.zrevrange(index, 0, MAX_SESSIONS - 1)
    ]
    with client.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.hgetall(keys("chat", session_id, "state"))
        states = [SessionState.from_hash(raw) for raw in pipe.execute()]
    pairs = [(sid, state) for sid, state in zip(session_ids, states, strict=True) if state.updated_at]
    pairs.sort(key=lambda p: (-p[1].updated_at, p[0]))
    return pairs, total > MAX_SESSIONS


def _build_session_index(client: redis.Redis, keys: StoreKeys) -> None:
    """Index sessions stored before the index existed: one SCAN of this store's chat histories."""
    prefix = keys("chat", "")
    pattern = prefix.replace("{", "\\{").replace("}", "\\}") + "*"
    session_ids = [
        (key.decode() if isinstance(key, bytes) else key)[len(prefix) :]
        for key in client.scan_iter(match=pattern, count=SCAN_COUNT, _type="list")
    ]
    with client.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.hget(keys("chat", session_id, "state"), "updated_at")
        stamps = pipe.execute()
    scored = {sid: float(stamp) for sid, stamp in zip(session_ids, stamps, strict=True) if stamp}
    if scored:
        client.zadd(session_index_key(keys), scored)


def _histories(client: redis.Redis, keys: StoreKeys, session_ids: list[str]) -> list[list[Any]]:
    with client.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.lrange(keys("chat", session_id), 0, -1)
        return [[json.loads(item) for item in raw] for raw in pipe.execute()]


def _plain(message: Any) -> dict[str, Any]:
    """``{"id", "role", "text"}`` from a stored message dict or a LangChain message."""
    if isinstance(message, dict):
        kind, data = message.get("type"), message.get("data") or {}
        return {"id": data.get("id"), "role": _role(kind), "text": _text(data.get("content"))}
    return {"id": message.id, "role": _role(message.type), "text": _text(message.content)}


def _role(kind: Any) -> str:
    return {"human": "shopper", "ai": "assistant"}.get(str(kind), "system")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return " ".join(str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def _summary(session_id: str, state: SessionState, messages: list[dict[str, Any]], q: str) -> dict[str, Any]:
    questions = [m["text"] for m in messages if m["role"] == "shopper"]
    match = next((m["text"] for m in messages if q and q in m["text"].lower()), "")
    return {
        "session_id": session_id,
        "updated_at": state.updated_at or None,
        "turns": state.turns or len(questions),
        "messages": len(messages),
        "first_question": _snippet(questions[0] if questions else ""),
        "last_message": _snippet(messages[-1]["text"] if messages else ""),
        "match": _snippet(match),
    }


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
