"""The approve / reject queue of training examples, per store, in Redis.

Examples come from three sources: ``style`` (the merchant's uploaded JSONL,
approved on arrival since the merchant wrote them), ``feedback`` (a shopper's
thumbs-up on an answer, pending until the merchant approves it) and
``edited`` (an answer the merchant rewrote, approved by the edit). Every
example is scrubbed (PII, prices) before it is stored, and an example already
queued (same content hash) is not queued again.

Keys: ``storebot:{store}:tuning:example:<id>`` (JSON), the sorted sets
``tuning:examples:<status>`` (by creation time), ``tuning:approved`` (by
approval time, for the schedule), ``tuning:hashes`` and ``tuning:feedback_seen``.

Example:
    >>> queue = ExampleQueue(client, StoreKeys("storebot", "demo"))  # doctest: +SKIP
    >>> queue.sync_feedback()                                         # doctest: +SKIP
    3
    >>> queue.approve(queue.page("pending").items[0]["id"])["status"]  # doctest: +SKIP
    'approved'
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis

from storebot.chat.events import list_feedback
from storebot.errors import NotFound, StorebotError
from storebot.keys import StoreKeys
from storebot.tuning.dataset import Messages, Parsed, example_hash, parse_jsonl, scrub_messages
from storebot.tuning.scrub import scrub_text

STATUSES = ("pending", "approved", "rejected")
SOURCES = ("feedback", "edited", "style")
MAX_PAGE = 200


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


class ExampleQueue:
    """A store's training examples and their review status.

    Example:
        >>> queue = ExampleQueue(client, keys)                                            # doctest: +SKIP
        >>> queue.add([{"role": "user", "content": "Tents?"},
        ...            {"role": "assistant", "content": "Yes! Want the light ones?"}], source="style")  # doctest: +SKIP
    """

    def __init__(self, client: redis.Redis, keys: StoreKeys, *, system: str = "") -> None:
        self.redis, self.keys, self.system = client, keys, system

    def _key(self, *parts: str) -> str:
        return self.keys("tuning", *parts)

    def add(
        self, messages: Messages, *, source: str, status: str = "pending", session_id: str = "", scrubbed: bool = False
    ) -> dict[str, Any] | None:
        """Queue one example (scrubbed first); None when the same example is already queued."""
        assert source in SOURCES and status in STATUSES
        messages = messages if scrubbed else scrub_messages(messages)
        digest = example_hash(messages)
        example_id = uuid.uuid4().hex[:16]
        if not self.redis.hsetnx(self._key("hashes"), digest, example_id):
            return None
        now = time.time()
        record: dict[str, Any] = {
            "id": example_id,
            "source": source,
            "messages": messages,
            "status": status,
            "created_at": now,
            "hash": digest,
        }
        if session_id:
            record["session_id"] = session_id
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("example", example_id), json.dumps(record, ensure_ascii=False))
            pipe.zadd(self._key("examples", status), {example_id: now})
            if status == "approved":
                pipe.zadd(self._key("approved"), {example_id: now})
            pipe.execute()
        return _public(record)

    def import_jsonl(self, text: str | bytes, *, limit: int) -> dict[str, Any]:
        """Upload style examples: good lines are queued as approved, bad lines reported with their reason."""
        parsed: Parsed = parse_jsonl(text, limit=limit)
        added = skipped = 0
        for messages in parsed.examples:
            if self.add(messages, source="style", status="approved", scrubbed=True) is None:
                skipped += 1
            else:
                added += 1
        return {"added": added, "duplicates": skipped, "errors": [e.to_dict() for e in parsed.errors]}

    def sync_feedback(self, limit: int = 500) -> int:
        """Queue every thumbs-up answer not seen before as a pending example; returns how many were queued."""
        added = 0
        for record in reversed(list_feedback(self.redis, self.keys, limit=limit)):
            if record.rating != "up" or not record.question or not record.answer:
                continue
            if not self.redis.sadd(self._key("feedback_seen"), f"{record.session_id}:{record.message_id}"):
                continue
            messages = [{"role": "user", "content": record.question}, {"role": "assistant", "content": record.answer}]
            if self.add(messages, source="feedback", session_id=record.session_id):
                added += 1
        return added

    def get(self, example_id: str) -> dict[str, Any]:
        raw = self.redis.get(self._key("example", example_id))
        if raw is None:
            raise NotFound(f"No training example {example_id!r}.", fix="List them with GET /api/v1/tuning/examples.")
        return json.loads(raw)  # type: ignore[no-any-return]

    def page(self, status: str = "pending", *, limit: int = 50, cursor: str | None = None) -> Page:
        """Examples of one status, newest first; ``next_cursor`` continues the listing."""
        if status not in STATUSES:
            raise StorebotError(f"Unknown status {status!r}.", fix=f"Use one of: {', '.join(STATUSES)}.")
        if not 1 <= limit <= MAX_PAGE:
            raise StorebotError(f"limit must be 1 to {MAX_PAGE}.", fix="Page with e.g. limit=50.")
        try:
            offset = int(cursor or 0)
        except ValueError as exc:
            raise StorebotError("The cursor is not one this API returned.", fix="Pass next_cursor as given.") from exc
        ids = [i.decode() for i in self.redis.zrevrange(self._key("examples", status), offset, offset + limit)]
        items = [_public(self.get(i)) for i in ids[:limit] if self.redis.exists(self._key("example", i))]
        return Page(items, str(offset + limit) if len(ids) > limit else None)

    def set_status(self, example_id: str, status: str) -> dict[str, Any]:
        """Approve or reject an example (idempotent)."""
        record = self.get(example_id)
        old, now = record["status"], time.time()
        record["status"] = status
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("example", example_id), json.dumps(record, ensure_ascii=False))
            pipe.zrem(self._key("examples", old), example_id)
            pipe.zadd(self._key("examples", status), {example_id: record["created_at"]})
            if status == "approved" and old != "approved":
                pipe.zadd(self._key("approved"), {example_id: now})
            elif status != "approved":
                pipe.zrem(self._key("approved"), example_id)
            pipe.execute()
        return _public(record)

    def approve(self, example_id: str) -> dict[str, Any]:
        return self.set_status(example_id, "approved")

    def reject(self, example_id: str) -> dict[str, Any]:
        return self.set_status(example_id, "rejected")

    def edit(self, example_id: str, answer: str) -> dict[str, Any]:
        """Replace the assistant's answer with the merchant's; the example becomes ``edited`` and approved."""
        if not isinstance(answer, str) or not answer.strip():
            raise StorebotError("The edited answer is empty.", fix='Send {"answer": "the reply you want"}.')
        record = self.get(example_id)
        record["messages"][-1] = {"role": "assistant", "content": scrub_text(answer)}
        record["source"] = "edited"
        self.redis.hdel(self._key("hashes"), record["hash"])
        record["hash"] = example_hash(record["messages"])
        self.redis.hset(self._key("hashes"), record["hash"], example_id)
        self.redis.set(self._key("example", example_id), json.dumps(record, ensure_ascii=False))
        return self.set_status(example_id, "approved")

    def approved(self) -> list[tuple[str, Messages]]:
        """Every approved example as ``(id, messages)``, oldest first."""
        ids = [i.decode() for i in self.redis.zrange(self._key("examples", "approved"), 0, -1)]
        out = []
        for example_id in ids:
            raw = self.redis.get(self._key("example", example_id))
            if raw is not None:
                out.append((example_id, json.loads(raw)["messages"]))
        return out

    def approved_since(self, timestamp: float) -> int:
        """How many examples were approved after ``timestamp`` (and are still approved)."""
        return int(self.redis.zcount(self._key("approved"), f"({timestamp}", "+inf"))

    def counts(self) -> dict[str, int]:
        return {s: int(self.redis.zcard(self._key("examples", s))) for s in STATUSES}


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "hash"}
