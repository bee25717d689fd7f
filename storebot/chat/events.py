"""Records a merchant sees: handoffs to a human, and shoppers' ratings of answers.

Both are capped Redis lists of JSON records, newest first:
``storebot:{store}:handoffs`` and ``storebot:{store}:feedback``. A feedback
record carries the rated answer and the question before it, so it can become
fine-tuning data without the (expiring) history. Rating the same answer again
adds a new record; consumers keep the newest per ``(session_id, message_id)``.

Example:
    >>> keys = StoreKeys("storebot", "demo")  # doctest: +SKIP
    >>> record_handoff(client, keys, "sess_4f2a9c1e", "Can I talk to a person?", "shopper_asked")  # doctest: +SKIP
    >>> list_handoffs(client, keys, limit=1)[0].reason  # doctest: +SKIP
    'shopper_asked'
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal

import redis
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from storebot.chat.memory import RedisChatMessageHistory, validate_session_id
from storebot.errors import NotFound, StorebotError
from storebot.keys import StoreKeys

RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 1000
MAX_REASON_CHARS = 200
MAX_TEXT_CHARS = 4000  # a stored question or answer; longer ones are cut, not refused
HANDOFF_CAP = 1000
FEEDBACK_CAP = 10000
MAX_PAGE = 500

Rating = Literal["up", "down"]


@dataclass
class Handoff:
    """A shopper's request for a human, or the chain giving up."""

    id: str
    session_id: str
    message: str
    reason: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Feedback:
    """A shopper's rating of one answer, with the question and answer it was about."""

    id: str
    session_id: str
    message_id: str
    rating: str
    comment: str
    question: str
    answer: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_handoff(
    client: redis.Redis, keys: StoreKeys, session_id: str, message: str, reason: str, *, cap: int = HANDOFF_CAP
) -> Handoff:
    """Record that ``session_id`` was handed to a human; keeps the newest ``cap`` handoffs."""
    validate_session_id(session_id)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise StorebotError(
            f"A handoff reason must be 1 to {MAX_REASON_CHARS} characters, not {len(reason)}.",
            fix="Use a short code such as 'shopper_asked' or 'grounding_failed'.",
        )
    handoff = Handoff(uuid.uuid4().hex, session_id, _cut(message), reason, time.time())
    _push(client, keys("handoffs"), handoff.to_dict(), cap)
    return handoff


def list_handoffs(client: redis.Redis, keys: StoreKeys, *, limit: int = 50, offset: int = 0) -> list[Handoff]:
    """Handoffs, newest first."""
    return [Handoff(**d) for d in _page(client, keys("handoffs"), limit, offset)]


def count_handoffs(client: redis.Redis, keys: StoreKeys) -> int:
    """How many handoffs are kept."""
    return int(client.llen(keys("handoffs")))


def record_feedback(
    client: redis.Redis,
    keys: StoreKeys,
    session_id: str,
    message_ref: int | str,
    rating: str,
    comment: str = "",
    *,
    cap: int = FEEDBACK_CAP,
) -> Feedback:
    """Record a rating of one answer, copying its question and answer text from the history.

    Args:
        client: A redis-py client.
        keys: The store's key namespace.
        session_id: The shopper's session.
        message_ref: The answer's message id (every stored message has one), or its
            index in the session's history (negative counts from the end: -1 is the last).
            A shopper message's index means the answer that followed it.
        rating: ``"up"`` or ``"down"``.
        comment: Optional, at most ``MAX_COMMENT_CHARS`` characters.
        cap: The most feedback records kept for the store.

    Raises:
        StorebotError: For a bad rating, an overlong comment or a bad session id.
        NotFound: If the session has no such answer (it may have expired).
    """
    validate_session_id(session_id)
    if rating not in RATINGS:
        raise StorebotError(f"{str(rating)[:40]!r} is not a rating.", fix="Send 'up' or 'down'.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise StorebotError(
            f"The comment is {len(comment)} characters long; the limit is {MAX_COMMENT_CHARS}.",
            fix=f"Shorten it to {MAX_COMMENT_CHARS} characters or fewer.",
        )
    messages = RedisChatMessageHistory(client, keys, session_id, ttl=None, max_messages=None).messages
    question, answer = _find_turn(messages, message_ref)
    feedback = Feedback(
        id=uuid.uuid4().hex,
        session_id=session_id,
        message_id=answer.id or "",
        rating=rating,
        comment=comment,
        question=_cut(question.text) if question else "",
        answer=_cut(answer.text),
        created_at=time.time(),
    )
    _push(client, keys("feedback"), feedback.to_dict(), cap)
    return feedback


def list_feedback(client: redis.Redis, keys: StoreKeys, *, limit: int = 50, offset: int = 0) -> list[Feedback]:
    """Feedback records, newest first."""
    return [Feedback(**d) for d in _page(client, keys("feedback"), limit, offset)]


def count_feedback(client: redis.Redis, keys: StoreKeys) -> int:
    """How many feedback records are kept."""
    return int(client.llen(keys("feedback")))


def _find_turn(messages: list[BaseMessage], ref: int | str) -> tuple[HumanMessage | None, AIMessage]:
    """The answer ``ref`` points at and the shopper message before it."""
    index: int | None = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        if -len(messages) <= ref < len(messages):
            index = ref % len(messages)
    else:
        index = next((i for i, m in enumerate(messages) if m.id == str(ref)), None)
    if index is not None and isinstance(messages[index], HumanMessage):
        index = next((i for i in range(index + 1, len(messages)) if isinstance(messages[i], AIMessage)), None)
    if index is None or not isinstance(messages[index], AIMessage):
        raise NotFound(
            f"This session has no answer {ref!r} to rate.",
            fix="Send the id of an assistant message from this session; old sessions expire.",
        )
    question = next((m for m in reversed(messages[:index]) if isinstance(m, HumanMessage)), None)
    return question, messages[index]  # type: ignore[return-value]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _push(client: redis.Redis, key: str, record: dict[str, Any], cap: int) -> None:
    with client.pipeline() as pipe:
        pipe.lpush(key, json.dumps(record, ensure_ascii=False))
        pipe.ltrim(key, 0, cap - 1)
        pipe.execute()


def _page(client: redis.Redis, key: str, limit: int, offset: int) -> list[dict[str, Any]]:
    if limit < 1 or limit > MAX_PAGE or offset < 0:
        raise StorebotError(
            f"limit must be 1 to {MAX_PAGE} and offset 0 or more (got limit={limit}, offset={offset}).",
            fix="Page with e.g. limit=50&offset=100.",
        )
    return [json.loads(item) for item in client.lrange(key, offset, offset + limit - 1)]
