"""Words of a search that no product has, and the product words they are most likely typos of.

A shopper's "waterprof hikng bots for wmen" has four words no product in the store uses. Search looks each up in
the keyword index: one edit away (two for words of eight letters or more), with the same first letter, from a word
products do use, it is most likely that word, and the query is searched again as "waterproof hiking boot for
women". A word nothing is close to ("kayaks" in an outdoor clothing store) stays unknown, so the chat can say the
store does not carry it instead of offering four pairs of sandals.

Example:
    >>> from storebot.retrieval.keyword import BM25Index
    >>> index = BM25Index()
    >>> index.add("p1", {"title": "Waterproof hiking boots for women"})
    >>> unknown_words(index, "waterprof hiking bots for kayaks")
    ['waterprof', 'bots', 'kayaks']
    >>> unknown_words(index, "the waterproofest boots")  # a form of a word products use is not unknown
    ['the']
    >>> [suggest(index, w) for w in ("waterprof", "hikng", "bots", "wmen", "kayaks", "gps")]
    ['waterproof', 'hiking', 'boot', 'women', None, None]
    >>> corrected("Waterprof hikng boots", typo_fixes(index, ["waterprof", "hikng"]))
    'waterproof hiking boots'
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable

from storebot.retrieval.keyword import BM25Index
from storebot.retrieval.tokenize import normalize, stem

_WORD = re.compile(r"[^\W\d_]{3,}")
_candidates: weakref.WeakKeyDictionary[BM25Index, tuple[tuple[int, int, int], dict[str, list[tuple[str, int]]]]]
_candidates = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def unknown_words(index: BM25Index, text: str, ignore: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` (three letters or more, not in ``ignore``) that no indexed document has, lowercased.
    A form of an indexed word is known: "warmest", "lighter", "brightest" when products say warm, light, bright."""
    skip = set(ignore)
    return [w for w in dict.fromkeys(_WORD.findall(normalize(text))) if w not in skip and not _known(index, w)]


_SUFFIXES = ("iest", "ier", "est", "er", "ing", "ed", "ly")


def _known(index: BM25Index, word: str) -> bool:
    """Whether ``word`` or the word it is a form of (-est, -er, -ing, -ed, -ly) is indexed."""
    if index.document_frequency(word):
        return True
    for suffix in _SUFFIXES:
        base = word[: -len(suffix)]
        if not word.endswith(suffix) or len(base) < 3:
            continue
        doubled = base[:-1] if len(base) > 3 and base[-1] == base[-2] else None  # "hottest" -> "hot"
        candidates = [base + "y"] if suffix in ("iest", "ier") else [base, base + "e", doubled]
        if any(c and index.document_frequency(c) for c in candidates):
            return True
    return False


def suggest(index: BM25Index, word: str, avoid: Iterable[str] = ()) -> str | None:
    """The indexed word ``word`` is most likely a typo of, or None: same first letter, one edit away (two for words
    of eight letters or more), the most common of the closest, never one of ``avoid`` ("bots" is not "but"). Words
    under four letters are left alone: too many words are one edit from them."""
    raw = normalize(word)
    typed = stem(raw) if index.config.stemming else raw
    if len(raw) < 4 or not typed.isalpha():
        return None
    limit, skip = (2 if len(typed) >= 8 else 1), set(avoid)
    best: tuple[int, int, str] | None = None
    for term, df in _by_first_letter(index).get(typed[0], ()):
        if abs(len(term) - len(typed)) > limit or term == typed or term in skip:
            continue
        distance = edit_distance(typed, term, limit)
        if distance <= limit and (best is None or (distance, -df) < best[:2]):
            best = (distance, -df, term)
    return best[2] if best else None


def typo_fixes(index: BM25Index, unknown: Iterable[str], avoid: Iterable[str] = ()) -> dict[str, str]:
    """``{typo: catalog word}`` when every one of the ``unknown`` words is one (a query in another language has
    some words that happen to be near catalog words, and is not corrected), else ``{}``."""
    unknown, avoid = list(unknown), frozenset(avoid)
    fixes = {word: fix for word in unknown if (fix := suggest(index, word, avoid))}
    return fixes if fixes and len(fixes) == len(unknown) else {}


def corrected(text: str, fixes: dict[str, str]) -> str:
    """``text`` with each typo of ``fixes`` (a whole word, in any case) replaced by its catalog word."""
    if not fixes:
        return text
    typos = re.compile(r"\b(" + "|".join(map(re.escape, fixes)) + r")\b", re.IGNORECASE)
    return typos.sub(lambda m: fixes[m.group(0).lower()], text)


def _by_first_letter(index: BM25Index) -> dict[str, list[tuple[str, int]]]:
    """The index's single words by first letter, with their document frequency; rebuilt when the index changes."""
    with _lock:
        cached = _candidates.get(index)
        if cached is None or cached[0] != index.stamp:
            grouped: dict[str, list[tuple[str, int]]] = {}
            for term, df in index.words():
                if term.isalpha() and len(term) >= 3:
                    grouped.setdefault(term[0], []).append((term, df))
            cached = _candidates[index] = (index.stamp, grouped)
        return cached[1]


def edit_distance(a: str, b: str, limit: int) -> int:
    """The Damerau-Levenshtein distance of ``a`` and ``b`` (an adjacent swap counts once), or ``limit + 1`` as soon
    as it is certainly more than ``limit``.

    Example:
        >>> edit_distance("hikng", "hiking", 2), edit_distance("tnet", "tent", 2), edit_distance("boot", "coat", 1)
        (1, 1, 2)
    """
    before_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before_previous, previous = previous, current
    return previous[-1]
