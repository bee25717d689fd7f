"""The keyword tokenizer: unicode-normalised, lowercase, numbers kept whole, a tiny English stemmer.

Product text is full of numbers with units and thousands separators
("10,000mm", "32GB", "1.5 qt"), so a number keeps its separators removed and,
when a unit is glued to it, is emitted both whole and as number and unit; a
shopper's "32 gb" then still matches "32GB". The stemmer only folds plurals
and a possessive ("boots", "batteries", "men's"): measured on a labelled
product-search set it helps, while a full Porter stemmer conflates too much
product vocabulary ("sweater"/"sweat").
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[^\W\d_]*|[^\W_]+")
_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)([^\W\d_]+)$")
_APOSTROPHES = re.compile(r"(?<=\w)['\u2019](?=\w)")
_HYPHENATED = re.compile(r"[^\W_]+(?:-[^\W_]+)+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def normalize(text: str) -> str:
    """NFKC, accents stripped, lowercased, apostrophes inside words dropped ("men's" -> "mens")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text).casefold()
    return _APOSTROPHES.sub("", text)


def stem(token: str) -> str:
    """Fold an English plural or possessive "s": batteries -> battery, boxes -> box, boots -> boot."""
    n = len(token)
    if n <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and n > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes", "zes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is", "ys")):
        return token[:-1]
    return token


def _terms(text: str, stemming: bool, out: list[str]) -> None:
    for raw in _TOKEN.findall(text):
        if raw[0].isdigit():
            token = raw.replace(",", ".")  # thousands commas are gone; "1,5" is a decimal
            out.append(token)
            unit = _NUM_UNIT.match(token)
            if unit:
                out.append(unit.group(1))
                out.append(stem(unit.group(2)) if stemming else unit.group(2))
        else:
            out.append(stem(raw) if stemming else raw)


def tokenize(text: str, *, stemming: bool = True) -> list[str]:
    """Split normalised text into search terms; a hyphenated word also yields its parts joined.

    Example:
        >>> tokenize("Men's 10,000mm Rain-Jackets, 32GB")
        ['men', '10000mm', '10000', 'mm', 'rain', 'jacket', 'rainjacket', '32gb', '32', 'gb']
    """
    text = _THOUSANDS.sub("", normalize(text))
    out: list[str] = []
    done = 0
    for group in _HYPHENATED.finditer(text):
        _terms(text[done : group.start()], stemming, out)
        _terms(group.group(), stemming, out)
        # "t-shirt" and "tshirt", "wi-fi" and "wifi" should meet.
        joined = group.group().replace("-", "")
        out.append(stem(joined) if stemming else joined)
        done = group.end()
    _terms(text[done:], stemming, out)
    return out
