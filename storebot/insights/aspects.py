"""What a review talks about, sentence by sentence: fixed aspects by lexicon and embedding prototypes, and fit.

Six aspects are fixed (fit and sizing, quality and durability, comfort, value and price, warmth and
waterproofing, shipping and service). A sentence mentions one when a lexicon pattern matches it, or when its
embedding is close to one of the aspect's prototype sentences (which catches "my usual M was snug across the
shoulders" without a list of every way to say it). Aspects a store's own reviews talk about beyond these are
found by :mod:`storebot.insights.discovery`. Fit remarks ("runs small", "size up", "true to size") are read
separately into a fit signal.

Example:
    >>> [m.aspect for m in fixed_aspects("Runs small, and the zipper broke after a week.")]
    ['fit', 'quality']
    >>> fit_remark("Order a size up; it runs small.")
    'small'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Aspect:
    """A fixed aspect: a key, a label, its lexicon and prototype sentences for the embedding match.

    Example:
        >>> ASPECTS["fit"].label
        'Fit and sizing'
    """

    key: str
    label: str
    pattern: re.Pattern[str]
    prototypes: tuple[str, ...]


def _lexicon(*terms: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(terms) + r")\b", re.IGNORECASE)


ASPECTS: dict[str, Aspect] = {a.key: a for a in (
    Aspect("fit", "Fit and sizing", _lexicon(
        r"fit(?:s|ted|ting)?", r"siz(?:e|es|ed|ing)", r"runs? (?:small|large|big|true|narrow|wide|long|short)",
        "true to size", "snug", "tight", "loose", "baggy", "roomy", "too (?:big|small|long|short)", "length",
        "sleeves? (?:are|were) (?:long|short)", "narrow", "boxy", "petite",
    ), ("It runs small, order a size up.", "True to size, my usual size fits.", "The sleeves are too long.",
        "Snug across the shoulders.")),
    Aspect("quality", "Quality and durability", _lexicon(
        "quality", r"durab\w*", "well[- ]made", "well built", "built like", "construction", r"stitch\w*", "seams?",
        "fell apart", r"wor(?:e|n) (?:out|through)", r"rip(?:s|ped)?", r"tor[en]", r"tears?", r"broke\w*",
        r"pill(?:s|ed|ing)?", "holding up", r"held up", r"lasted", "flimsy", "sturdy", "cheaply made", r"fray\w*",
        r"leak(?:s|ed|ing)?", r"snag(?:s|ged|ging)?", r"popped", r"peel\w*", r"crack\w*", r"fuzz\w*", r"defect\w*",
    ), ("It fell apart after a month.", "Very well made and durable.", "The stitching came loose.",
        "Still going strong after years of use.")),
    Aspect("comfort", "Comfort", _lexicon(
        r"comfort\w*", r"uncomfortabl\w*", "soft", r"itch\w*", r"scratch\w*", "cozy", "cosy", r"blister\w*",
        r"chaf\w*", r"rub(?:s|bed|bing)?", r"pinch\w*", r"cushion\w*", "stiff", "forget i'm wearing",
    ), ("So comfortable I forget I'm wearing it.", "It rubs and gives me blisters.", "Soft and cozy.")),
    Aspect("value", "Value and price", _lexicon(
        "price", r"priced?", "value", "worth", "money", "cheap", "expensive", "pricey", "overpriced", r"costs?",
        "deal", "bargain", "budget", r"\$\d+(?:\.\d\d)?", "paid",
    ), ("Great value for the money.", "Too expensive for what you get.", "Worth every penny.")),
    Aspect("warmth_waterproofing", "Warmth and waterproofing", _lexicon(
        "warm", "warmth", "warmer", "cold", "chilly", "freezing", r"insulat\w*", r"waterproof\w*",
        r"water[- ]?resistant", "rain", "downpour", "cloudburst", "drizzle", "dry", "wet", "soaked", "damp", "wind",
        r"windproof", r"breathab\w*", r"sweat\w*", "clammy", "toasty", "°[fc]", r"degrees?", "snow",
    ), ("Kept me dry in heavy rain.", "Warm enough for winter.", "I got soaked through.",
        "Not breathable, I sweat a lot.")),
    Aspect("shipping_service", "Shipping and service", _lexicon(
        r"ship(?:ping|ped|s)?", r"deliver\w*", r"arriv\w*", "package", "parcel", "customer service", "support",
        r"returns?", r"returned", r"exchang\w*", r"refund\w*", "carrier", "tracking", "estimated date",
        "team", "replacement", "warranty",
    ), ("Shipping was fast and it arrived early.", "Customer service was very helpful with my exchange.",
        "The package arrived late.")),
)}  # fmt: skip

FIT_SMALL = re.compile(
    r"\bruns? (?:a (?:bit|little|touch) |slightly |very |really )?(?:small|short|narrow|tight)\b|\bsiz(?:e|ed|ing) up\b"
    r"|\b(?:a|one|half a) size (?:up|bigger|larger)\b|\bgo(?:ne)? up (?:a|one|half a) size\b|\bsize (?:bigger|larger)\b"
    r"|\b(?:too|a bit|a little|slightly|bit) (?:small|tight|snug|short|narrow)\b|\bsnug\b|\btight\b",
    re.IGNORECASE,
)
FIT_LARGE = re.compile(
    r"\bruns? (?:a (?:bit|little|touch) |slightly |very |really )?(?:large|big|long|wide|loose)\b|\bsiz(?:e|ed|ing) "
    r"down\b|\b(?:a|one|half a) size (?:down|smaller)\b|\bgo(?:ne)? down (?:a|one|half a) size\b|\bsize smaller\b"
    r"|\b(?:too|a bit|a little|slightly|bit) (?:big|large|loose|long|baggy|wide|roomy)\b|\bbaggy\b",
    re.IGNORECASE,
)
FIT_TRUE = re.compile(
    r"\btrue to size\b|\bfits? (?:true|perfectly|as expected|just right|like a glove)\b|\bTTS\b"
    r"|\b(?:my|the) usual (?:size|\w{1,3}) (?:fits|was|is) (?:perfect|right|spot on|fine)\b"
    r"|\b(?:does ?n[o']t|did ?n[o']t|does not|did not) run (?:small|large|big)\b|\bsizing is (?:spot on|accurate)\b",
    re.IGNORECASE,
)


def fit_remark(sentence: str) -> str | None:
    """``small``, ``large`` or ``true`` when the sentence says how the product's size runs, else None."""
    if FIT_TRUE.search(sentence):
        return "true"
    small, large = FIT_SMALL.search(sentence), FIT_LARGE.search(sentence)
    if small and not large:
        return "small"
    if large and not small:
        return "large"
    return None


