"""What every feed parser shares: row results, row errors and field coercion.

A coercer takes a raw feed value (text from a CSV cell, a JSON number, ...)
and returns a clean Python value, or raises :class:`BadValue` with a message
that says what is wrong and how to write it instead. :class:`RowCheck`
collects those messages per row, so one bad field never stops the parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from storebot.catalog.models import Policy, Product, Review


@dataclass(frozen=True)
class RowError:
    """One problem with one row of a feed, phrased so the merchant can fix it.

    ``line`` is the physical line where the row starts (CSV, TSV, JSONL, XML)
    or, for items of a JSON array, the item's 1-based position; ``unit`` says
    which of the two it is.

    Example:
        >>> str(RowError(line=12, field="price", message="price 'abc' is not a number"))
        "line 12, field price: price 'abc' is not a number"
    """

    line: int
    field: str | None
    message: str
    record_id: str | None = None
    unit: str = "line"  # "line" or "item"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


@dataclass
class ParsedRow:
    """A feed row's outcome: a record, or ``None`` and the errors that sank it.

    Example:
        >>> ParsedRow(line=3, record=None, errors=[RowError(3, "id", "id is missing")]).ok
        False
    """

    line: int
    record: Product | Review | Policy | None
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.errors


class BadValue(ValueError):
    """A raw value that cannot become the field it was given for."""


class RowCheck:
    """Collects the problems of one row while its fields are coerced.

    Example:
        >>> check = RowCheck(line=7)
        >>> check.value("price", money, "12,5")
        >>> str(check.errors()[0])
        "line 7, field price: price '12,5' uses a comma as the decimal mark; write it like 12.50"
    """

    def __init__(self, line: int, unit: str = "line", record_id: str | None = None) -> None:
        self.line = line
        self.unit = unit
        self.record_id = record_id
        self._problems: list[tuple[str | None, str]] = []

    def add(self, field: str | None, message: str) -> None:
        self._problems.append((field, message))

    def value(self, field: str, coerce: Callable[..., Any], raw: Any, *args: Any) -> Any:
        """``coerce(raw, *args)``, or ``None`` after recording why it failed.

        Typed ``Any`` on purpose: callers build a record only once ``failed``
        is false, when no value is ``None`` by accident.
        """
        try:
            return coerce(raw, *args)
        except BadValue as exc:
            self.add(field, f"{field} {exc}")
            return None

    def require(self, field: str, raw: Any, why: str) -> str:
        """The value as text; an empty one is recorded as missing, with ``why`` as the fix."""
        value = self.value(field, text, raw)
        if value == "":
            self.add(field, f"{field} is missing; {why}")
        return value or ""

    @property
    def failed(self) -> bool:
        return bool(self._problems)

    def errors(self) -> list[RowError]:
        return [RowError(self.line, f, m, self.record_id, self.unit) for f, m in self._problems]

    def result(self, record: Product | Review | Policy | None) -> ParsedRow:
        errors = self.errors()
        return ParsedRow(self.line, None if errors else record, errors)


# -- coercers ---------------------------------------------------------------

_SYMBOLS = {"$": None, "€": "EUR", "£": "GBP", "¥": None, "₹": "INR"}  # None: ambiguous
_MONEY = re.compile(
    r"^(?P<pre>[A-Za-z]{3})?\s*(?P<sym>[$€£¥₹])?\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<post>[A-Za-z]{3})?$"
)
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SURROGATE = re.compile("[\udc80-\udcff]")


def text(raw: Any) -> str:
    """A text field: strings stripped, numbers as written, nothing else."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | Decimal | float):
        return str(raw)
    raise BadValue(f"must be text, not a {_kind(raw)}")


