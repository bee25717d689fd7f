"""Conversation memory: a shopper's messages in plain Redis, and trimming them to a token budget.

A session's history is one Redis list, ``storebot:{store}:chat:{session}``,
of JSON messages in the order they were said. No Redis Stack module is needed
(langchain-redis needs RediSearch). The list expires ``ttl`` seconds after the
last message and never holds more than ``max_messages``.

Example:
    >>> keys = StoreKeys("storebot", "demo")
    >>> history = RedisChatMessageHistory(redis.Redis(), keys, new_session_id())  # doctest: +SKIP
    >>> history.add_messages([HumanMessage("rain jackets?"), AIMessage("Here are three.")])  # doctest: +SKIP
    >>> recent_within_budget(history.messages, max_tokens=1000)[-1].text  # doctest: +SKIP
    'Here are three.'
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Sequence

import redis
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, message_to_dict, messages_from_dict

from storebot.chat.tokens import count_message_tokens, message_tokens
from storebot.errors import StorebotError
from storebot.keys import StoreKeys

DEFAULT_TTL = 7 * 86400
DEFAULT_MAX_MESSAGES = 200
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SUMMARY_ID = "storebot-history-summary"
SUMMARY_PREFIX = "Earlier the shopper asked about: "
SUMMARY_MAX_TOPICS = 5
TOPIC_MAX_CHARS = 60

_SENTENCE_END = re.compile(r"(?<=[?!.])\s+")
# Openers that carry no topic: "do you have any rain jackets" is about "rain jackets".
_FILLER = re.compile(
    r"^(?:(?:hi|hello|hey|ok(?:ay)?|thanks|thank you|please|so|and|also|well)[,!.]?\s+)*"
    r"(?:(?:can|could|would) you\s+)?"
    r"(?:(?:do|does) you (?:have|sell|carry|stock)|(?:show|find|get|give) me|i(?:'m| am) looking for|"
    r"looking for|i (?:need|want|would like)|i'd like|what about|how about|are there|is there|"
    r"(?:please\s+)?recommend|search for)?\s*"
    r"(?:(?:some|any|a|an|the)\s+)?",
    re.IGNORECASE,
)


def new_session_id() -> str:
    """A fresh, unguessable session id (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is 8-64 letters, digits, ``_`` or ``-``; raise otherwise."""
    if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
        shown = session_id[:80] if isinstance(session_id, str) else type(session_id).__name__
        raise StorebotError(
            f"{shown!r} is not a valid chat session id.",
            fix="Use 8 to 64 letters, digits, '_' or '-', or omit it to start a new session.",
        )
    return session_id


class RedisChatMessageHistory(BaseChatMessageHistory):
    """A session's chat history as a Redis list of JSON messages, with a TTL and a length cap.

    Every ``add_messages`` refreshes the TTL and trims the list to its newest
    ``max_messages`` (the cap may split the oldest turn; ``recent_within_budget``
    copes). Messages without an ``id`` get one, so an answer can be referred to
    later, e.g. by shopper feedback.

    Args:
        client: A redis-py client (``decode_responses`` either way).
        keys: The store's key namespace.
        session_id: The shopper's session; validated with ``validate_session_id``.
        ttl: Seconds the history lives after its last message; ``None`` keeps it forever.
        max_messages: The most messages kept; ``None`` keeps them all.

    Example:
        .. code-block:: python

            import redis
            from langchain_core.messages import AIMessage, HumanMessage

            from storebot.chat.memory import RedisChatMessageHistory
            from storebot.keys import StoreKeys

            history = RedisChatMessageHistory(
                redis.Redis(), StoreKeys("storebot", "demo"), "sess_4f2a9c1e", ttl=3600, max_messages=100
            )
            history.add_messages([HumanMessage("Do you have rain jackets?"), AIMessage("Yes, three.")])
            history.messages  # [HumanMessage(...), AIMessage(...)]
            history.clear()
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: StoreKeys,
        session_id: str,
        *,
        ttl: int | None = DEFAULT_TTL,
        max_messages: int | None = DEFAULT_MAX_MESSAGES,
    ) -> None:
        if max_messages is not None and max_messages < 1:
            raise StorebotError(f"max_messages must be at least 1, not {max_messages}.", fix="Use e.g. 200.")
        self.redis = client
        self.keys = keys
        self.session_id = validate_session_id(session_id)
        self.ttl = ttl
        self.max_messages = max_messages

    @property
    def key(self) -> str:
        """The Redis list holding this session's messages."""
        return self.keys("chat", self.session_id)

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """All stored messages, oldest first."""
        return self._decode(self.redis.lrange(self.key, 0, -1))

    def recent(self, count: int) -> list[BaseMessage]:
        """The newest ``count`` messages, oldest first, read without loading the rest."""
        if count <= 0:
            return []
        return self._decode(self.redis.lrange(self.key, -count, -1))

    def __len__(self) -> int:
        return int(self.redis.llen(self.key))

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages in one round trip, then trim to the cap and refresh the TTL."""
        if not messages:
            return
        encoded = [json.dumps(message_to_dict(_with_id(m)), ensure_ascii=False) for m in messages]
        with self.redis.pipeline() as pipe:  # MULTI/EXEC: a reader never sees the list untrimmed
            pipe.rpush(self.key, *encoded)
            if self.max_messages is not None:
                pipe.ltrim(self.key, -self.max_messages, -1)
            if self.ttl is not None:
                pipe.expire(self.key, self.ttl)
            pipe.execute()

    def clear(self) -> None:
        """Delete the session's history."""
        self.redis.delete(self.key)

    @staticmethod
    def _decode(raw: list[bytes] | list[str]) -> list[BaseMessage]:
        return messages_from_dict([json.loads(item) for item in raw])


