"""The evaluation gate: is a fine-tuned candidate better than the store's current model, and still grounded?

Each model answers the held-out test split and a fixed probe set of catalog
questions, and is scored on:

- **style**: mean cosine similarity (MiniLM embeddings) of its answers to the reference answers;
- **format**: the share of answers that are short (at most ``MAX_WORDS`` words) and offer exactly one
  follow-up question, and leak no placeholder (``[price]``, ``[email]``...);
- **grounding**: the probe questions go through the real chat service with that model; every claim the
  grounding check had to repair or cut, and every violation left in an answer, counts.

``quality = 0.7 * style + 0.3 * format``. The candidate is promoted only when its quality beats the
current model's by ``min_gain`` and its grounding count does not rise.

Example:
    >>> decide(Score(style=0.62, format=0.8, grounding=0), Score(style=0.55, format=0.4, grounding=0)).promote
    True
    >>> decide(Score(style=0.9, format=1.0, grounding=2), Score(style=0.5, format=0.5, grounding=1)).promote
    False
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storebot.tuning.scrub import PLACEHOLDERS

MAX_WORDS = 60
STYLE_WEIGHT, FORMAT_WEIGHT = 0.7, 0.3
QUESTION = re.compile(r"[^.!?\n]*\?")

# Catalog questions in the demo store's voice: concise, warm, exactly one follow-up. Facts stay in the catalog.
DEFAULT_PROBES: tuple[tuple[str, str], ...] = (
    (
        "Do you have a waterproof rain jacket?",
        "We do! Our rain shells have taped seams to keep you dry on wet hikes. Shall I narrow them by size?",
    ),
    (
        "I need a tent for two people.",
        "Happy to help! Our two-person backpacking tents are light and quick to pitch. Shall I compare two?",
    ),
    (
        "What's your return policy?",
        "You can return unused gear within our return window for a refund. Would you like the steps to start a return?",
    ),
    (
        "Which sleeping bag is warmest?",
        "For cold nights, our down bags with the lowest temperature ratings are the warmest. Want me to show those?",
    ),
    (
        "Do you ship to Alaska?",
        "Yes, we ship to Alaska by standard shipping. Would you like to know the delivery time?",
    ),
    (
        "Are your hiking boots true to size?",
        "Most of our boots fit true to size, and reviews note any that run small. Shall I check a specific pair?",
    ),
)


@dataclass
class Probe:
    question: str
    reference: str


def load_probes(path: str = "") -> list[Probe]:
    """Probes from a JSONL of ``{"question", "answer"}`` lines, or the built-in set."""
    if not path:
        return [Probe(q, a) for q, a in DEFAULT_PROBES]
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return [Probe(r["question"], r["answer"]) for r in rows]


@dataclass
class Score:
    """One model's scores on the gate's checks."""

    style: float
    format: float
    grounding: int
    answers: int = 0
    samples: list[dict[str, str]] = field(default_factory=list)

    @property
    def quality(self) -> float:
        return STYLE_WEIGHT * self.style + FORMAT_WEIGHT * self.format

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quality"] = round(self.quality, 4)
        data["style"], data["format"] = round(self.style, 4), round(self.format, 4)
        data["samples"] = self.samples[:3]
        return data


@dataclass
class Decision:
    promote: bool
    reasons: list[str]
    candidate: dict[str, Any]
    current: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_ok(answer: str) -> bool:
    """Short, exactly one follow-up question, no leaked placeholder."""
    words = len(answer.split())
    return 0 < words <= MAX_WORDS and len(QUESTION.findall(answer)) == 1 and not any(p in answer for p in PLACEHOLDERS)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def style_prompts(
    test: Sequence[Sequence[dict[str, str]]], probes: Sequence[Probe], system: str = ""
) -> list[tuple[list[dict[str, str]], str]]:
    """(prompt messages, reference answer) for the test split and the probes."""
    pairs = [(list(m[:-1]), m[-1]["content"]) for m in test]
    head = [{"role": "system", "content": system}] if system else []
    pairs += [([*head, {"role": "user", "content": p.question}], p.reference) for p in probes]
    return pairs


def score_model(
    generate: Callable[[list[dict[str, str]]], str],
    prompts: Sequence[tuple[list[dict[str, str]], str]],
    embed: Callable[[list[str]], list[list[float]]],
    grounding: int,
) -> Score:
    """Answer every prompt with ``generate`` and score style and format; ``grounding`` is counted by the caller."""
    answers = [generate(messages).strip() for messages, _ in prompts]
    references = [reference for _, reference in prompts]
    if not answers:
        return Score(0.0, 0.0, grounding)
    vectors = embed(answers + references)
    style = sum(cosine(vectors[i], vectors[len(answers) + i]) for i in range(len(answers))) / len(answers)
    fmt = sum(format_ok(a) for a in answers) / len(answers)
    samples = [{"prompt": m[-1]["content"], "answer": a} for (m, _), a in zip(prompts, answers, strict=True)]
    return Score(style, fmt, grounding, len(answers), samples)


def decide(candidate: Score, current: Score, *, min_gain: float = 0.0) -> Decision:
    """Promote only when the candidate's quality beats the current model's and grounding does not regress."""
    reasons = []
    better = candidate.quality > current.quality + min_gain
    reasons.append(
        f"quality {candidate.quality:.4f} vs {current.quality:.4f} (style {candidate.style:.4f} vs "
        f"{current.style:.4f}, format {candidate.format:.2f} vs {current.format:.2f}): "
        + ("better" if better else f"not better by more than {min_gain:g}")
    )
    grounded = candidate.grounding <= current.grounding
    reasons.append(
        f"grounding violations {candidate.grounding} vs {current.grounding}: "
        + ("no regression" if grounded else "regression")
    )
    return Decision(better and grounded, reasons, candidate.to_dict(), current.to_dict())
