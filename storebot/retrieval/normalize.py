"""Text folding shared by the catalog vocabulary, the query parser and the filters.

A shopper's words and the catalog's values meet only through these helpers,
so both sides are folded the same way: case, accents, ``&`` versus ``and``,
``grey`` versus ``gray``, and English plurals ("tents" ~ "Tents", "jacket" ~
"Jackets"). The small tables here (size synonyms, colour families, gender
words) are the only built-in commerce knowledge; everything else comes from
the store's own catalog, and the store's values always win.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:['’][^\W\d_]+)*|&")

# Plurals that name one thing: singularising them would make "short sleeve" a category hit for "Shorts".
_KEEP_PLURAL = frozenset({
    "shorts", "pants", "trousers", "jeans", "leggings", "tights", "glasses", "sunglasses", "goggles",
    "binoculars", "scissors", "pliers", "clothes", "overalls", "briefs", "boxers",
})  # fmt: skip
_IRREGULAR = {"knives": "knife", "gray": "grey", "grays": "grey", "greys": "grey", "feet": "foot"}

#: Colour families: a shopper's generic colour word -> catalog words that belong to it.
#: Applied only through the catalog: "blue" matches the store's values that contain
#: "blue" or one of these words ("Slate Blue", "Midnight Navy"); a family whose words
#: appear in no colour value matches nothing. Kept deliberately small: each entry is
#: a common fashion/outdoor colour name that nobody would dispute.
COLOR_FAMILIES: dict[str, tuple[str, ...]] = {
    "blue": ("navy", "indigo", "cobalt", "denim", "azure", "teal"),
    "green": ("moss", "olive", "forest", "sage", "lime", "juniper", "pine", "emerald"),
    "red": ("rust", "burgundy", "maroon", "crimson", "brick", "cherry"),
    "orange": ("rust", "amber", "tangerine", "copper"),
    "yellow": ("mustard", "saffron", "lemon", "gold"),
    "purple": ("plum", "violet", "lavender", "lilac", "aubergine"),
    "pink": ("rose", "coral", "blush", "fuchsia", "magenta"),
    "brown": ("tan", "walnut", "chocolate", "coffee", "mocha", "camel"),
    "grey": ("charcoal", "graphite", "granite", "ash", "pewter"),
    "white": ("ivory", "cream", "snow", "chalk"),
    "black": ("onyx", "jet", "ebony"),
    "beige": ("tan", "sand", "oat", "khaki", "stone"),
}

# Size spellings -> one key. Letter sizes fold to xs/s/m/l/xl/xxl/xxxl.
_SIZE_SYNONYMS = {
    "xxs": "xxs", "2xs": "xxs", "xxsmall": "xxs", "extraextrasmall": "xxs",
    "xs": "xs", "xsmall": "xs", "extrasmall": "xs",
    "s": "s", "sm": "s", "small": "s",
    "m": "m", "md": "m", "med": "m", "medium": "m",
    "l": "l", "lg": "l", "large": "l",
    "xl": "xl", "xlarge": "xl", "extralarge": "xl",
    "xxl": "xxl", "2xl": "xxl", "2x": "xxl", "xxlarge": "xxl", "extraextralarge": "xxl",
    "xxxl": "xxxl", "3xl": "xxxl", "3x": "xxxl", "xxxlarge": "xxxl",
}  # fmt: skip
_SIZE_DISPLAY = {"xxs": "XXS", "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "xxxl": "3XL"}

# EU shoe size -> US size, by gender. Brand charts differ by half a size; these are the usual
# mid-points, used only when the catalog lists US sizes and the shopper gave an EU one.
EU_TO_US = {
    "men": {39: "6.5", 40: "7", 41: "8", 42: "8.5", 43: "9.5", 44: "10", 45: "11", 46: "12", 47: "13"},
    "women": {36: "6", 37: "6.5", 38: "7.5", 39: "8.5", 40: "9", 41: "9.5", 42: "10.5"},
}
# US = UK + this, by gender (the usual convention for adult shoes).
UK_TO_US_OFFSET = {"men": 1, "women": 2}

#: Words for each gender group (already stemmed: "womens" -> "women", "ladies" -> "lady").
GENDER_WORDS = {
    "women": frozenset({"women", "woman", "lady", "female", "womans"}),
    "men": frozenset({"men", "male"}),
    "kids": frozenset({"kid", "child", "children", "youth", "boy", "girl", "junior"}),
    "unisex": frozenset({"unisex"}),
}
GENDERS = tuple(GENDER_WORDS)

_OPTION_ALIASES = {
    "colour": "color", "colors": "color", "colours": "color", "colorway": "color", "colourway": "color",
    "shade": "color", "color name": "color", "sizes": "size", "shoe size": "size", "us size": "size",
    "apparel size": "size", "clothing size": "size", "sex": "gender",
}  # fmt: skip


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    low = ch.lower()
    if len(low) != 1:
        return ch
    if low.isascii():
        return low
    stripped = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
    return stripped if len(stripped) == 1 else low


def fold(text: str) -> str:
    """Lowercase and strip accents one character for one, so spans in the result index the original."""
    return "".join(_fold_char(ch) for ch in text)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Word tokens of ``text`` as ``(token, start, end)``; ``&`` reads as ``and``, apostrophes vanish."""
    out = []
    for m in _TOKEN.finditer(fold(text)):
        word = m.group()
        word = "and" if word == "&" else word.replace("'", "").replace("’", "")
        out.append((word, m.start(), m.end()))
    return out


