"""What a search answer says before its cards when the shopper's words were not all the catalog's.

- Typos the search corrected: ``Showing results for "waterproof hiking boot for women".``
- A thing the store does not sell: ``We don't seem to carry "kayaks".`` and no cards, rather than four pairs of
  sandals that happen to be near "kayaks" in meaning.
- Many words no product uses (another language, gibberish): a request to rephrase.
- A known thing with an unknown word ("Patagonia jackets"): the closest matches, saying which word is not carried.

Example:
    >>> from types import SimpleNamespace as S
    >>> kayaks = S(corrections={}, unmatched=["kayaks"], nothing_matched=True, parsed=S(search_text="kayaks"),
    ...            content_words=["kayaks"])
    >>> search_note(kayaks, "Do you sell Kayaks?")
    'We don\\'t seem to carry "Kayaks". Could you tell me more about what you need it for?'
"""

from __future__ import annotations

import re
from typing import Any

REPHRASE = ("I couldn't match those words to anything in our catalog. Could you say it another way, in English if "
            "you can?")  # fmt: skip
UNKNOWN_WORDS_SHOWN = 3
SHORT_SEARCH = 4  # content words


def search_note(search: Any, message: str) -> str:
    """The sentence that goes before a search answer's listing, or "" when every word was the catalog's."""
    if search is None:
        return ""
    if search.corrections:
        return f'Showing results for "{search.parsed.search_text}".'
    if search.nothing_matched:
        if len(search.unmatched) > UNKNOWN_WORDS_SHOWN:
            return REPHRASE
        missing = _quoted(search.unmatched, message)
        return f"We don't seem to carry {missing}. Could you tell me more about what you need it for?"
    notable = [w for w in search.unmatched if len(w) >= 4]  # "sox" is only a short way to write socks
    # Only in a short search is an unknown word the product asked for ("Patagonia jackets"); in a long message it is
    # more likely part of the story ("...for a Sierra trip because our old one broke").
    if notable and len(search.content_words) <= SHORT_SEARCH:
        missing = _quoted(notable[:UNKNOWN_WORDS_SHOWN], message)
        return f"We don't seem to carry {missing}, so here are the closest matches."
    return ""


def _quoted(words: list[str], message: str) -> str:
    """``words`` as the shopper typed them, quoted: ``"Patagonia"`` or ``"GPS" or "watch"``."""
    typed = []
    for word in words:
        found = re.search(rf"\b{re.escape(word)}\b", message, re.IGNORECASE)
        typed.append(f'"{found.group(0) if found else word}"')
    return " or ".join(typed)
