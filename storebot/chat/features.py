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


# -- saying attributes in words ("is packable (stuffs into its hand pocket)", not "has packable: yes, ...") -------

_ADJECTIVE_KEY = re.compile(r"(?:able|ible|proof|ated|_safe|_free|_compatible|_friendly|_repellent|_resistant)$")
_YES = re.compile(r"^(?:yes|true|included)\b[,;:]?\s*(?P<rest>.*)$", re.I)
_NO = re.compile(r"^(?:no|none|false|not)\b[,;:]?\s*(?P<rest>.*)$", re.I)
_KEY_WORDS = {"r_value": "R-value", "upf": "UPF rating", "max_output": "maximum output", "bpa_free": "BPA-free"}
# Attribute -> how a sentence says it, value verbatim; the verb is singular here. "its X|is" clauses are possessive.
_TEMPLATES = {
    "weight": "weighs {v}", "packed_weight": "weighs {v} packed", "season": "is meant for {v}",
    "temperature_comfort": "is rated for comfort down to {v}", "temperature_limit": "has a lower limit of {v}",
    "temperature_rating": "is rated to {v}", "temperature_guide": "is {v}", "breathability": "breathes {v}",
    "fit": "has a {v} fit", "warmth": "its warmth rating|is {v}", "insulation_weight": "its insulation|is {v}",
    "fill_power": "has {v}-fill-power down", "keeps_hot": "keeps drinks hot for {v}",
    "keeps_cold": "keeps drinks cold for {v}", "fits_up_to": "fits up to {v}", "walls": "is {v}",
}  # fmt: skip
_POSSESSIVE = "its "
_LABEL = "label "
_MEASURE = re.compile(r"^[~≈<>-]?\d[\d.,]*\s?(?:%|[a-zA-Z°²³/]{1,8})?(?:\s|$|\(|,)")  # "5 mm", "4.4 h on high"


def describe_attributes(title: str, attributes: list[tuple[str, str]]) -> str:
    """One sentence saying ``attributes`` of the product titled ``title`` in plain words, values verbatim.

    Example:
        >>> describe_attributes("Drizzle Jacket", [("packable", "yes, stuffs into hand pocket"), ("weight", "207 g")])
        'The Drizzle Jacket is packable (stuffs into its hand pocket) and weighs 207 g.'
        >>> describe_attributes("Traverse Boots", [("waterproof", "yes, TrailSeal membrane"), ("season", "year-round")])
        'The Traverse Boots are waterproof (TrailSeal membrane) and are meant for year-round use.'
        >>> describe_attributes("Ridge Shell", [("membrane", "StormVeil 3L"), ("seams", "fully taped")])
        'The membrane of the Ridge Shell is StormVeil 3L, and its seams are fully taped.'
    """
    plural = is_plural(title)
    clauses = [_clause(key, str(value).strip()) for key, value in attributes if str(value).strip()]
    labels = [c[len(_LABEL) :] for c in clauses if c.startswith(_LABEL)]
    clauses = [c for c in clauses if not c.startswith(_LABEL)]
    if labels and not clauses:
        return f"The {title} listing says {'; '.join(labels)}."
    tail = "".join(f" {label[0].upper()}{label[1:]}." for label in labels)
    verbs = [_agree(c, plural) for c in clauses if not c.startswith(_POSSESSIVE)]
    owned = [c[len(_POSSESSIVE) :].split("|", 1) for c in clauses if c.startswith(_POSSESSIVE)]
    if verbs:
        text = f"The {title} " + (verbs[0] if len(verbs) == 1 else f"{', '.join(verbs[:-1])} and {verbs[-1]}")
    elif owned:
        words, rest = owned.pop(0)
        text = f"The {words} of the {title} {rest}"
    else:
        return ""
    its = "their" if plural else "its"
    return text + "".join(f", and {its} {words} {rest}" for words, rest in owned) + "." + tail


