"""Which products a piece of text talks about, and which product-like names it makes up.

An answer rarely repeats a full title: it says "the Ridge Shell", "the first
one" or "both". :func:`find_mentions` finds those references to the retrieved
products, and :func:`attribute` decides which product a claim at a position
belongs to (the nearest list of names before it, "both" meaning all of them).
:func:`unknown_names` finds title-like phrases ("the Summit Pro jacket") that
match no retrieved record.

Example:
    >>> from storebot.catalog.models import Product
    >>> jacket = Product(id="1001", title="Men's Ridge Shell Rain Jacket")
    >>> [m.ids for m in find_mentions("The Ridge Shell is light.", [jacket])]
    [frozenset({'1001'})]
    >>> unknown_names("Try the Summit Pro Jacket instead.", [jacket])
    [(8, 25, 'Summit Pro Jacket')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from storebot.catalog.models import Product
from storebot.chat.amounts import fold

GENDER = {"men's", "mens", "men", "women's", "womens", "women", "kids'", "kid's", "kids", "unisex", "boys'",
          "girls'", "boys", "girls"}  # fmt: skip
PRODUCT_NOUNS = {
    "jacket", "coat", "parka", "vest", "hoody", "hoodie", "fleece", "shell", "puffer", "anorak", "trench",
    "pullover", "sweater", "quarter-zip", "crew", "tee", "shirt", "top", "bra", "tank", "jersey", "pants", "pant",
    "shorts", "tights", "leggings", "joggers", "jogger", "bottoms", "boot", "boots", "shoe", "shoes", "sneaker",
    "sandal", "sandals", "socks", "sock", "hat", "cap", "beanie", "gloves", "glove", "mittens", "mitten", "gaiter",
    "pack", "backpack", "daypack", "bag", "tent", "shelter", "tarp", "pad", "mat", "quilt", "headlamp", "lantern",
    "light", "stove", "bottle", "flask", "mug", "reservoir", "skillet", "pot", "pan", "cook", "set", "spork",
    "poles", "pole", "sleeping", "sling", "bivy", "hammock", "pillow", "chair", "table", "filter", "kit"
}  # fmt: skip
GENERIC = PRODUCT_NOUNS | GENDER | {
    "rain", "waterproof", "insulated", "down", "synthetic", "hiking", "running", "trail", "trekking",
    "backpacking", "climbing", "winter", "summer", "spring", "fall", "lightweight", "ultralight", "packable",
    "merino", "wool", "fleece", "base", "layer", "alpine", "outdoor", "gear", "water", "camp", "camping", "travel",
    "black", "white", "blue", "red", "green", "grey", "gray", "navy", "orange", "yellow", "brown", "pink",
    "purple", "olive", "tan", "classic", "new", "best", "top", "sale", "free", "shipping", "returns", "return",
    "policy", "store", "shop", "customer", "service", "team", "order", "orders", "jackets", "size", "sizes",
    "small", "medium", "large"
}  # fmt: skip
_LEADING = {"the", "our", "this", "that", "these", "those", "a", "an", "its", "their", "your", "both", "and", "or",
            "yes", "no", "here", "for", "with", "while", "but", "if", "try", "consider", "see", "get", "buy", "i",
            "we", "you", "it", "is", "are", "also", "as", "at", "by", "from", "in", "on", "to", "of", "each",
            "either", "neither", "compared", "unlike", "like", "sure", "hi", "hello", "thanks", "sorry"}  # fmt: skip
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+|')?")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n•*]|-\s)[\s\"'(\[]*$")
_LIST_GAP = re.compile(r"^[\s,;/&(]*(?:(?:and|or|vs\.?|versus|compared (?:to|with)|with)\s+)?(?:the\s+)?$", re.I)
_ORDINAL = re.compile(
    r"\b(?:the )?(first|second|third|fourth|fifth|last)(?: one| option| pick| product| item)\b"
    r"|\bthe (first|second|third|fourth|fifth|last)(?=\s*(?:[,.;:!?)]|$|\s(?:is|has|costs|comes|offers|was|would|will|"
    r"looks|seems|and|or|runs|fits|weighs)\b))",
    re.I,
)
_PLURAL = re.compile(
    r"\b(?:both|all (?:of )?(?:them|these|three|four|five)|they|these|each|them|either|neither)\b", re.I
)
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}


@dataclass(frozen=True)
class Word:
    """One word of a text, with where it is and how it is written."""

    key: str  # lowercased, possessive "'s" removed (except on gender words)
    start: int
    end: int
    capital: bool
    initial: bool  # first word of a sentence or list item


@dataclass(frozen=True)
class Mention:
    """A reference to retrieved products: a name, an ordinal ("the first one") or a plural ("both")."""

    start: int
    end: int
    ids: frozenset[str]
    kind: str = "name"  # "name", "ordinal" or "plural"


def words(text: str) -> list[Word]:
    text = fold(text)
    found = []
    for m in _WORD.finditer(text):
        raw = m.group(0)
        key = raw.lower()
        if key.endswith("'s") and key not in GENDER:
            key = key[:-2]
        key = key.rstrip("'") if key not in GENDER else key
        initial = bool(_SENTENCE_START.search(text[max(0, m.start() - 8) : m.start()]))
        found.append(Word(key, m.start(), m.end(), raw[0].isupper() or raw[0].isdigit(), initial))
    return found


def word_keys(text: str) -> list[str]:
    """The keys of :func:`words`, without positions (fast, for long record text)."""
    keys = []
    for raw in _WORD.findall(fold(text)):
        key = raw.lower()
        if key not in GENDER:
            key = (key[:-2] if key.endswith("'s") else key).rstrip("'")
        keys.append(key)
    return keys


@lru_cache(maxsize=4096)
def core(title: str) -> tuple[str, ...]:
    """A title's words without a leading gender: "Men's Ridge Shell Rain Jacket" -> ridge shell rain jacket."""
    keys = word_keys(title)
    while keys and keys[0] in GENDER:
        keys = keys[1:]
    return tuple(keys)


