"""Scrub training text before it is stored or leaves the machine: PII out, stale catalog facts out.

PII becomes a placeholder the model can learn the shape of (``[email]``,
``[phone]``, ``[address]``, ``[card]``); card-like numbers are only replaced
when they pass the Luhn check, so order numbers and SKUs survive. Prices go
stale, so an amount of money becomes ``[price]``: the chat fills in the real
price from the catalog at answer time.

Example:
    >>> scrub_text("Mail jo@example.com or call (415) 555-0134; card 4111 1111 1111 1111.")
    'Mail [email] or call [phone]; card [card].'
    >>> strip_prices("The Ridge Shell is $139.00 today.")
    'The Ridge Shell is [price] today.'
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
PHONE = re.compile(
    r"(?<![\w$])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"
    r"|(?<![\w$])\+\d{1,3}(?:[\s.-]?\d){7,12}\b"
)
STREET = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][\w'.-]*\s+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy)\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|#)\.?\s*\w+)?"
)
PRICE = re.compile(
    r"(?:[$€£]\s?\d(?:[\d,]*\d)?(?:\.\d{1,2})?|\b\d(?:[\d,]*\d)?(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|dollars?)\b)", re.I
)
PLACEHOLDERS = ("[email]", "[phone]", "[address]", "[card]", "[price]")


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum that payment card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) >= 13 and total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if luhn_ok(digits) else match.group()


def scrub_pii(text: str) -> str:
    """``text`` with emails, card numbers (Luhn-valid), phone numbers and street addresses replaced."""
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(_card, text)
    text = PHONE.sub("[phone]", text)
    return STREET.sub("[address]", text)


def strip_prices(text: str) -> str:
    """``text`` with amounts of money replaced by ``[price]`` (they go stale; the catalog has the real ones)."""
    return PRICE.sub("[price]", text)


def scrub_text(text: str, *, prices: bool = True) -> str:
    """PII scrubbed, prices stripped (unless ``prices=False``), whitespace tidied."""
    text = scrub_pii(text)
    if prices:
        text = strip_prices(text)
    return re.sub(r"[ \t]+", " ", text).strip()
