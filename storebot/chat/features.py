"""Yes/no features ("is it waterproof?") said in an answer, and what the attributes say about them.

A small model asked "is it waterproof?" may answer "No" about a jacket rated
20,000 mm. :func:`find_feature_claims` reads "is waterproof", "isn't packable"
and a bare "Yes"/"No" answering a feature question; :func:`feature_value`
decides the feature from the attributes, or returns None when they do not say
(only contradictions are violations).

Example:
    >>> from storebot.catalog.models import Product
    >>> jacket = Product(id="1001", title="Ridge Shell", attributes={"waterproof_rating": "20,000 mm"})
    >>> feature_value(jacket, "waterproof")
    True
    >>> [(c.feature, c.value) for c in find_feature_claims("No, it is not waterproof.", "")]
    [('waterproof', False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storebot.catalog.models import Product

# Feature -> attribute keys that decide it, in order of authority.
FEATURES = {
    "waterproof": ("waterproof", "waterproof_rating", "water_resistance"),
    "packable": ("packable",),
    "insulated": ("insulated", "insulation"),
    "dishwasher safe": ("dishwasher_safe",),
    "bpa free": ("bpa_free",),
    "convertible": ("convertible",),
}
_NAMES = r"(?P<f>waterproof|packable|insulated|dishwasher[- ]safe|bpa[- ]free|convertible)\b"
_CLAIM = re.compile(
    r"\b(?:(?P<neg>is not|isn't|are not|aren't|not)|is|are|it's|they're)\s+(?:also\s+|fully\s+|completely\s+)?"
    + _NAMES,
    re.I,
)
_QUESTION = re.compile(r"\b(?:is|are)\s+(?:it|they|this|that|these|the [\w' -]{1,40}?)\s+" + _NAMES, re.I)
_ANSWER = re.compile(r"^\W*(?:\d+\.\s*)?(?P<a>yes|no)\b", re.I)


@dataclass(frozen=True)
class FeatureClaim:
    """The answer says ``feature`` is (``value``) or is not true, at ``start``..``end``."""

    feature: str
    value: bool
    start: int
    end: int
    text: str


def _key(name: str) -> str:
    return name.lower().replace("-", " ")


def find_feature_claims(text: str, question: str, *, answer_start: bool = True) -> list[FeatureClaim]:
    """Feature claims in ``text``; with ``answer_start``, a leading "Yes"/"No" answers ``question``."""
    found = [FeatureClaim(_key(m.group("f")), not m.group("neg"), m.start(), m.end(), m.group(0))
             for m in _CLAIM.finditer(text)]  # fmt: skip
    asked = _QUESTION.search(question)
    answer = _ANSWER.match(text) if answer_start else None
    if asked and answer:
        yes = answer.group("a").lower() == "yes"
        found.insert(
            0, FeatureClaim(_key(asked.group("f")), yes, answer.start("a"), answer.end("a"), answer.group("a"))
        )
    return found


def feature_value(product: Product, feature: str) -> bool | None:
    """What the attributes say about ``feature`` for ``product``: True, False or None (they don't say)."""
    for key in FEATURES.get(feature, ()):
        value = product.attributes.get(key)
        if value is None:
            continue
        v = value.strip().lower()
        if key == "waterproof_rating":
            return bool(re.search(r"[1-9]", v)) or None
        if "not waterproof" in v or (feature == "waterproof" and v.startswith("water-resistant")):
            return False
        if key == "water_resistance":
            return True if v.startswith("waterproof") else None
        if key == "insulation":
            return not v.startswith(("none", "no "))
        if v.startswith(("yes", "true", "included")):
            return True
        if v.startswith(("no", "none", "false", "not")):
            return False
    if feature == "waterproof" and any(
        "waterproof" in k and re.search(r"\d", v) for k, v in product.attributes.items()
    ):
        return True
    return None