def money(raw: Any) -> tuple[Decimal | None, str | None]:
    """A price and the currency written with it, if any.

    Accepts ``129``, ``"129.00"``, ``"$129.00"``, ``"1,299.00"`` and Google's
    ``"129.00 USD"``. Rejects negatives, NaN, infinity and decimal commas.
    """
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, bool):
        raise BadValue(f"{_shown(raw)} is not a number; write it like 129.00")
    if isinstance(raw, int | float | Decimal):
        value = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
        return _checked_amount(value, raw), None
    if not isinstance(raw, str):
        raise BadValue(f"must be a number like 129.00, not a {_kind(raw)}")
    written = raw.strip()
    if not written:
        return None, None
    if written.startswith("-") or re.search(r"[$€£¥₹A-Za-z]\s*-", written):
        raise BadValue(f"{_shown(raw)} is negative; prices must be 0 or more")
    match = _MONEY.match(written)
    if not match:
        raise BadValue(f"{_shown(raw)} is not a number; write it like 129.00")
    number = match["num"]
    if "," in number:
        if not _THOUSANDS.match(number):
            raise BadValue(f"{_shown(raw)} uses a comma as the decimal mark; write it like {_decimal_point(number)}")
        number = number.replace(",", "")
    if match["pre"] and match["post"]:
        raise BadValue(f"{_shown(raw)} names two currencies; write it like 129.00 USD")
    code = (match["pre"] or match["post"] or "").upper() or (_SYMBOLS.get(match["sym"] or "") or None)
    return _checked_amount(Decimal(number), raw), code


def _checked_amount(value: Decimal, raw: Any) -> Decimal:
    if not value.is_finite():
        raise BadValue(f"{_shown(raw)} is not a number; write it like 129.00")
    if value < 0:
        raise BadValue(f"{_shown(raw)} is negative; prices must be 0 or more")
    return value


def _decimal_point(number: str) -> str:
    whole, _, cents = number.rpartition(",")
    return f"{whole.replace(',', '')}.{cents.ljust(2, '0')}"


def currency_code(raw: Any) -> str | None:
    """An ISO 4217 code such as ``USD``; ``None`` when empty."""
    code = text(raw).upper()
    if not code:
        return None
    if not _CURRENCY.match(code):
        raise BadValue(f"{_shown(raw)} is not a currency code; use a 3-letter ISO 4217 code like USD or EUR")
    return code


