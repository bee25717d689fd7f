"""Aspects a store's own reviews talk about beyond the fixed six: hoods, pit zips, laces, zippers...

Candidate terms are the words and two-word phrases reviewers put after a determiner ("the hood", "the pit
zips", "its laces"), a cheap stand-in for noun phrases. Terms that are opinion words (in VADER's lexicon),
stop words, fixed-aspect words, sizes, body parts and other review small talk are dropped, and so are terms
too few reviews use. The survivors are embedded and clustered (agglomerative, cosine); each cluster is an
aspect named by its most frequent terms, ranked by how many reviews mention it.

Example:
    >>> found = discover_aspects(sentences_by_review, embedder.encode)  # doctest: +SKIP
    >>> found[0].label, found[0].terms[:2]                               # doctest: +SKIP
    ('Pit zips', ['pit zips', 'zips'])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from storebot.insights.aspects import ASPECTS

_DETERMINER = re.compile(r"\b(?:the|its|their|these|those|this|my|his|her|our)\s+([a-z][a-z-]+)(?:\s+([a-z][a-z-]+))?",
                         re.IGNORECASE)  # fmt: skip
SMALL_TALK = frozenset((  # review small talk, sizes and body parts: not aspects
    "ankle", "ankles", "anything", "arch", "arches", "arm", "arms", "back", "big", "bit", "body", "bottom", "box",
    "brand", "bunch", "car", "catch", "chart", "chat", "chest", "city", "climb", "climbs", "color", "colour",
    "company", "couple", "dark", "daughter", "day", "days", "deal", "description", "difference", "dog", "downhill",
    "downside", "ears", "end", "evening", "everyone", "everything", "family", "feet", "few", "fingers", "first",
    "fit", "foot", "friend", "front", "gear", "glasses", "ground", "hand", "hands", "head", "heavy", "heel",
    "heels", "hike", "hikes", "hiking", "hip", "hips", "hour", "hours", "husband", "idea", "inside", "issue",
    "issues", "item", "items", "job", "kids", "kind", "kit", "knees", "l", "large", "last", "left", "leg", "legs",
    "light", "listed", "little", "long", "lot", "lots", "m", "main", "medium", "middle", "model", "moment", "money",
    "month", "months", "morning", "narrow", "neck", "new", "night", "nights", "normal", "nothing", "old", "one",
    "ones", "only", "order", "orders", "other", "outside", "page", "pair", "partner", "people", "phone", "photo",
    "photos", "picture", "pictures", "plus", "point", "price", "problem", "product", "products", "pub", "quality",
    "real", "reason", "replaced", "rest", "review", "reviews", "right", "s", "same", "second", "shell", "shop",
    "short", "shoulder", "shoulders", "side", "site", "size", "sizes", "skin", "small", "something", "son", "spot",
    "store", "sun", "thing", "things", "thumb", "time", "times", "toe", "toes", "top", "town", "trail", "trailhead",
    "trails", "trip", "trips", "type", "uphill", "usual", "version", "waist", "water", "way", "website", "week",
    "weekend", "weeks", "whole", "wide", "wife", "xl", "xs", "xxl", "xxxl", "year", "years"
))  # fmt: skip
_VERBISH = re.compile(r"(?:ed|ing|ly)$|^(?:gets?|feels?|moves?|bites?|rattles?|hits?|keeps?|makes?|looks?|runs?|"
                      r"holds?|works?|goes|went|came|comes|says?|seems?|stays?|takes?|gave|gives?|let|lets|won|"
                      r"showed|shows?|wetted|rubbed|started|underneath|far|sideways|afterwards)$")  # fmt: skip


@dataclass
class DiscoveredAspect:
    """An aspect found in a store's reviews: a key, a label, the terms that name it and how many reviews use them.

    Example:
        >>> a = DiscoveredAspect("hood", "Hood", ["hood", "brim"], 12)
        >>> a.matches("Love the stiff brim on the hood.")
        True
    """

    key: str
    label: str
    terms: list[str]
    reviews: int
    _pattern: Any = field(default=None, repr=False, compare=False)

    def matches(self, sentence: str) -> bool:
        if self._pattern is None:
            alternatives = "|".join(re.escape(t).replace(r"\ ", r"[\s-]+") + "(?:e?s)?" for t in self.terms)
            self._pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
        return bool(self._pattern.search(sentence))

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveredAspect:
        return cls(data["key"], data["label"], list(data["terms"]), int(data["reviews"]))


def _excluded(word: str, extra: set[str]) -> bool:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from storebot.insights.sentiment import vader_analyzer

    lexicon = vader_analyzer().lexicon
    return (word in ENGLISH_STOP_WORDS or word in SMALL_TALK or word in extra or word in lexicon
            or len(word) < 3 or any(a.pattern.fullmatch(word) for a in ASPECTS.values()))  # fmt: skip


def candidate_terms(sentences_by_review: Iterable[Sequence[str]], *, exclude: Iterable[str] = (),
                    min_reviews: int = 3) -> Counter[str]:  # fmt: skip
    """Terms (one or two words after a determiner) and how many reviews use them, small talk removed."""
    extra = {w.lower() for w in exclude}
    unigrams: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for sentences in sentences_by_review:
        seen_uni: set[str] = set()
        seen_bi: set[str] = set()
        for sentence in sentences:
            for match in _DETERMINER.finditer(sentence):
                first, second = match.group(1).lower(), (match.group(2) or "").lower()
                if _excluded(first, extra):
                    continue
                seen_uni.add(first)
                if second and not _excluded(second, extra) and not _VERBISH.search(second):
                    seen_bi.add(f"{first} {second}")
        unigrams.update(seen_uni)
        bigrams.update(seen_bi)
    terms: Counter[str] = Counter()
    for phrase, count in bigrams.items():
        if count >= min_reviews:
            terms[phrase] = count
    for word, count in unigrams.items():
        # "pit" only ever comes as "pit zips": the phrase names the aspect, not the word.
        if count >= min_reviews and not any(p.startswith(word + " ") and n >= 0.8 * count for p, n in terms.items()):
            terms[word] = count
    return terms


def discover_aspects(sentences_by_review: Sequence[Sequence[str]], encode: Callable[[list[str]], np.ndarray], *,
                     exclude: Iterable[str] = (), min_reviews: int = 3, limit: int = 8,
                     distance: float = 0.45) -> list[DiscoveredAspect]:  # fmt: skip
    """Up to ``limit`` aspects the reviews talk about beyond the fixed ones, most-mentioned first."""
    terms = candidate_terms(sentences_by_review, exclude=exclude, min_reviews=min_reviews)
    if not terms:
        return []
    ordered = [t for t, _ in terms.most_common(200)]
    if len(ordered) == 1:
        groups = [[ordered[0]]]
    else:
        from sklearn.cluster import AgglomerativeClustering

        vectors = np.asarray(encode(ordered))
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=distance).fit_predict(vectors)  # fmt: skip
        by_label: dict[int, list[str]] = {}
        for term, label in zip(ordered, labels, strict=True):
            by_label.setdefault(int(label), []).append(term)
        groups = list(by_label.values())
    found = []
    for group in groups:
        aspect = DiscoveredAspect(_slug(group[0]), group[0].capitalize(), group[:6], 0)
        aspect.reviews = sum(any(aspect.matches(s) for s in sentences) for sentences in sentences_by_review)
        if aspect.reviews >= min_reviews:
            found.append(aspect)
    found.sort(key=lambda a: (-a.reviews, a.key))
    unique: dict[str, DiscoveredAspect] = {}
    for aspect in found:
        unique.setdefault(aspect.key, aspect)
    return list(unique.values())[:limit]


def _slug(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", term.lower()).strip("_")


def catalog_words(products: Iterable[Any]) -> set[str]:
    """Words that name products rather than their parts (brands, categories, each title's last word), plurals too."""
    words: set[str] = set()
    for product in products:
        text = " ".join([product.brand, *product.category, product.title.split()[-1] if product.title else ""])
        for word in re.findall(r"[a-z]+", text.lower()):
            words |= {word, word + "s", word + "es", word.rstrip("s")}
    return words