@dataclass(frozen=True)
class AspectMatch:
    """One aspect a sentence mentions, and how it was found (``lexicon`` or ``prototype``)."""

    aspect: str
    how: str = "lexicon"


def fixed_aspects(sentence: str, vector: np.ndarray | None = None, prototypes: PrototypeIndex | None = None,
                  threshold: float = 0.6) -> list[AspectMatch]:  # fmt: skip
    """The fixed aspects ``sentence`` mentions: lexicon matches, then prototype matches from its embedding."""
    found = [AspectMatch(key) for key, aspect in ASPECTS.items() if aspect.pattern.search(sentence)]
    if vector is not None and prototypes is not None:
        have = {m.aspect for m in found}
        found += [AspectMatch(key, "prototype") for key in prototypes.near(vector, threshold) if key not in have]
    return found


class PrototypeIndex:
    """The fixed aspects' prototype sentences, embedded once, for nearest-aspect lookups.

    Example:
        >>> index = PrototypeIndex(embedder.encode)  # doctest: +SKIP
        >>> index.near(embedder.encode(["it was snug in the chest"])[0], 0.6)  # doctest: +SKIP
        ['fit']
    """

    def __init__(self, encode: object) -> None:
        self.keys = [key for key, aspect in ASPECTS.items() for _ in aspect.prototypes]
        texts = [text for aspect in ASPECTS.values() for text in aspect.prototypes]
        self.vectors = np.asarray(encode(texts))  # type: ignore[operator]

    def near(self, vector: np.ndarray, threshold: float) -> list[str]:
        similarity = self.vectors @ np.asarray(vector)
        best: dict[str, float] = {}
        for key, value in zip(self.keys, similarity, strict=True):
            best[key] = max(best.get(key, -1.0), float(value))
        return [key for key, value in best.items() if value >= threshold]


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Za-z0-9])|(?<=;)\s+|\n+")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|vs|approx|incl|sz|mr|mrs|ms|dr|ft|oz|lbs?)\.$", re.I)


def split_sentences(text: str) -> list[str]:
    """A review's sentences (semicolon-separated clauses count as sentences: they often change topic).

    Shoppers often write in lower case ("love it.  runs small. i'm 5'4"), so a sentence may start with either
    case; a piece ending in an abbreviation ("approx.", "e.g.", "sz.") is joined to the next.

    Example:
        >>> split_sentences("love it.  runs small, e.g. size up! ok?")
        ['love it.', 'runs small, e.g. size up!', 'ok?']
    """
    pieces: list[str] = []
    for piece in (p.strip() for p in _SENTENCE.split(text or "")):
        if pieces and _ABBREVIATION.search(pieces[-1]) and not pieces[-1].endswith((";", "!", "?")):
            pieces[-1] = f"{pieces[-1]} {piece}".strip()
        elif piece:
            pieces.append(piece)
    return [p for p in pieces if len(p) > 2]


def review_sentences(title: str, body: str) -> list[str]:
    """The sentences of a review, its title first when it has one."""
    title = (title or "").strip()
    return ([title] if title else []) + split_sentences(body)