def stem(word: str) -> str:
    """A crude singular, applied identically to both sides of every comparison."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _KEEP_PLURAL or len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ie"):  # so "hoodie" and "hoodies" (-> "hoody") agree
        return word[:-2] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1] if word.endswith("s") else word


@lru_cache(maxsize=65536)  # called for every product on a filtered search; catalog phrases repeat
def phrase_key(text: str) -> tuple[str, ...]:
    """The comparable form of a phrase: stemmed tokens. ``"Hats & Gloves"`` -> ``("hat", "and", "glove")``."""
    return tuple(stem(word) for word, _, _ in tokens(text))


@lru_cache(maxsize=4096)
def option_name(name: str) -> str:
    """The canonical option or attribute name: ``"Colour"`` -> ``"color"``, ``"Shoe Size"`` -> ``"size"``."""
    plain = " ".join(fold(name).replace("_", " ").split())
    return _OPTION_ALIASES.get(plain, plain).replace(" ", "_")


@lru_cache(maxsize=8192)
def size_key(value: str) -> str:
    """One key per size however it is written: ``"Medium"``, ``"med"`` and ``"M"`` -> ``"m"``.

    Numbers lose trailing zeros (``"10.0"`` -> ``"10"``), halves are decimals
    (``"10 1/2"``, ``"10½"`` -> ``"10.5"``), EU and UK sizes keep their system
    (``"EU 44"`` -> ``"eu44"``) and combined sizes keep their slash (``"S/M"`` -> ``"s/m"``).
    """
    text = fold(value).strip().replace("½", ".5")
    text = re.sub(r"^(?:size|sz|us)\b\s*[:#]?\s*", "", text)
    text = re.sub(r"(\d+)\s*(?:1/2|\.5)\b", r"\1.5", text)
    if "/" in text and not re.search(r"\d/\d", text):
        return "/".join(size_key(part) for part in text.split("/") if part.strip())
    system = ""
    if m := re.fullmatch(r"(?:(eu|eur|uk)\s*)?(\d+(?:\.\d+)?)(?:\s*(eu|eur|uk|us))?", text):
        system = (m.group(1) or m.group(3) or "").replace("eur", "eu").replace("us", "")
        return system + _plain_number(m.group(2))
    compact = re.sub(r"[\s_.-]+", "", text)
    return _SIZE_SYNONYMS.get(compact, compact)


def size_parts(key: str) -> tuple[str, ...]:
    """The sizes a combined size covers: ``"s/m"`` -> ``("s", "m")``."""
    return tuple(key.split("/"))


def size_display(key: str) -> str:
    """How to show a size key that the catalog does not list: ``"m"`` -> ``"M"``, ``"eu44"`` -> ``"EU 44"``."""
    if key in _SIZE_DISPLAY:
        return _SIZE_DISPLAY[key]
    if m := re.fullmatch(r"(eu|uk)(.+)", key):
        return f"{m.group(1).upper()} {m.group(2)}"
    return key.upper() if key.isalpha() else key


def gender_group(word: str) -> str | None:
    """The gender group of one word or value (``"Women's"`` -> ``"women"``), or None."""
    for word_key in phrase_key(word) or (word,):
        for group, words in GENDER_WORDS.items():
            if word_key in words:
                return group
    return None


def _plain_number(number: str) -> str:
    try:
        value = Decimal(number).normalize()
    except InvalidOperation:
        return number
    return f"{value:f}"