def whole_number(raw: Any, what: str = "number") -> int | None:
    """An integer written as ``4``, ``"4"`` or ``"4.0"``; ``None`` when empty."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise BadValue(f"{_shown(raw)} is not a whole {what}; write it like 4")
    if isinstance(raw, int):
        return raw
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadValue(f"{_shown(raw)} is not a whole {what}; write it like 4") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise BadValue(f"{_shown(raw)} is not a whole {what}; write it like 4")
    return int(value)


def stock(raw: Any) -> int | None:
    """Units on hand: a whole number, 0 or more."""
    value = whole_number(raw)
    if value is not None and value < 0:
        raise BadValue(f"{_shown(raw)} is negative; write 0 when the item is sold out")
    return value


def rating(raw: Any) -> int:
    """A star rating: a whole number from 1 to 5."""
    value = whole_number(raw, "number of stars")
    if value is None:
        raise BadValue("is missing; give each review 1 to 5 stars")
    if not 1 <= value <= 5:
        raise BadValue(f"{_shown(raw)} is out of range; ratings are whole stars from 1 to 5")
    return value


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def boolean(raw: Any) -> bool:
    """true/false, yes/no, 1/0; empty is false."""
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    word = text(raw).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadValue(f"{_shown(raw)} is not true or false; write true, false, yes, no, 1 or 0")


def iso_date(raw: Any) -> str:
    """A date as ``YYYY-MM-DD`` from a date or an ISO 8601 timestamp (its local date)."""
    written = text(raw)
    if not written:
        return ""
    try:
        if len(written) == 10:
            return date.fromisoformat(written).isoformat()
        return datetime.fromisoformat(written.replace("z", "Z")).date().isoformat()
    except ValueError:
        raise BadValue(f"{_shown(raw)} is not an ISO 8601 date; write it like 2026-03-14") from None


_AVAILABILITY = {
    "instock": "in_stock", "available": "in_stock", "limitedavailability": "in_stock",
    "onlineonly": "in_stock", "instoreonly": "in_stock",
    "outofstock": "out_of_stock", "soldout": "out_of_stock", "unavailable": "out_of_stock",
    "discontinued": "out_of_stock",
    "preorder": "preorder", "presale": "preorder",
    "backorder": "backorder", "backordered": "backorder",
}  # fmt: skip


def availability(raw: Any) -> str:
    """One of ``models.AVAILABILITY``, from any common spelling; ``""`` when empty."""
    written = text(raw)
    if not written:
        return ""
    key = re.sub(r"[\s_\-]", "", written.lower().rsplit("/", 1)[-1])  # schema.org/InStock too
    try:
        return _AVAILABILITY[key]
    except KeyError:
        raise BadValue(
            f"{_shown(raw)} is not an availability; use in stock, out of stock, preorder or backorder"
        ) from None


def text_list(raw: Any, sep: str = ",") -> list[str]:
    """A list from a JSON list or a ``sep``-separated string, blanks dropped."""
    if raw is None or raw == "":
        return []
    items = raw if isinstance(raw, list) else text(raw).split(sep)
    return [t for t in (text(item) for item in items) if t]


def category_path(raw: Any) -> list[str]:
    """A category path from ``"Apparel > Jackets"`` or a JSON list."""
    if isinstance(raw, list):
        return text_list(raw)
    return text_list(raw, ">")


def string_map(raw: Any) -> dict[str, str]:
    """A flat ``{name: text}`` mapping; lists become comma-separated text."""
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, Mapping):
        raise BadValue(f'must be an object like {{"material": "nylon"}}, not a {_kind(raw)}')
    result: dict[str, str] = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        if isinstance(value, list):
            result[str(key)] = ", ".join(text(v) for v in value)
        elif isinstance(value, Mapping):
            raise BadValue(f"{key!r} must be text, not an object")
        else:
            result[str(key)] = text(value)
    return result


def absolute_url(url: str, base_url: str) -> str:
    """``url`` joined to the store's base URL when it is site-relative (``/products/x``)."""
    if url.startswith("/") and not url.startswith("//") and base_url:
        return base_url.rstrip("/") + url
    return url


def has_surrogates(value: str) -> bool:
    """Whether text decoded with ``surrogateescape`` held bytes that are not UTF-8."""
    return bool(_SURROGATE.search(value))


def readable(value: str) -> str:
    """``value`` with any undecodable bytes shown as U+FFFD, safe to store and print."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()


def undecodable_message(value: str) -> str:
    """The fix-it message for a value holding non-UTF-8 bytes, guessing the encoding."""
    raw = value.encode("utf-8", "surrogateescape")
    guess = raw.decode("cp1252", "replace")
    return f"{guess!r} is not valid UTF-8 (it looks like Latin-1/Windows-1252); re-save the file as UTF-8"


def cheapest(prices: Iterable[tuple[Decimal | None, Decimal | None]]) -> tuple[Decimal | None, Decimal | None]:
    """The ``(price, sale_price)`` pair whose price-to-pay is lowest: a product's "from" price."""
    best: tuple[Decimal | None, Decimal | None] = (None, None)
    for price, sale in prices:
        pays = sale if sale is not None else price
        if pays is None:
            continue
        best_pays = best[1] if best[1] is not None else best[0]
        if best_pays is None or pays < best_pays:
            best = (price, sale)
    return best


def _kind(raw: Any) -> str:
    if isinstance(raw, Mapping):
        return "object"
    return "list" if isinstance(raw, list) else type(raw).__name__


def _shown(raw: Any) -> str:
    # Quote what the merchant typed; show numbers as numbers, not as Decimal('4.5').
    return repr(raw) if isinstance(raw, str) else str(raw)
