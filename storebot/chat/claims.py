"""What an answer claims about discounts and stock, and what the records say: the evidence side of grounding.

:class:`Evidence` gathers, once per check, the prices, sale pairs, amounts of
money, measured quantities and known names of the retrieved records;
:func:`find_discounts` and :func:`find_stock_claims` read the claims that
:mod:`storebot.chat.grounding` checks against it.

Example:
    >>> [(c.kind, c.options) for c in find_stock_claims("It is available in M and L.")]
    [('options', ('M', 'L'))]
    >>> [(d.kind, d.value) for d in find_discounts("Now 30% off.")]
    [('percent', Decimal('30'))]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.amounts import SYMBOL_CURRENCY, Money, Quantity, find_money, find_quantities, fold, money_values

_NUMBER = r"\d{1,2}(?:\.\d+)?"
_PERCENT = re.compile(
    rf"(?P<a>{_NUMBER})\s?(?:%|percent)\s*(?:off|discount|savings|cheaper|less|lower|reduction|markdown)\b"
    rf"|\b(?:save|saving|savings of|discount(?:ed)? of|discounted by|reduced by|marked down by)\s*(?:up to\s*)?"
    rf"(?P<b>{_NUMBER})\s?(?:%|percent)",
    re.I,
)
_SAVE_BEFORE = re.compile(r"\b(?:save|saves|saving|savings of|discount of|discounted by|reduced by|marked down by|"
                          r"knocks?)\s*(?:up to\s*|you\s*)?$", re.I)  # fmt: skip
_OFF_AFTER = re.compile(r"^\s*(?:off|discount|savings)\b", re.I)
_SALE = re.compile(r"\b(?:on sale|discounted|marked down|on clearance|on offer)\b", re.I)
_NEGATED = re.compile(r"\b(?:not|isn't|aren't|no longer)\s+(?:currently\s+)?$", re.I)

_OPTIONS = re.compile(
    r"\b(?P<neg>not |isn't |aren't |no longer )?(?P<verb>available|in stock|comes?|offered|sold|stocked)\s+in\s+"
    r"(?:sizes?\s+|colou?rs?\s+|the\s+)?(?P<list>(?:[^.;:!?()$]|\.(?=\d))+)",
    re.I,
)
_QUOTE = re.compile(r'"([^"\n]{8,400})"')
_OUT_OPTIONS = re.compile(
    r"\b(?:out of stock|sold out|unavailable)(?:\s+in|:)\s+(?:sizes?\s+|colou?rs?\s+|the\s+)?"
    r"(?P<list>(?:[^.;:!?()$]|\.(?=\d))+)",
    re.I,
)
_LIST_END = re.compile(r"\b(?:for|at|but|while|with|if|so|which|that|from|to|too|as|is|are|now|today|right)\b", re.I)
_SIZE_STATE = re.compile(r"(?<![\d.]\s)\b(?:[Ss]ize\s+(?P<n>\d{1,2}(?:\.5)?)|(?P<s>XXS|XS|S|M|L|XL|XXL|XXXL))"
                         r"\s+(?:is|are)\s+(?:(?P<out>out of stock|sold out|unavailable)|(?P<in>in stock|available))"
                         )  # fmt: skip
_OUT = re.compile(r"\b(?:out of stock|sold out|unavailable|not (?:currently |yet )?(?:available|in stock)|"
                  r"no longer (?:available|in stock|stocked)|(?:isn't|aren't|is not|are not) (?:currently )?"
                  r"(?:available|in stock))\b", re.I)  # fmt: skip
_COUNT = re.compile(r"\b(?:only|just) (?P<a>\d+) (?:left|remaining|in stock|available)\b"
                    r"|\b(?P<b>\d+) (?:units? |pieces? |items? )?(?:left|remaining|in stock)\b", re.I)  # fmt: skip
_IN = re.compile(r"\b(?:in[ -]stock|available (?:now|today|to (?:order|buy|ship))|ready to ship|"
                 r"(?:is|are) (?:currently |still |now )?available)\b", re.I)  # fmt: skip
_INFORMATION = re.compile(r"\b(?:information|info|details?|listed|specified|mentioned|data|description|says?)\b", re.I)
SIZE_WORDS = {"extra small": "xs", "small": "s", "medium": "m", "large": "l", "extra large": "xl", "x-large": "xl",
              "xx-large": "xxl", "2xl": "xxl", "3xl": "xxxl"}  # fmt: skip
SIZES = {"xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl"}
COLOURS = {
    "black", "white", "blue", "red", "green", "grey", "gray", "navy", "orange", "yellow", "brown", "pink",
    "purple", "olive", "tan", "beige"
}  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n")
_ABBREVIATIONS = ("p.m.", "a.m.", "e.g.", "i.e.", "etc.", "vs.", " co.", "inc.", " no.", "approx.", " st.", " dr.")


@dataclass(frozen=True)
class Discount:
    """A discount claim: "30% off" (percent), "save $30" (amount), "on sale" (sale) or "not on sale" (no_sale)."""

    kind: str
    value: Decimal | None
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class StockClaim:
    """A stock claim: "in"/"out" of stock, a "count" left, or "options" available (state "in", "out", "offered")."""

    kind: str
    start: int
    end: int
    text: str
    count: int | None = None
    options: tuple[str, ...] = ()
    state: str = "in"
    informational: bool = False  # "not available in the product details" is about information, not stock


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence (or line) of ``text`` is, leading spaces excluded; "p.m." and "e.g." do not end one."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[m.start()] == "." and text[: m.end()].lower().endswith(_ABBREVIATIONS):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    trimmed = [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans]
    return [(s, e) for s, e in trimmed if s < e]


def find_discounts(text: str) -> list[Discount]:
    text = fold(text)
    found = [Discount("percent", Decimal(m.group("a") or m.group("b")), m.start(), m.end(), m.group(0))
             for m in _PERCENT.finditer(text)]  # fmt: skip
    for m in find_money(text):
        if _SAVE_BEFORE.search(text[max(0, m.start - 25) : m.start]) or _OFF_AFTER.match(text[m.end : m.end + 12]):
            found.append(Discount("amount", m.value, m.start, m.end, m.text))
    for m in _SALE.finditer(text):
        if any(d.start <= m.start() < d.end or m.start() <= d.start < m.end() for d in found):
            continue
        negated = _NEGATED.search(text[max(0, m.start() - 20) : m.start()])
        found.append(Discount("no_sale" if negated else "sale", None, m.start(), m.end(), m.group(0)))
    return sorted(found, key=lambda d: d.start)


def find_stock_claims(text: str) -> list[StockClaim]:
    text = fold(text)
    found: list[StockClaim] = []

    def free(start: int, end: int) -> bool:
        return not any(c.start < end and start < c.end for c in found)

    def informational(start: int, claim: str) -> bool:
        sentence = next((text[s:e] for s, e in sentence_spans(text) if s <= start < e), "")
        return "available" in claim.lower() and bool(_INFORMATION.search(sentence))

    for m in _OUT_OPTIONS.finditer(text):
        items = _items(_LIST_END.split(m.group("list"))[0])
        if items:
            end = m.start("list") + len(_LIST_END.split(m.group("list"))[0].rstrip())
            found.append(StockClaim("options", m.start(), end, text[m.start() : end], options=items, state="out"))
    for m in _OPTIONS.finditer(text):
        if not free(m.start(), m.end()):
            continue
        items = _items(_LIST_END.split(m.group("list"))[0])
        if items:
            state = "offered" if m.group("verb").lower().startswith(("come", "offered", "sold")) else "in"
            state = "out" if m.group("neg") else state
            end = m.start("list") + len(_LIST_END.split(m.group("list"))[0].rstrip())
            found.append(StockClaim("options", m.start(), end, text[m.start() : end], options=items, state=state,
                                    informational=informational(m.start(), m.group(0))))  # fmt: skip
    for m in _SIZE_STATE.finditer(text):
        if free(m.start(), m.end()):
            state = "out" if m.group("out") else "in"
            found.append(StockClaim("options", m.start(), m.end(), m.group(0), options=(m.group("n") or m.group("s"),),
                                    state=state))  # fmt: skip
    for kind, pattern in (("out", _OUT), ("count", _COUNT), ("in", _IN)):
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                count = int(m.group("a") or m.group("b")) if kind == "count" else None
                found.append(StockClaim(kind, m.start(), m.end(), m.group(0), count=count,
                                        informational=informational(m.start(), m.group(0))))  # fmt: skip
    return sorted(found, key=lambda c: c.start)


def _items(listed: str) -> tuple[str, ...]:
    parts = [p.strip() for p in re.split(r",\s*|\s+(?:and|or|&)\s+", listed) if p.strip()]
    items = []
    for part in parts:
        part = re.sub(r"^(?:sizes?|colou?rs?|the|both|all|either)\s+", "", part, flags=re.I).strip()
        if not part or len(part.split()) > 3:
            break
        items.append(part)
    return tuple(items)


_VAGUE_KEYS = {"rating", "type", "level", "size", "range"}


class Evidence:
    """What the retrieved records say, indexed for checking claims (built once per answer)."""

    def __init__(self, products: Sequence[tuple[Product, Variant | None]], reviews: Sequence[Any],
                 policies: Sequence[Any], *, question: str = "", store_name: str = "",
                 currency: str = "USD") -> None:  # fmt: skip
        self.products = [p for p, _ in products]
        self.matched = {p.id: v for p, v in products if v is not None}
        self.by_id = {p.id: p for p in self.products}
        policy_text = "\n".join(p.text for p in policies)
        self.policy_money = money_values(policy_text)
        self.review_money = money_values(" ".join(r.text for r in reviews))
        self.question_money = {m.value for m in find_money(question)}
        self.description_money = {p.id: money_values(p.description) for p in self.products}
        self.currencies = {currency.upper()} | {p.currency.upper() for p in self.products if p.currency}
        self.currencies |= {m.currency for m in find_money(policy_text, bare=False) if m.currency}
        self.policy_percents = {Decimal(str(q.value)) for q in find_quantities(policy_text) if q.dim == "percent"}
        own: dict[str, list[str]] = {}
        shared = [policy_text, question]
        for r in reviews:
            meta = r.metadata or {}
            if meta.get("rating") is not None:
                shared.append(f"rated {meta['rating']}/5.")
            pid = str(meta.get("product_id", ""))
            (own.setdefault(pid, []) if pid in self.by_id else shared).append(r.text)
        self.quantities = {p.id: find_quantities(_product_text(p) + " " + " ".join(own.get(p.id, [])))
                           for p in self.products}  # fmt: skip
        self.shared = find_quantities("\n".join(shared))
        self.question_quantities = find_quantities(question)
        option_values = " ".join(v for p in self.products for x in p.variants for v in x.options.values())
        self.known_text = "\n".join([*(_product_text(p) for p in self.products), option_values, policy_text,
                                     *(r.text for r in reviews), question, store_name])  # fmt: skip
        self._attributes = {
            p.id: [({w[:5] for w in k.split("_") if len(w) >= 4 and w not in _VAGUE_KEYS}, find_quantities(v))
                   for k, v in p.attributes.items()]
            for p in self.products
        }  # fmt: skip
        self._sources = " ".join(" ".join([*(r.text for r in reviews), policy_text, *(p.description for p in
                                           self.products)]).split()).lower()  # fmt: skip
        self.option_values = {v.lower() for v in option_values.split(" ") if v}

    def verbatim_quotes(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` in quotation marks whose words occur, in order, in a review, policy or description."""
        spans = []
        for m in _QUOTE.finditer(text):
            words = " ".join(m.group(1).replace("...", " ").split()).strip(" .,;:").lower()
            if len(words) >= 8 and words in self._sources:
                spans.append((m.start(), m.end()))
        return spans

    def prices(self, product: Product) -> set[Decimal]:
        values = {product.price, product.sale_price}
        for v in product.variants:
            values |= {v.price, v.sale_price}
        values.discard(None)
        return values  # type: ignore[return-value]

    def sale_pairs(self, product: Product) -> list[tuple[Decimal, Decimal]]:
        pairs = [(product.price, product.sale_price)] + [(v.price, v.sale_price) for v in product.variants]
        return [(p, s) for p, s in pairs if p is not None and s is not None and s < p]

    def differences(self) -> set[Decimal]:
        paid = {p.effective_price for p in self.products if p.effective_price is not None}
        found = {abs(a - b) for a, b in combinations(sorted(paid), 2)}
        return found | {p - s for product in self.products for p, s in self.sale_pairs(product)}

    def currency_ok(self, m: Money) -> bool:
        code = m.currency
        if not code or code in self.currencies:
            return True
        return SYMBOL_CURRENCY.get(m.symbol) == "USD" and any(c.endswith("D") for c in self.currencies)

    def known_quantities(self, subject: Sequence[Product]) -> list[Quantity]:
        found = list(self.shared)
        for product in subject or self.products:
            found += self.quantities.get(product.id, [])
        return found

    def attribute_quantities(self, subject: Sequence[Product], dim: str, near: str) -> list[Quantity]:
        """Every attribute quantity of ``subject`` if ``near`` names one of its attributes of ``dim``, else [].

        A spec said of a named attribute ("rated 20,000 mm waterproof", "weighs 387 g") is checked against
        the attributes only, so a number the description uses for something else ("choose one of our
        20,000 mm shells") does not pass.
        """
        said = {w[:5] for w in re.findall(r"[a-z]+", near.lower()) if len(w) >= 4}
        named = False
        found = []
        for product in subject or self.products:
            for words, quantities in self._attributes[product.id]:
                found += quantities
                named = named or bool(words & said and any(q.dim == dim for q in quantities))
        return found if named else []

    def check_discount(self, d: Discount, subject: Sequence[Product], *, every: bool = True) -> str | None:
        """None if ``d`` holds for ``subject`` ("on sale": for every product with ``every``, else for one)."""
        pairs = [pair for p in subject for pair in self.sale_pairs(p)]
        if d.kind == "sale":
            missing = [p.title for p in subject if not self.sale_pairs(p)]
            if not missing or (not every and len(missing) < len(subject)):
                return None
            return f"not on sale: {', '.join(missing)}"
        if d.kind == "no_sale":
            return None if not pairs else "has a sale price"
        if d.kind == "percent" and d.value is not None:
            if d.value in self.policy_percents:
                return None
            real = [(p - s) * 100 / p for p, s in pairs]
            if any(abs(r - d.value) <= 1 for r in real):
                return None
            return f"real discounts: {', '.join(sorted({f'{r:.0f}%' for r in real}))}" if real else "no sale price"
        real = [p - s for p, s in pairs]
        if d.value in self.policy_money or any(abs(r - (d.value or 0)) <= Decimal("0.01") for r in real):
            return None
        return f"real savings: {', '.join(sorted({f'{r:.2f}' for r in real}))}" if real else "no sale price"

    def check_stock(self, claim: StockClaim, subject: Sequence[Product], *, every: bool) -> str | None:
        """None if the claim holds for every product of ``subject`` (``every``) or for one of them."""
        results = [(p, self._stock_problem(claim, p)) for p in subject]
        problems = [f"{p.title}: {problem}" for p, problem in results if problem]
        if not problems or (not every and len(problems) < len(results)):
            return None
        return "; ".join(problems)

    def _stock_problem(self, claim: StockClaim, product: Product) -> str | None:
        variant = self.matched.get(product.id)
        state = variant.availability if variant is not None else product.availability
        if claim.kind == "in":
            return None if state == "in_stock" else state.replace("_", " ")
        if claim.kind == "out":
            return None if state != "in_stock" else "in stock"
        if claim.kind == "count":
            counts = {product.stock} | {v.stock for v in product.variants} | set(_per_option(product).values())
            return None if claim.count in counts else f"stock is {product.stock}"
        for item in claim.options:
            problem = self._option_problem(product, item, claim.state)
            if problem:
                return problem
        return None

    def _option_problem(self, product: Product, item: str, state: str) -> str | None:
        key = SIZE_WORDS.get(item.lower(), item.lower())
        variants = [v for v in product.variants if key in {o.lower() for o in v.options.values()}]
        option_like = key in self.option_values or key in SIZES or key in COLOURS
        if not variants:
            return f"not offered in {item}" if option_like else None
        in_stock = any(v.availability == "in_stock" for v in variants)
        if state == "in" and not in_stock:
            return f"{item} is out of stock"
        if state == "out" and in_stock:
            return f"{item} is in stock"
        return None


def _per_option(product: Product) -> dict[str, int]:
    totals: dict[str, int] = {}
    for v in product.variants:
        for value in v.options.values():
            totals[value] = totals.get(value, 0) + (v.stock or 0)
    return totals


def _product_text(product: Product) -> str:
    attributes = "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in product.attributes.items())
    rating = f" rated {product.rating_avg}/5, {product.rating_avg:.1f}/5." if product.rating_avg is not None else ""
    options = " ".join(f"{v}." for x in product.variants for v in x.options.values())
    return f"{product.title}. {product.brand}. {' '.join(product.category)}. {attributes}.{rating} {options} " + (
        product.description
    )
