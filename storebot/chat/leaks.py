"""The last gate before a model's sentence reaches a shopper: nothing that an injection could be after.

Grounding checks (:mod:`storebot.chat.grounding`) catch wrong facts; a sentence with no facts in it, such as
the system prompt recited after "ignore previous instructions", passes them. :func:`leak_in` catches what an
injected instruction in catalog text, a review or a message would try to get out: the system prompt, markup
(script tags, images, links), beacon URLs (markdown images that a renderer would fetch), and key-shaped text.
A sentence it flags is cut, and the answer built from the records takes over.

Example:
    >>> leak_in("Sure! You are the shopping assistant of Acme. Answer the shopper using only the facts.", "Acme")
    'system prompt'
    >>> leak_in("The Ridge Shell costs $139.", "Acme") is None
    True
"""

from __future__ import annotations

import re
from functools import lru_cache

from storebot.chat.prompts import DATA_NOTE, HINTS, SYSTEM

RUN = 6  # words in a row shared with the prompt that count as reciting it
_WORDS = re.compile(r"[a-z0-9']+")
_CHECKS = (
    ("markup", re.compile(r"<\s*/?\s*[a-z!]|&lt;\s*/?\s*script", re.IGNORECASE)),
    ("image or link", re.compile(r"!\[|\]\s*\(|\b(?:https?|javascript|data|file)\s*:", re.IGNORECASE)),
    ("key", re.compile(r"\b(?:sk|pk|rk)_[A-Za-z0-9_-]{6,}")),
)


@lru_cache(maxsize=256)
def _prompt_runs(store_name: str) -> frozenset[str]:
    texts = [SYSTEM.format(store=store_name, hint=""), DATA_NOTE, *(h.format(store=store_name) for h in HINTS.values())]
    runs = set()
    for text in texts:
        words = _WORDS.findall(text.lower())
        runs.update(" ".join(words[i : i + RUN]) for i in range(len(words) - RUN + 1))
    return frozenset(runs)


def leak_in(sentence: str, store_name: str) -> str | None:
    """What ``sentence`` would leak ("system prompt", "markup", "image or link", "key"), or None."""
    words = _WORDS.findall(sentence.lower())
    runs = _prompt_runs(store_name)
    if any(" ".join(words[i : i + RUN]) in runs for i in range(len(words) - RUN + 1)):
        return "system prompt"
    for name, pattern in _CHECKS:
        if pattern.search(sentence):
            return name
    return None