def _clause(key: str, value: str) -> str:
    words = _KEY_WORDS.get(key, key.replace("_", " "))
    lowered = value.lower()
    if key == "season":
        if lowered in ("year-round", "all-season") or lowered.endswith("-season"):
            value = f"{value} use"
        elif ";" not in value and ", " in value:
            head, _, last = value.rpartition(", ")
            value = f"{head} and {last}"
    if key in ("weight", "packed_weight"):
        qualified = re.fullmatch(r"(?P<w>.+?), (?P<q>size \S+|regular|long|short)", value)
        if qualified:  # "387 g (13.7 oz), size M" -> "387 g (13.7 oz) in size M"
            q = qualified.group("q")
            value = f"{qualified.group('w')} in {q}" if q.startswith("size") else f"{qualified.group('w')} ({q})"
    if key == "capacity" and re.search(r"\b(?:people|person)\b", lowered):
        return f"sleeps {value}"
    if key == "sizing" and lowered.startswith(("runs ", "true to size")):
        return value if lowered.startswith("runs ") else f"fits {value}"
    if key == "insulation":
        no = _NO.match(value)
        return f"has no insulation{_note(no.group('rest'))}" if no else f"is insulated with {value}"
    if key == "water_resistance":
        if re.fullmatch(r"ipx\d", lowered):
            return f"is rated {value}"
        if re.search(r"\b(?:shell|coating|roll-top)\b", lowered):  # "waterproof roll-top, welded seams"
            first, *rest = value.split(", ")
            return f"has {_article(first)}" + "".join(f" and {r}" for r in rest)
        return f"is {value}"
    if key == "upf":
        return "has no UPF rating" if lowered.startswith("not") else f"is rated {value}"
    if key in _TEMPLATES:
        return _TEMPLATES[key].format(v=value)
    adjective = _ADJECTIVE_KEY.search(key) is not None or key in FEATURES
    yes, no = _YES.match(value), _NO.match(value)
    if yes and (yes.group("rest") or lowered in ("yes", "true", "included")):
        positive, detail = True, yes.group("rest")
    elif no and (not no.group("rest") or lowered.startswith("none")):
        positive, detail = False, no.group("rest")
    elif adjective and key == "waterproof" and lowered.startswith("water-resistant"):
        return f"is {value}"
    elif adjective:  # "dishwasher safe: lid only" is not a plain yes or no: quote it
        return f"{_LABEL}{words}: {value}"
    else:
        return _valued(key, words, value)
    detail = re.sub(r"^stuffs into (?!its |a |the |an )", "stuffs into its ", detail)
    if adjective:
        name = words if key in _KEY_WORDS else words.replace(" ", "-")
        return ("is " if positive else "isn't ") + name + _note(detail)
    if lowered.startswith("included"):
        return f"comes with {_article(words)}{_note(detail)}"
    return (f"has {_article(words)}" if positive else f"has no {words}") + _note(detail)


def _valued(key: str, words: str, value: str) -> str:
    """ "has a lug depth of 5 mm", "has 2 doors", "has 4-way stretch", "has an adjustable drawcord hood" or
    "its upper|is nubuck leather" (possessive)."""
    head = words.split()[-1]
    plural_key = head.endswith("s") and not head.endswith("ss")
    if re.fullmatch(r"\d+", value) and plural_key:
        return f"has {value} {words[:-1] if value == '1' else words}"
    if re.fullmatch(r"\d+(?:\.\d+)?-[a-z]+", value):
        return f"has {value} {words}"
    first = re.split(r",\s|;\s", value)[0]
    if any(w.startswith(head.rstrip("s")) for w in re.findall(r"[a-z]+", first.lower())):
        return (
            f"has {value}"
            if re.match(r"\d", value) and first.split("(")[0].rstrip().endswith("s")
            else (f"has {_article(value)}")
        )
    if value.lower().startswith("fits "):
        return f"has {_article(words)} that {value}"
    if _MEASURE.match(value) and not plural_key:
        return f"has {_article(words)} of {value}"
    return f"{_POSSESSIVE}{words}|{'are' if plural_key else 'is'} {value}"


def _note(detail: str) -> str:
    if not detail:
        return ""
    return f" {detail}" if detail.startswith("(") else f" ({detail})"


def _article(noun: str) -> str:
    if noun.endswith("s") and not noun.endswith("ss"):
        return noun
    return ("an " if re.match(r"[aeiou]|r-|upf", noun, re.I) else "a ") + noun


_PLURAL_VERBS = {"is": "are", "isn't": "aren't", "has": "have", "weighs": "weigh", "sleeps": "sleep", "runs": "run",
                 "fits": "fit", "comes": "come", "breathes": "breathe", "keeps": "keep"}  # fmt: skip


def _agree(clause: str, plural: bool) -> str:
    """``clause`` with its verb made plural for a plural title."""
    if not plural:
        return clause
    first, _, rest = clause.partition(" ")
    return f"{_PLURAL_VERBS.get(first, first)} {rest}".strip()


def is_plural(title: str) -> bool:
    """Whether a product title names a plural thing ("Hiking Boots", "Trekking Poles"), for verb agreement."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", title.split("(")[0])
    head = words[-1].lower() if words else ""
    return head.endswith("s") and not head.endswith(("ss", "us", "is", "as", "'s")) and len(head) > 3
