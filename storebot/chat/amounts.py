"""Money and measured quantities in free text: find them, normalise them, compare them.

Grounding reads amounts out of an answer and out of the records it was built
from, then compares the two. Both sides go through the same parser, so
``"20000mm"`` and ``"20,000 mm"`` are the same claim, ``"$139"`` equals
``"139.00"``, and ``"13.7 oz"`` can be checked against ``"387 g"``.

Example:
    >>> [(m.value, m.symbol) for m in find_money("Now $239.00 (was $349).")]
    [(Decimal('239.00'), '$'), (Decimal('349'), '$')]
    >>> [(q.value, q.unit) for q in find_quantities("rated 20000mm, 387 g")]
    [(20000.0, 'mm'), (387.0, 'g')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
SYMBOL_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}

# Same-length substitutions, so offsets found in the normalised text are valid in the original.
_FOLD = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "−": "-", "\u00a0": " ", "\u202f": " "})

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_MONEY_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?"
_MONEY = re.compile(
    rf"(?P<sym>[$€£¥])\s?(?P<a>{_MONEY_NUM})(?![\d.,]\d)"
    rf"|\b(?P<code>USD|EUR|GBP|CAD|AUD)\s?(?P<b>{_MONEY_NUM})\b"
    rf"|(?<![\w.,$€£])(?P<c>{_MONEY_NUM})\s?(?P<word>USD|EUR|GBP|dollars?|euros?)\b",
)
# "129.00" with no symbol counts as money only right after a price word.
_BARE_MONEY = re.compile(r"(?<![\w.,$€£])(?P<n>\d{1,5}\.\d{2})(?![\d%])")
_PRICE_WORD = re.compile(r"\b(?:price[sd]?|costs?|sells? for|sale|now|was|only|just|pay|for|at)\b[^.\d]{0,12}$", re.I)

# alias -> (canonical unit, dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, str, float]] = {
    "mm": ("mm", "length", 1.0), "cm": ("cm", "length", 10.0), "m": ("m", "length", 1000.0),
    "km": ("km", "length", 1e6), "in": ("in", "length", 25.4), "inch": ("in", "length", 25.4),
    "inches": ("in", "length", 25.4), "ft": ("ft", "length", 304.8), "feet": ("ft", "length", 304.8),
    "g": ("g", "mass", 1.0), "grams": ("g", "mass", 1.0), "kg": ("kg", "mass", 1000.0),
    "oz": ("oz", "mass", 28.3495), "ounces": ("oz", "mass", 28.3495), "lb": ("lb", "mass", 453.592),
    "lbs": ("lb", "mass", 453.592), "pounds": ("lb", "mass", 453.592),
    "ml": ("ml", "volume", 1.0), "l": ("l", "volume", 1000.0), "liter": ("l", "volume", 1000.0),
    "liters": ("l", "volume", 1000.0), "litre": ("l", "volume", 1000.0), "litres": ("l", "volume", 1000.0),
    "°c": ("c", "temp", 1.0), "° c": ("c", "temp", 1.0), "degrees c": ("c", "temp", 1.0),
    "°f": ("f", "temp", 1.0), "° f": ("f", "temp", 1.0), "degrees f": ("f", "temp", 1.0),
    "g/m²/24h": ("g/m2/24h", "breathability", 1.0), "g/m2/24h": ("g/m2/24h", "breathability", 1.0),
    "g/m²": ("g/m2", "areal", 1.0), "g/m2": ("g/m2", "areal", 1.0), "gsm": ("g/m2", "areal", 1.0),
    "m²": ("m2", "area", 1.0), "m2": ("m2", "area", 1.0), "ft²": ("ft2", "area", 0.092903),
    "sq ft": ("ft2", "area", 0.092903),
    "lumens": ("lm", "light", 1.0), "lumen": ("lm", "light", 1.0), "lm": ("lm", "light", 1.0),
    "denier": ("denier", "denier", 1.0), "d": ("denier", "denier", 1.0),
    "fill power": ("fill", "fill", 1.0), "fill": ("fill", "fill", 1.0), "fp": ("fill", "fill", 1.0),
    "mah": ("mah", "charge", 1.0), "kw": ("kw", "power", 1.0), "btu/h": ("btu/h", "btu", 1.0),
    "h": ("h", "time", 1.0), "hr": ("h", "time", 1.0), "hrs": ("h", "time", 1.0), "hour": ("h", "time", 1.0),
    "hours": ("h", "time", 1.0), "min": ("min", "time", 1 / 60), "minutes": ("min", "time", 1 / 60),
    "days": ("day", "days", 1.0), "day": ("day", "days", 1.0), "business days": ("day", "days", 1.0),
    "%": ("%", "percent", 1.0), "percent": ("%", "percent", 1.0),
    "layer": ("layer", "layer", 1.0), "layers": ("layer", "layer", 1.0),
    "person": ("person", "persons", 1.0), "people": ("person", "persons", 1.0),
    "stars": ("star", "rating", 1.0), "star": ("star", "rating", 1.0), "/5": ("star", "rating", 1.0),
    "out of 5": ("star", "rating", 1.0),
}  # fmt: skip
_CASED = {"d"}  # "210D" is denier; a lowercase "d" is not
_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_QUANTITY = re.compile(rf"(?<![\w.,])(?P<n>-?{_NUM})\s?-?\s?(?P<u>{_UNIT_RE})(?![A-Za-z0-9²])", re.I)
_PREFIXED = re.compile(
    rf"\b(?P<u>r[-\s_]?value|upf|fill[-\s_]power|ipx)\s*(?:rating\s*)?(?:of|:|is)?\s*(?P<n>{_NUM})", re.I
)
_PREFIX_UNITS = {"r": ("r-value", "r_value"), "u": ("upf", "upf"), "f": ("fill", "fill"), "i": ("ipx", "ipx")}
_INCH_AFTER = re.compile(r"\s*(?:$|[^\w\s]|(?:or|and|inseam|long|wide|tall|deep|high)\b)", re.I)
APPROX = re.compile(
    r"\b(?:about|around|roughly|approximately|approx\.?|nearly|almost|just under|just over|~)\s*$", re.I
)


@dataclass(frozen=True)
class Money:
    """An amount of money found in text, with where it was."""

    value: Decimal
    symbol: str  # "$", "€", "USD", "dollars" or "" for a bare "129.00"
    start: int
    end: int
    text: str

    @property
    def currency(self) -> str | None:
        code = SYMBOL_CURRENCY.get(self.symbol) or self.symbol.upper()
        if code.startswith("DOLLAR"):
            return "USD"
        if code.startswith("EURO"):
            return "EUR"
        return code or None


@dataclass(frozen=True)
class Quantity:
    """A measured number found in text: ``value`` in ``unit``, ``base`` in the dimension's base unit."""

    value: float
    unit: str
    dim: str
    base: float
    start: int
    end: int
    text: str