def _keys(product: Product) -> set[tuple[str, ...]]:
    c = list(core(product.title))
    keys = {tuple(c[:n]) for n in range(2, len(c) + 1)}
    if len(c) >= 3:
        keys.add((c[0], c[-1]))
    if c and len(c[0]) >= 3 and not c[0].isdigit() and c[0] not in GENERIC:
        keys.add((c[0],))
    return keys


def find_mentions(text: str, products: Sequence[Product]) -> list[Mention]:
    """References to ``products`` in ``text``, in order: longest name match wins at each position."""
    ws = words(text)
    index: dict[tuple[str, ...], set[str]] = {}
    for product in products:
        for key in _keys(product):
            index.setdefault(key, set()).add(product.id)
    longest = max((len(k) for k in index), default=0)
    found: list[Mention] = []
    i = 0
    while i < len(ws):
        match = None
        for n in range(min(longest, len(ws) - i), 0, -1):
            key = tuple(w.key for w in ws[i : i + n])
            if key in index and (n > 1 or _names_alone(ws, i)):
                match = (n, index[key])
                break
        if match is None:
            i += 1
            continue
        n, ids = match
        ids = _by_gender(ws, i, ids, products)
        gendered = i > 0 and ws[i - 1].key in GENDER and ws[i].start - ws[i - 1].end <= 1
        found.append(Mention(ws[i - 1 if gendered else i].start, ws[i + n - 1].end, frozenset(ids)))
        i += n
    for m in _ORDINAL.finditer(fold(text)):
        position = _ORDINALS[(m.group(1) or m.group(2)).lower()]
        if products and position < len(products):
            found.append(Mention(m.start(), m.end(), frozenset({products[position].id}), "ordinal"))
    for m in _PLURAL.finditer(fold(text)):
        found.append(Mention(m.start(), m.end(), frozenset(), "plural"))
    return sorted(found, key=lambda m: m.start)


def _names_alone(ws: list[Word], i: int) -> bool:
    """A one-word name ("the Cloudburst") counts only capitalised mid-sentence and not inside another name."""
    word = ws[i]
    if not word.capital or word.initial:
        return False
    following = ws[i + 1] if i + 1 < len(ws) else None
    return following is None or not following.capital or following.key in PRODUCT_NOUNS or following.initial


def _by_gender(ws: list[Word], i: int, ids: set[str], products: Sequence[Product]) -> set[str]:
    before = ws[i - 1].key if i else ""
    if before not in GENDER or len(ids) < 2:
        return ids
    women = before.startswith("wom")
    kept = {p.id for p in products if p.id in ids and _gender(p.title) and _gender(p.title).startswith("wom") == women}
    return kept or ids


