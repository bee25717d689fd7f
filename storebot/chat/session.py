"""What the chat remembers about a session besides its messages: focus, page, last query, turns.

The state is a Redis hash next to the history, ``storebot:{store}:chat:{session}:state``,
with the same TTL. It lets follow-ups resolve: "the first one" (``focus``),
"the first one you showed before that" (``focus_history``), "is it waterproof?"
on a product page (``page_context``) and "in blue?" after a search (``last_query``).

Example:
    >>> sessions = SessionStore(redis.Redis(), StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> chat = sessions.open("sess_4f2a9c1e")  # doctest: +SKIP
    >>> shown = [FocusItem("1001", "1001-blue-m"), FocusItem("1004")]
    >>> chat.update(focus=shown, new_turn=True).focus_ids  # doctest: +SKIP
    ['1001', '1004']
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from storebot.chat.memory import DEFAULT_MAX_MESSAGES, DEFAULT_TTL, RedisChatMessageHistory, validate_session_id
from storebot.keys import StoreKeys

FOCUS_HISTORY_LIMIT = 5  # older answers' product lists kept for "the one you showed before"
FOCUS_LIMIT = 50


@dataclass(frozen=True)
class FocusItem:
    """A product shown in an answer, with the variant that matched the query, if any."""

    product_id: str
    variant_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "variant_id": self.variant_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FocusItem:
        variant = data.get("variant_id")
        return cls(str(data["product_id"]), str(variant) if variant else None)


@dataclass
class LastQuery:
    """The last standalone search query and its filters, for merging a follow-up like "in blue?"."""

    query: str
    filters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "filters": self.filters}


@dataclass
class SessionState:
    """A session's conversational state; ``focus`` lists the latest answer's products, most relevant first."""

    focus: list[FocusItem] = field(default_factory=list)
    focus_history: list[list[FocusItem]] = field(default_factory=list)  # newest first
    page_context: dict[str, Any] = field(default_factory=dict)  # {"product_id": "1001", "cart": ["1003"]}
    last_query: LastQuery | None = None
    subject: list[str] = field(default_factory=list)  # the products the conversation is about now
    turns: int = 0
    updated_at: float = 0.0

    @property
    def focus_ids(self) -> list[str]:
        return [item.product_id for item in self.focus]

    def shown(self, answers_ago: int = 0) -> list[FocusItem]:
        """The products of the latest answer (0), the one before (1), ...; empty if not remembered."""
        if answers_ago == 0:
            return list(self.focus)
        if 0 < answers_ago <= len(self.focus_history):
            return list(self.focus_history[answers_ago - 1])
        return []

    def to_hash(self) -> dict[str, str]:
        return {
            "focus": json.dumps([i.to_dict() for i in self.focus]),
            "focus_history": json.dumps([[i.to_dict() for i in items] for items in self.focus_history]),
            "page_context": json.dumps(self.page_context, ensure_ascii=False),
            "last_query": json.dumps(self.last_query.to_dict() if self.last_query else None, ensure_ascii=False),
            "subject": json.dumps(self.subject),
            "turns": str(self.turns),
            "updated_at": repr(self.updated_at),
        }

    @classmethod
    def from_hash(cls, raw: Mapping[bytes | str, bytes | str]) -> SessionState:
        data = {_text(k): _text(v) for k, v in raw.items()}
        if not data:
            return cls()
        last = json.loads(data.get("last_query") or "null")
        return cls(
            focus=[FocusItem.from_dict(i) for i in json.loads(data.get("focus") or "[]")],
            focus_history=[
                [FocusItem.from_dict(i) for i in items] for items in json.loads(data.get("focus_history") or "[]")
            ],
            page_context=json.loads(data.get("page_context") or "{}"),
            last_query=LastQuery(last["query"], dict(last.get("filters") or {})) if last else None,
            subject=[str(i) for i in json.loads(data.get("subject") or "[]")],
            turns=int(data.get("turns") or 0),
            updated_at=float(data.get("updated_at") or 0.0),
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ChatSession:
    """One shopper session of one store: its message history and its state, sharing a TTL."""

    def __init__(
        self,
        client: redis.Redis,
        keys: StoreKeys,
        session_id: str,
        *,
        ttl: int = DEFAULT_TTL,
        max_messages: int | None = DEFAULT_MAX_MESSAGES,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.session_id = validate_session_id(session_id)
        self.ttl = ttl
        self.history = RedisChatMessageHistory(client, keys, session_id, ttl=ttl, max_messages=max_messages)

    @property
    def state_key(self) -> str:
        """The Redis hash holding this session's state."""
        return self.keys("chat", self.session_id, "state")

    def _index(self, pipe: redis.client.Pipeline, now: float) -> None:
        """Record this session's activity in the store's session index (newest first; expired ones trimmed)."""
        index = session_index_key(self.keys)
        pipe.zadd(index, {self.session_id: now})
        pipe.zremrangebyscore(index, 0, now - self.ttl)

    def load(self) -> SessionState:
        """The stored state, or a fresh one if the session is new or expired."""
        return SessionState.from_hash(self.redis.hgetall(self.state_key))

    def save(self, state: SessionState) -> None:
        """Replace the stored state and refresh the TTL of both state and history."""
        state.updated_at = time.time()
        with self.redis.pipeline() as pipe:
            pipe.delete(self.state_key)
            pipe.hset(self.state_key, mapping=state.to_hash())
            pipe.expire(self.state_key, self.ttl)
            pipe.expire(self.history.key, self.ttl)
            self._index(pipe, state.updated_at)
            pipe.execute()

    def update(
        self,
        *,
        focus: Sequence[FocusItem | str] | None = None,
        page_context: Mapping[str, Any] | None = None,
        last_query: LastQuery | None = None,
        subject: Sequence[str] | None = None,
        new_turn: bool = False,
    ) -> SessionState:
        """Change some fields atomically (WATCH/MULTI) and return the new state.

        ``None`` leaves a field as it is. A new ``focus`` (product ids or
        ``FocusItem``) pushes the previous one onto ``focus_history`` (newest
        first, at most ``FOCUS_HISTORY_LIMIT``) unless it is the same list;
        an empty list clears the focus. ``new_turn`` counts a turn.
        """
        new_focus = None if focus is None else [_focus_item(i) for i in focus][:FOCUS_LIMIT]

        def apply(pipe: redis.client.Pipeline) -> SessionState:
            state = SessionState.from_hash(pipe.hgetall(self.state_key))
            if new_focus is not None and new_focus != state.focus:
                if state.focus:
                    state.focus_history = [state.focus, *state.focus_history][:FOCUS_HISTORY_LIMIT]
                state.focus = new_focus
            if page_context is not None:
                state.page_context = dict(page_context)
            if last_query is not None:
                state.last_query = LastQuery(last_query.query, dict(last_query.filters))
            if subject is not None:
                state.subject = list(subject)
            if new_turn:
                state.turns += 1
            state.updated_at = time.time()
            pipe.multi()
            pipe.hset(self.state_key, mapping=state.to_hash())
            pipe.expire(self.state_key, self.ttl)
            pipe.expire(self.history.key, self.ttl)
            self._index(pipe, state.updated_at)
            return state

        return self.redis.transaction(apply, self.state_key, value_from_callable=True)  # type: ignore[no-any-return]

    def touch(self) -> None:
        """Restart the TTL of both history and state, e.g. when a shopper reopens the widget."""
        with self.redis.pipeline() as pipe:
            pipe.expire(self.state_key, self.ttl)
            pipe.expire(self.history.key, self.ttl)
            self._index(pipe, time.time())
            pipe.execute()

    def clear(self) -> None:
        """Forget the session: its state, its history and its place in the session index."""
        with self.redis.pipeline() as pipe:
            pipe.delete(self.state_key, self.history.key)
            pipe.zrem(session_index_key(self.keys), self.session_id)
            pipe.execute()