def _with_id(message: BaseMessage) -> BaseMessage:
    return message if message.id else message.model_copy(update={"id": uuid.uuid4().hex})


def _turns(messages: Sequence[BaseMessage]) -> list[list[BaseMessage]]:
    """Group messages into turns; a turn starts at each human message."""
    turns: list[list[BaseMessage]] = []
    for message in messages:
        if isinstance(message, HumanMessage) or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def recent_within_budget(
    messages: Sequence[BaseMessage], max_tokens: int, *, summarize: bool = True
) -> list[BaseMessage]:
    """The newest messages that fit in ``max_tokens``, whole turns where possible.

    Turns are kept newest first until the next one would not fit; older turns
    are dropped even if smaller, so the kept history has no gaps. If even the
    newest turn is too big, its newest messages that fit are kept. With
    ``summarize``, dropped shopper questions become one deterministic system
    line (``"Earlier the shopper asked about: rain jackets; tents"``, with id
    ``SUMMARY_ID``) placed first; it counts against the budget too. No LLM is
    called. Counts use ``storebot.chat.tokens`` (framing included).
    """
    turns = _turns(messages)
    costs = [sum(message_tokens(m) for m in turn) for turn in turns]
    first_kept = len(turns)
    used = 0
    while first_kept > 0 and used + costs[first_kept - 1] <= max_tokens:
        first_kept -= 1
        used += costs[first_kept]
    kept = [m for turn in turns[first_kept:] for m in turn]
    dropped = [m for turn in turns[:first_kept] for m in turn]
    if not kept and turns:
        # The newest turn alone is over budget: keep its tail, message by message.
        newest = turns[-1]
        tail: list[BaseMessage] = []
        for message in reversed(newest):
            if used + message_tokens(message) > max_tokens:
                break
            tail.insert(0, message)
            used += message_tokens(message)
        kept = tail
        dropped = [m for turn in turns[:-1] for m in turn] + newest[: len(newest) - len(tail)]
    if not summarize or not dropped:
        return kept
    summary = summarize_dropped(dropped)
    while summary is not None and count_message_tokens([summary, *kept]) > max_tokens:
        if not kept:
            return []
        # Make room for the summary by dropping the oldest kept turn as well.
        cut = _turns(kept)[0]
        kept = kept[len(cut) :]
        dropped += cut
        summary = summarize_dropped(dropped)
    return [summary, *kept] if summary is not None else kept


def summarize_dropped(messages: Sequence[BaseMessage]) -> SystemMessage | None:
    """One system line naming the topics of the shopper's dropped questions (newest few), or None."""
    topics: list[str] = []  # newest first while collecting, so a topic asked again counts as recent
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and len(topics) < SUMMARY_MAX_TOPICS:
            topic = question_topic(message.text)
            if topic and topic.lower() not in (t.lower() for t in topics):
                topics.append(topic)
    if not topics:
        return None
    return SystemMessage(SUMMARY_PREFIX + "; ".join(reversed(topics)), id=SUMMARY_ID)


def question_topic(text: str) -> str:
    """A short topic for a question: ``"Do you have any rain jackets?"`` -> ``"rain jackets"``."""
    sentences = _SENTENCE_END.split(" ".join(text.split()))
    line = next((s for s in sentences if s.endswith("?")), sentences[0])  # the question, not the chatter
    topic = _FILLER.sub("", line, count=1).strip(" ?!.,;:")
    topic = topic or line.strip(" ?!.,;:")
    if len(topic) > TOPIC_MAX_CHARS:
        topic = topic[:TOPIC_MAX_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return topic.replace(";", ",")
