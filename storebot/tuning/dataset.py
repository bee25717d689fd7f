"""Fine-tuning data: parse and validate examples, de-duplicate, split, and write OpenAI's chat JSONL.

An example is one conversation, ``{"messages": [{"role", "content"}, ...]}``
ending in the assistant's answer (OpenAI's chat fine-tuning format), or a
pair ``{"question": ..., "answer": ...}`` (``prompt``/``completion`` also
read). Every example is checked before anything is stored or sent: known
roles, no empty message, at least one user turn, an assistant answer last,
and a token length within the target model's limit. A bad example is a
:class:`DatasetError` that names its line and the reason.

The split is deterministic: an example's SHA-256 picks its bucket (80 %
train, 10 % validation, 10 % test), so an example never moves between splits
as the data grows.

Example:
    >>> rows = parse_jsonl('{"question": "Tents?", "answer": "Yes! Want the 2-person ones?"}\\n')
    >>> rows.examples[0][-1]["role"], rows.errors
    ('assistant', [])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storebot.chat.tokens import TOKENS_PER_MESSAGE, count_tokens
from storebot.errors import StorebotError
from storebot.tuning.scrub import scrub_text

ROLES = ("system", "user", "assistant")
Messages = list[dict[str, str]]
# Per-example token limits of the fine-tuning targets (OpenAI's documented context for training examples).
TOKEN_LIMITS = {
    "local": 2048,
    "gpt-4o-mini-2024-07-18": 65536,
    "gpt-4o-2024-08-06": 65536,
    "gpt-4.1-mini-2025-04-14": 65536,
}
DEFAULT_TOKEN_LIMIT = 16384
SPLITS = ("train", "validation", "test")


class DatasetError(StorebotError):
    """Training data that cannot be used; ``details`` lists ``{"line", "reason"}`` per bad example."""

    code = "invalid_training_data"


@dataclass
class LineError:
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass
class Parsed:
    """Good examples (scrubbed) and the errors of the bad lines, good lines kept."""

    examples: list[Messages] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def normalize(record: Any, *, system: str = "") -> Messages:
    """The messages of one record (a conversation or a question/answer pair), or ValueError saying why not."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise ValueError('"messages" must be a non-empty list')
    else:
        question = record.get("question", record.get("prompt"))
        answer = record.get("answer", record.get("completion"))
        if question is None or answer is None:
            raise ValueError('expected "messages", or "question" and "answer"')
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    out: Messages = []
    for i, message in enumerate(messages, 1):
        if not isinstance(message, dict):
            raise ValueError(f"message {i} is not an object")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise ValueError(f"message {i} has role {role!r}; roles must be one of {', '.join(ROLES)}")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"message {i} ({role}) is empty")
        out.append({"role": role, "content": content.strip()})
    if out[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's answer")
    if not any(m["role"] == "user" for m in out):
        raise ValueError("there is no user message")
    if system and out[0]["role"] != "system":
        out.insert(0, {"role": "system", "content": system})
    return out


def scrub_messages(messages: Messages) -> Messages:
    """PII and prices out of every message (see :mod:`storebot.tuning.scrub`)."""
    return [{"role": m["role"], "content": scrub_text(m["content"])} for m in messages]


def example_tokens(messages: Sequence[dict[str, str]]) -> int:
    """Tokens of one training example in OpenAI's chat framing (cl100k, offline)."""
    return sum(TOKENS_PER_MESSAGE + count_tokens(m["role"]) + count_tokens(m["content"]) for m in messages) + 3


def check_length(messages: Messages, limit: int) -> None:
    tokens = example_tokens(messages)
    if tokens > limit:
        raise ValueError(f"{tokens} tokens is over the target model's limit of {limit}")


def parse_jsonl(text: str | bytes, *, limit: int = DEFAULT_TOKEN_LIMIT, system: str = "") -> Parsed:
    """Parse uploaded JSONL: scrubbed good examples, and one error per bad line (blank lines skipped)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    parsed = Parsed()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.errors.append(LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        try:
            messages = scrub_messages(normalize(record, system=system))
            check_length(messages, limit)
        except ValueError as exc:
            parsed.errors.append(LineError(number, str(exc)))
            continue
        parsed.examples.append(messages)
        parsed.lines.append(number)
    return parsed


def example_hash(messages: Sequence[dict[str, str]]) -> str:
    """SHA-256 of an example's canonical JSON: its identity for de-duplication and the split."""
    canonical = json.dumps([[m["role"], " ".join(m["content"].split()).lower()] for m in messages])
    return hashlib.sha256(canonical.encode()).hexdigest()


def split_of(digest: str) -> str:
    bucket = int(digest[:8], 16) % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


@dataclass
class Dataset:
    """A validated, de-duplicated training set split three ways, with its token totals and cost estimate."""

    train: list[Messages]
    validation: list[Messages]
    test: list[Messages]
    tokens: dict[str, int]
    data_hash: str
    duplicates: int = 0
    price_per_mtok: float = 0.0

    def jsonl(self, split: str = "train") -> str:
        """OpenAI's chat fine-tuning JSONL for one split."""
        return "".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in getattr(self, split))

    def summary(self) -> dict[str, Any]:
        per_epoch = self.tokens["train"] / 1_000_000 * self.price_per_mtok
        return {
            "examples": len(self.train) + len(self.validation) + len(self.test),
            "duplicates_removed": self.duplicates,
            "splits": {s: len(getattr(self, s)) for s in SPLITS},
            "tokens": dict(self.tokens),
            "cost_estimate": {
                "usd_per_epoch": round(per_epoch, 4),
                "usd_per_mtok": self.price_per_mtok,
                "note": "An estimate: training tokens of the train split times the price table; "
                "OpenAI bills the tokens it counts, for every epoch.",
            },
            "data_hash": self.data_hash,
        }


