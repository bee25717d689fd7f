"""Review and policy passages: what reviewers say about a product, what the store's policies say.

Example:
    >>> passages = search_reviews(index, "how does it fit", product_ids=["1001"], k=3)  # doctest: +SKIP
    >>> passages[0].metadata["rating"]                                                  # doctest: +SKIP
    2
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storebot.retrieval.index import StoreIndex


@dataclass
class Passage:
    id: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "score": round(self.score, 4), **self.metadata}


def _passages(store: Any, vector: Any, k: int, filter: Any = None) -> list[Passage]:
    found = store.similarity_search_with_score_by_vector(vector.tolist(), k=k, filter=filter)
    # The store returns cosine distances; passages report similarity, higher is closer.
    return [Passage(doc.id or "", doc.page_content, 1.0 - float(distance), dict(doc.metadata))
            for doc, distance in found]  # fmt: skip


def search_reviews(index: StoreIndex, query: str, *, product_ids: Sequence[str] | None = None,
                   k: int = 5) -> list[Passage]:  # fmt: skip
    """The review passages closest to ``query``, optionally only for ``product_ids``."""
    if not len(index.reviews):
        return []
    vector = index.embedder.encode_query(query)
    wanted = {"product_id": list(product_ids)} if product_ids else None
    return _passages(index.reviews, vector, k, wanted)


def search_policies(index: StoreIndex, query: str, *, k: int = 3) -> list[Passage]:
    """The policy passages (shipping, returns, FAQ) closest to ``query``, by meaning and by the words they share.

    A store has few policy passages: the POLICY_CANDIDATES nearest (usually all) are rescored, the vectors'
    similarity plus a bonus for the question's words (and what they stand for: "wore" -> "worn", "the UK" ->
    "other countries") found in the passage, the rarer the word the more it counts.
    """
    if not len(index.policies):
        return []
    found = _passages(index.policies, index.embedder.encode_query(query), max(k, POLICY_CANDIDATES))
    return rerank_policies(query, found)[:k]


POLICY_CANDIDATES = 20
KEYWORD_WEIGHT = 0.35


def rerank_policies(query: str, passages: list[Passage]) -> list[Passage]:
    """``passages`` ordered by similarity plus the share of the question's concepts each one contains, rarer
    concepts counting more (a smoothed inverse document frequency over the candidates)."""
    bags = [policy_words(p.text) for p in passages]
    concepts = policy_concepts(query, " ".join(p.text for p in passages))
    found = {c: sum(bool(c & bag) for bag in bags) for c in concepts}
    weights = {c: math.log(1 + len(bags) / n) for c, n in found.items() if n}
    total = sum(weights.values()) or 1.0
    scored = [(p.score + KEYWORD_WEIGHT * sum(w for c, w in weights.items() if c & bag) / total, i)
              for i, (p, bag) in enumerate(zip(passages, bags, strict=True))]  # fmt: skip
    return [passages[i] for _, i in sorted(scored, key=lambda t: (-t[0], t[1]))]


# -- the words of policy text and of questions about it ----------------------------------------------------------

_STOP = set(
    """the a an is it its this that does do did can could will would should how what which who whose when where why are
    was were be been has have had with for from of to in on at by and or but any some about there their they them
    you your me my i we our us tell say says said much many more most very really just if so get got take takes need
    want know like go make let please also policy policies usually typically normally generally still ever even
    something anything everything nothing thing things stuff don doesn didn isn aren wasn won can t s one""".split()  # noqa: SIM905 - a word list reads better as prose
)
# Question words -> what policies call the same thing (stemmed).
_RELATED = {
    "boot": ("footwear",), "shoe": ("footwear",), "sneaker": ("footwear",), "sandal": ("footwear",),
    "wore": ("worn",), "wear": ("worn",), "long": ("day",), "soon": ("day",), "fast": ("day",), "quick": ("day",),
    "discount": ("code",), "coupon": ("code",), "promo": ("code",), "voucher": ("code",),
    "guarantee": ("warranty",), "warranty": ("guarantee",), "money": ("refund",), "abroad": ("country",),
    "oversea": ("country",), "international": ("country",), "internationally": ("country",),
    "worldwide": ("country",), "price": ("cost",), "charge": ("cost",), "fee": ("cost",),
    "deliver": ("arrive",), "delivery": ("arrive",), "tent": ("shelter",), "refund": ("money",), "spend": ("order",),
}  # fmt: skip
_DESTINATION = re.compile(r"\b(?:ship|shipping|deliver|delivery|send|post)\w*\s+(?:\w+\s+){0,2}?to\s+(?:the\s+)?"
                          r"([a-z][a-z.]+)", re.IGNORECASE)  # fmt: skip
_HERE = {
    "my",
    "me",
    "your",
    "our",
    "a",
    "an",
    "home",
    "work",
    "office",
    "door",
    "address",
    "house",
    "apartment",
    "p.o",
    "po",
    "box",
}
_US = set(
    """us usa america united states alabama alaska arizona arkansas california colorado connecticut delaware florida
    georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
    minnesota mississippi missouri montana nebraska nevada hampshire jersey mexico york carolina dakota ohio
    oklahoma oregon pennsylvania rhode tennessee texas utah vermont virginia washington wisconsin wyoming""".split()  # noqa: SIM905 - a word list reads better as prose
)


def policy_words(text: str) -> set[str]:
    """The stemmed content words of ``text`` ("unworn" also counts as "worn")."""
    words = {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}
    return words | {w[2:] for w in words if w.startswith("un") and len(w) > 5}


def policy_concepts(question: str, context: str) -> list[frozenset[str]]:
    """What a question asks about, one set of alternative words per thing asked: its own word and the words
    policies use for it ("wore": {"wore", "worn"}; "the UK", which ``context`` never names: "other countries")."""
    concepts = [{w, *_RELATED.get(w, ())} for w in policy_words(question)]
    if re.search(r"\bhow much\b", question, re.IGNORECASE):
        concepts.append({"cost", "price", "fee", "charge", "flat"})
    known = set(re.findall(r"[a-z]+", context.lower()))
    for match in _DESTINATION.finditer(question):
        place = match.group(1).lower().rstrip(".")
        if place not in _HERE and place not in known:
            concepts.append({_stem(place), *(_DOMESTIC if place in _US else _ABROAD)})
    merged: list[set[str]] = []
    for concept in concepts:  # "discount codes": one concept, not "discount" (= code) and "code" twice
        overlapping = [m for m in merged if m & concept]
        for m in overlapping:
            merged.remove(m)
            concept = concept | m
        merged.append(concept)
    return [frozenset(c) for c in merged]


def concept_weights(concepts: list[frozenset[str]], bags: list[set[str]]) -> dict[frozenset[str], float]:
    """Rarer concepts weigh more ("canada" beats "shipping" in a shipping policy); unmatched ones weigh 0."""
    found = {c: sum(bool(c & bag) for bag in bags) for c in concepts}
    return {c: 1 / n for c, n in found.items() if n}


_ABROAD = {"country", "international"}
_DOMESTIC = {"contiguou", "unit", "state"}


def _stem(word: str) -> str:
    """A crude stem, enough to match "shipping" with "ship", "warranties" with "warranty"."""
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    elif word.endswith(("ing", "ed")) and len(word) - (3 if word.endswith("ing") else 2) >= 3:
        word = word[: -3 if word.endswith("ing") else -2]
    return word[:-1] if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl" else word