def session_index_key(keys: StoreKeys) -> str:
    """The store's sorted set of chat session ids, scored by last activity (epoch seconds)."""
    return keys("chat_sessions")


def _focus_item(item: FocusItem | str) -> FocusItem:
    return item if isinstance(item, FocusItem) else FocusItem(str(item))


class SessionStore:
    """Opens the chat sessions of one store, with the store's TTL and history cap.

    Example:
        .. code-block:: python

            sessions = SessionStore(redis.Redis(), StoreKeys("storebot", "demo"), ttl=7 * 86400)
            chat = sessions.open(new_session_id())
            chat.history.add_messages([HumanMessage("tents?"), AIMessage("Two tents fit.")])
            chat.update(focus=["2001", "2004"], last_query=LastQuery("tent", {"capacity": 2}), new_turn=True)

            # For RunnableWithMessageHistory(get_session_history=...):
            sessions.history
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: StoreKeys,
        *,
        ttl: int = DEFAULT_TTL,
        max_messages: int | None = DEFAULT_MAX_MESSAGES,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.ttl = ttl
        self.max_messages = max_messages

    def open(self, session_id: str) -> ChatSession:
        """The session ``session_id`` (validated); it need not exist yet."""
        return ChatSession(self.redis, self.keys, session_id, ttl=self.ttl, max_messages=self.max_messages)

    def history(self, session_id: str) -> RedisChatMessageHistory:
        """Just the message history of ``session_id``."""
        return self.open(session_id).history

    def state(self, session_id: str) -> SessionState:
        """Just the state of ``session_id``."""
        return self.open(session_id).load()