def _gender(title: str) -> str:
    """The gender word a title starts with ("women's"), or ""."""
    keys = word_keys(title)
    return keys[0] if keys and keys[0] in GENDER else ""


def attribute(text: str, position: int, mentions: Sequence[Mention]) -> frozenset[str] | None:
    """The products a claim at ``position`` is about, or None when the text names none before or near it.

    The nearest run of names before the claim wins ("A and B are $139" -> A, B); "both" or "they"
    after that run means every product named so far; with nothing before, the first run after the
    claim in the same sentence ("At $139, the Ridge Shell ...").
    """
    named = [m for m in mentions if m.kind != "plural"]
    runs = _runs(text, named)
    before = [r for r in runs if r[-1].end <= position]
    if before:
        run = before[-1]
        plural = any(m.kind == "plural" and run[-1].end <= m.start < position for m in mentions)
        if plural:
            return frozenset().union(*(m.ids for m in named if m.end <= position))
        return frozenset().union(*(m.ids for m in run))
    if any(m.kind == "plural" and m.start < position for m in mentions):
        return None
    end = _sentence_end(text, position)
    after = [r for r in runs if position <= r[0].start < end]
    return frozenset().union(*(m.ids for m in after[0])) if after else None


def _runs(text: str, mentions: Sequence[Mention]) -> list[list[Mention]]:
    runs: list[list[Mention]] = []
    for m in mentions:
        if runs and _LIST_GAP.match(text[runs[-1][-1].end : m.start]):
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _sentence_end(text: str, position: int) -> int:
    m = re.compile(r"[.!?](?:\s|$)|\n").search(text, position)
    return m.end() if m else len(text)


def unknown_names(text: str, products: Sequence[Product], *, known_text: str = "") -> list[tuple[int, int, str]]:
    """Title-like phrases in ``text`` that name no retrieved product: (start, end, phrase).

    A candidate is a run of capitalised words (or model numbers) that ends in a product noun,
    is followed by one, or starts with a retrieved brand, and has a word that is not generic.
    It is known if its words all occur in one product's title and brand, or if the phrase occurs
    in ``known_text`` (the records, the question, the store's name).
    """
    ws = words(text)
    nouns = PRODUCT_NOUNS | {core(p.title)[-1] for p in products if core(p.title)}
    brands = {k for p in products for k in word_keys(p.brand)}
    vocab = [set(word_keys(f"{p.title} {p.brand}")) for p in products]
    known = " ".join(word_keys(known_text))
    position = {w.start: i for i, w in enumerate(ws)}
    found = []
    for run in _capital_runs(text, ws):
        keys = [w.key for w in run]
        after = position[run[-1].start] + 1
        following = ws[after] if after < len(ws) else None
        ends_in_noun = len(run) >= 2 and _noun(keys[-1], nouns)
        before_noun = following is not None and _noun(following.key, nouns) and not following.capital
        if not (ends_in_noun or before_noun or (len(run) >= 2 and keys[0] in brands)):
            continue
        if all(k in GENERIC or _noun(k, nouns) for k in keys):
            continue
        if any(set(keys) <= v | {k for k in keys if k in GENDER} for v in vocab):
            continue
        if f" {' '.join(keys)} " in f" {known} ":
            continue
        found.append((run[0].start, run[-1].end, text[run[0].start : run[-1].end]))
    return found


def _noun(key: str, nouns: set[str]) -> bool:
    return key in nouns or (key.endswith("s") and key[:-1] in nouns) or (key.endswith("es") and key[:-2] in nouns)


def _capital_runs(text: str, ws: list[Word]) -> list[list[Word]]:
    runs: list[list[Word]] = []
    current: list[Word] = []
    for w in ws:
        joined = current and re.fullmatch(r"[ \-]?", text[current[-1].end : w.start]) and not w.initial
        if w.capital and (joined or not current):
            current.append(w)
            continue
        if current:
            runs.append(current)
        current = [w] if w.capital else []
    if current:
        runs.append(current)
    trimmed = []
    for run in runs:
        while run and (run[0].key in _LEADING or run[0].key in GENDER or (run[0].initial and run[0].key in GENERIC)):
            run = run[1:]
        if run and not (len(run) == 1 and run[0].initial):  # a lone capital may just start the sentence
            trimmed.append(run)
    return trimmed