def fold(text: str) -> str:
    """Typographic quotes, dashes and spaces made plain, keeping every offset."""
    return text.translate(_FOLD)


def to_decimal(number: str) -> Decimal:
    return Decimal(number.replace(",", ""))


def format_money(value: Decimal | None, currency: str = "USD") -> str:
    """``Decimal("139.00")`` -> ``"$139"``, ``Decimal("29.95")`` -> ``"$29.95"``; unknown codes trail."""
    if value is None:
        return ""
    amount = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def find_money(text: str, *, bare: bool = True) -> list[Money]:
    """Every amount of money in ``text``; with ``bare``, also "129.00" right after a price word."""
    text = fold(text)
    found: list[Money] = []
    for m in _MONEY.finditer(text):
        number = m.group("a") or m.group("b") or m.group("c")
        symbol = m.group("sym") or m.group("code") or (m.group("word") or "").lower()
        found.append(Money(to_decimal(number), symbol, m.start(), m.end(), m.group(0)))
    if bare:
        taken = [(f.start, f.end) for f in found] + [(q.start, q.end) for q in find_quantities(text)]
        for m in _BARE_MONEY.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            if _PRICE_WORD.search(text[max(0, m.start() - 30) : m.start()]):
                found.append(Money(to_decimal(m.group("n")), "", m.start(), m.end(), m.group(0)))
    return sorted(found, key=lambda f: f.start)


def money_values(text: str) -> set[Decimal]:
    """The amounts of money written with a currency in ``text`` (for evidence: policies, descriptions)."""
    return {m.value for m in find_money(text, bare=False)}


def find_quantities(text: str) -> list[Quantity]:
    """Every number with a unit in ``text``: "20,000 mm", "800-fill", "R-value 4.2", "-25 °C", "UPF 50+"."""
    text = fold(text)
    found: list[Quantity] = []
    for m in _PREFIXED.finditer(text):
        unit, dim = _PREFIX_UNITS[m.group("u")[0].lower()]
        value = float(m.group("n").replace(",", ""))
        found.append(Quantity(value, unit, dim, value, m.start(), m.end(), m.group(0)))
    taken = [(q.start, q.end) for q in found]
    for m in _QUANTITY.finditer(text):
        alias = m.group("u")
        if alias.lower() in _CASED and alias.islower():
            continue
        if any(s <= m.start() < e for s, e in taken):
            continue
        if text[max(0, m.start() - 1) : m.start()] in "$€£¥" and m.start() > 0:
            continue  # "$30 off" is money, not a length in "in"
        if alias.lower() == "in" and not _INCH_AFTER.match(text, m.end()):
            continue  # "5 in stock", "comes in 3 colours"
        unit, dim, factor = _UNITS[alias.lower()]
        value = float(m.group("n").replace(",", ""))
        base = _fahrenheit_to_c(value) if unit == "f" else value * factor
        found.append(Quantity(value, unit, dim, base, m.start(), m.end(), m.group(0)))
    return sorted(found, key=lambda q: q.start)


def _fahrenheit_to_c(value: float) -> float:
    return (value - 32) * 5 / 9


def same_quantity(claim: Quantity, known: Quantity, *, approximate: bool = False) -> bool:
    """Whether ``claim`` states ``known``: same unit within rounding, or converted within a few percent."""
    if claim.dim != known.dim:
        return False
    if claim.dim == "temp":
        return abs(claim.base - known.base) <= (3.0 if approximate else 1.0)
    if claim.unit == known.unit:
        tolerance = 0.1 if approximate else 0.005
        return abs(claim.value - known.value) <= tolerance * abs(known.value) + 1e-9
    tolerance = 0.1 if approximate else 0.03
    return abs(claim.base - known.base) <= tolerance * abs(known.base) + 1e-9


def is_approximate(text: str, start: int) -> bool:
    """Whether the amount starting at ``start`` is hedged ("about $30", "around 400 g")."""
    return APPROX.search(fold(text)[max(0, start - 20) : start]) is not None