def build_dataset(
    examples: Iterable[tuple[str, Messages]], *, limit: int = DEFAULT_TOKEN_LIMIT, price_per_mtok: float = 0.0
) -> Dataset:
    """Validate, scrub, de-duplicate and split ``(name, messages)`` pairs (a name is a line or an id).

    Raises:
        DatasetError: any invalid example; ``details`` names each one and why. Nothing is split or sent then.
    """
    errors: list[dict[str, Any]] = []
    seen: dict[str, Messages] = {}
    duplicates = 0
    for name, raw in examples:
        try:
            messages = scrub_messages(normalize({"messages": raw}))
            check_length(messages, limit)
        except ValueError as exc:
            errors.append({"example": name, "reason": str(exc)})
            continue
        digest = example_hash(messages)
        if digest in seen:
            duplicates += 1
        seen.setdefault(digest, messages)
    if errors:
        first = errors[0]
        raise DatasetError(
            f"{len(errors)} training example(s) are invalid; example {first['example']}: {first['reason']}.",
            fix="Fix or reject the examples listed in details; nothing was sent.",
            details=errors,
        )
    splits: dict[str, list[tuple[str, Messages]]] = {s: [] for s in SPLITS}
    for digest in sorted(seen):
        splits[split_of(digest)].append((digest, seen[digest]))
    for needed in ("validation", "test"):  # small sets: borrow from train, still by hash order
        if not splits[needed] and len(splits["train"]) >= 3:
            splits[needed].append(splits["train"].pop())
    tokens = {s: sum(example_tokens(m) for _, m in splits[s]) for s in SPLITS}
    data_hash = hashlib.sha256("".join(sorted(seen)).encode()).hexdigest()[:16]
    train, validation, test = ([m for _, m in splits[s]] for s in SPLITS)
    return Dataset(
        train,
        validation,
        test,
        tokens=tokens,
        data_hash=data_hash,
        duplicates=duplicates,
        price_per_mtok=price_per_mtok,
    )
