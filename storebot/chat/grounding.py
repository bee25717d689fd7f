"""Is an answer grounded in the records it was built from? Check it, repair it, or fall back.

:func:`check_answer` reads the claims an answer makes and checks each against
the retrieved products, reviews and policies:

- **price**: every amount of money ("$139", "129.00" after a price word) is a
  price, sale price or variant price of the product it is said of, or an
  amount in the policy text ("free shipping over $75") or the question;
- **discount**: "20% off", "save $30", "on sale" match a real price and sale price;
- **stock**: "in stock", "sold out", "only 3 left", "available in M" match
  availability and stock, per product named (or all when none is);
- **product**: a title-like name ("the Summit Pro jacket") names a retrieved product;
- **spec**: a number with a unit ("20,000 mm", "800-fill", "-25 °C") occurs in
  the attributes or text of the product it is said of, its reviews or the
  policies, allowing unit conversions and formatting ("20000mm"); a yes/no
  feature ("is waterproof", "No" to "is it waterproof?") does not contradict
  the attributes;
- **markup**: no DATA delimiters or chat-template tokens are copied into the answer.

:func:`repair` fixes what is unambiguous and drops what is not;
:func:`deterministic_answer` (from :mod:`storebot.chat.answers`) is the fallback.

Example:
    >>> from decimal import Decimal
    >>> from storebot.catalog.models import Product
    >>> p = Product(id="1001", title="Ridge Shell Rain Jacket", price=Decimal("139"))
    >>> report = check_answer("The Ridge Shell costs $129.", [(p, None)], [], [])
    >>> report.ok, report.violations[0].kind
    (False, 'price')
    >>> repair("The Ridge Shell costs $129.", report, [(p, None)])
    'The Ridge Shell costs $139.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.amounts import (
    Money,
    find_money,
    find_quantities,
    fold,
    format_money,
    is_approximate,
    same_quantity,
)
from storebot.chat.answers import deterministic_answer, summarize_reviews
from storebot.chat.cards import availability_label
from storebot.chat.claims import Evidence, find_discounts, find_stock_claims, sentence_spans
from storebot.chat.features import feature_value, find_feature_claims
from storebot.chat.mentions import attribute, find_mentions, unknown_names

__all__ = ["GroundingReport", "Violation", "check_answer", "deterministic_answer", "repair", "summarize_reviews"]

MAX_REPAIRS = 3
_THRESHOLD = re.compile(r"\b(?P<op>under|below|less than|up to|within|at most|over|above|more than|at least)\s*$",
                        re.I)  # fmt: skip
_MARKUP = re.compile(r"</?\s*(?:data|product|review|policy|system|user|assistant)\b[^>\n]{0,80}>|<\|im_(?:start|end)\|>"
                     r"|&lt;|&gt;|^\s*DATA\b", re.I | re.M)  # fmt: skip
_EVERY = re.compile(r"\b(?:are|both|all|each|they|these|every)\b", re.I)
_DIFFERENCE = re.compile(r"^\s*(?:cheaper|less|more|pricier|difference|extra)\b", re.I)
_POLICY_WORDS = re.compile(r"\b(?:ship|shipping|shipped|deliver\w*|order|orders|return\w*|refund\w*|exchange\w*|"
                           r"label|fee|free|overnight|expedited|gift card|duties|postage)\b", re.I)  # fmt: skip
_REVIEW_WORDS = re.compile(r"\b(?:review\w*|said|says|mention\w*|wrote|customer\w*|buyer\w*)\b", re.I)
_REGULAR = re.compile(r"\b(?:was|regular(?:ly)?|originally|usually|normally|list|full price|compare at)\b[^.$]{0,15}$",
                      re.I)  # fmt: skip


@dataclass(frozen=True)
class Violation:
    """One claim of an answer that the records do not support."""

    kind: str  # "price", "discount", "stock", "product", "spec" or "markup"
    claim: str
    detail: str
    start: int = -1
    end: int = -1
    product_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GroundingReport:
    """The outcome of :func:`check_answer`: ``ok`` when no claim is unsupported.

    Example:
        >>> GroundingReport(ok=True).to_dict()
        {'ok': True, 'violations': []}
    """

    ok: bool
    violations: list[Violation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "violations": [v.to_dict() for v in self.violations]}


def check_answer(
    text: str,
    products: Sequence[tuple[Product, Variant | None]],
    reviews: Sequence[Any],
    policies: Sequence[Any],
    *,
    currency: str = "USD",
    question: str = "",
    store_name: str = "",
    context: str = "",
) -> GroundingReport:
    """Check every price, discount, stock claim, product name and spec of ``text`` (see the module docstring).

    ``question`` and ``store_name`` are not claims: amounts, numbers and names in them are accepted.
    ``context`` is the part of the answer already checked and shown, when ``text`` is the next sentence of
    a stream: it resolves "it" and "the first one" in ``text`` but its own claims are not checked again.
    Violation offsets are within ``text``.
    """
    offset = len(fold(context).rstrip() + " ") if context.strip() else 0
    text = (fold(context).rstrip() + " " if offset else "") + fold(text)
    ev = Evidence(products, reviews, policies, question=question, store_name=store_name, currency=currency)
    mentions = find_mentions(text, ev.products)
    sentences = sentence_spans(text)

    def about(position: int) -> list[Product]:
        ids = attribute(text, position, mentions)
        return [ev.by_id[i] for i in ids if i in ev.by_id] if ids else []

    def sentence(position: int) -> str:
        return next((text[s:e] for s, e in sentences if s <= position < e), text)

    violations: list[Violation] = []
    discounts = find_discounts(text)
    names = [(m.start, m.end) for m in mentions if m.kind == "name"]  # "Tempest Pro 3L": a name, not a spec
    quoted = ev.verbatim_quotes(text)  # a review quoted word for word is grounded as it stands
    discounts = [d for d in discounts if not _inside(d.start, quoted)]
    taken = [(d.start, d.end) for d in discounts] + names + quoted
    for d in discounts:
        named = about(d.start)
        subject = named or ev.products
        problem = ev.check_discount(d, subject, every=bool(named) and _every(text, d.start, named))
        if problem:
            violations.append(Violation("discount", d.text, problem, d.start, d.end, _ids(subject)))
    money = [m for m in find_money(text) if not _inside(m.start, taken)]
    for m in money:
        subject = about(m.start)
        problem = _check_price(text, m, subject, ev, sentence(m.start))
        if problem:
            violations.append(Violation("price", m.text, problem, m.start, m.end, _ids(subject)))
    taken += [(m.start, m.end) for m in money]
    for claim in find_stock_claims(text):
        if claim.informational or _inside(claim.start, names + quoted):
            continue
        subject = about(claim.start)
        problem = ev.check_stock(
            claim, subject or ev.products, every=bool(subject) and _every(text, claim.start, subject)
        )
        if problem:
            violations.append(Violation("stock", claim.text, problem, claim.start, claim.end, _ids(subject)))
    for start, end, phrase in unknown_names(text, ev.products, known_text=ev.known_text):
        if _inside(start, quoted):
            continue
        violations.append(Violation("product", phrase, "no retrieved product has this name", start, end))
    for f in find_feature_claims(text, question, answer_start=not offset):
        subject = about(f.start) or (ev.products if len(ev.products) == 1 else [])
        wrong = [p for p in subject if feature_value(p, f.feature) not in (None, f.value)]
        if wrong and (len(wrong) == len(subject) or _every(text, f.start, subject)):
            really = "is not" if f.value else "is"
            detail = f"the attributes say {', '.join(p.title for p in wrong)} {really} {f.feature}"
            violations.append(Violation("spec", f.text, detail, f.start, f.end, _ids(wrong)))
    for m in _MARKUP.finditer(text):
        violations.append(Violation("markup", m.group(0), "prompt markup copied into the answer", m.start(), m.end()))
    for q in find_quantities(text):
        if any(s <= q.start < e or q.start <= s < q.end for s, e in taken):
            continue
        subject = about(q.start)
        near = text[max(0, q.start - 50) : q.end + 50]
        known = ev.attribute_quantities(subject, q.dim, near) or ev.known_quantities(subject)
        approximate = is_approximate(text, q.start)
        if not any(same_quantity(q, k, approximate=approximate) for k in known + ev.question_quantities):
            where = ", ".join(p.title for p in subject) if subject else "the retrieved records"
            violations.append(Violation("spec", q.text, f"not in {where}", q.start, q.end, _ids(subject)))
    if offset:
        violations = [replace(v, start=v.start - offset, end=v.end - offset) for v in violations if v.start >= offset]
    violations.sort(key=lambda v: v.start)
    return GroundingReport(not violations, violations)


def _inside(position: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def _every(text: str, position: int, subject: Sequence[Product]) -> bool:
    """Whether a claim about several products means each of them ("both are", "they are") or one of them."""
    return len(subject) == 1 or bool(_EVERY.search(text[max(0, position - 30) : position]))


def _ids(products: Sequence[Product]) -> tuple[str, ...]:
    return tuple(p.id for p in products)


def _check_price(text: str, m: Money, subject: list[Product], ev: Evidence, sentence: str) -> str | None:
    if not ev.currency_ok(m):
        return f"the records are priced in {', '.join(sorted(ev.currencies))}"
    allowed = set(ev.question_money)
    for product in subject or ev.products:
        allowed |= ev.prices(product) | ev.description_money.get(product.id, set())
    if not subject or _POLICY_WORDS.search(sentence):
        allowed |= ev.policy_money
    if _REVIEW_WORDS.search(sentence):
        allowed |= ev.review_money
    if _DIFFERENCE.search(text[m.end : m.end + 20]):
        allowed |= ev.differences()
    tolerance = max(Decimal(1), m.value * Decimal("0.02")) if is_approximate(text, m.start) else Decimal(0)
    if any(abs(m.value - a) <= tolerance for a in allowed):
        return None
    threshold = _THRESHOLD.search(text[max(0, m.start - 15) : m.start])
    if threshold and not _POLICY_WORDS.search(sentence):  # "free shipping over $50" is a policy claim
        paid = [p.effective_price for p in subject or ev.products if p.effective_price is not None]
        below = threshold.group("op").lower() in ("under", "below", "less than", "up to", "within", "at most")
        if paid and all((x <= m.value) if below else (x >= m.value) for x in paid):
            return None
    if subject:
        names = ", ".join(f"{p.title} ({_price_list(ev, p)})" for p in subject)
        return f"not a price of {names}"
    return "not a price of any retrieved product or policy"


def _price_list(ev: Evidence, product: Product) -> str:
    return ", ".join(format_money(v, product.currency) for v in sorted(ev.prices(product))) or "no price"


def repair(
    text: str,
    report: GroundingReport,
    products: Sequence[tuple[Product, Variant | None]],
    reviews: Sequence[Any] = (),
    policies: Sequence[Any] = (),
    *,
    currency: str = "USD",
    question: str = "",
    store_name: str = "",
    context: str = "",
) -> str | None:
    """``text`` with unambiguous fixes applied and unverifiable sentences dropped, or None if too much is wrong.

    A wrong price of a single named product with one possible price is replaced by that price; a false
    "in stock"/"out of stock" of a single product is replaced by its real availability. Any other
    violation drops its sentence. More than :data:`MAX_REPAIRS` violations, or dropping half the
    sentences, gives None, as does a repaired text that still fails :func:`check_answer`. ``report`` must
    come from :func:`check_answer` on the same ``text`` (and ``context``).
    """
    if report.ok:
        return text
    if len(report.violations) > MAX_REPAIRS:
        return None
    text = fold(text)
    by_id = {p.id: p for p, _ in products}
    spans = sentence_spans(text)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    dropped: set[int] = set()
    for v in report.violations:
        index = next((i for i, (s, e) in enumerate(spans) if s <= v.start < e), None)
        if index is None:
            return None
        fix = _fix(text, v, by_id)
        if fix is None:
            dropped.add(index)
        else:
            edits.setdefault(index, []).append((v.start, v.end, fix))
    if len(dropped) * 2 >= len(spans) and len(spans) > 1 or len(dropped) == len(spans):
        return None
    kept = []
    for i, (s, e) in enumerate(spans):
        if i in dropped:
            continue
        piece = text[s:e]
        for start, end, fix in sorted(edits.get(i, []), reverse=True):
            piece = piece[: start - s] + fix + piece[end - s :]
        kept.append(piece.strip())
    repaired = " ".join(k for k in kept if k)
    again = check_answer(repaired, products, reviews, policies, currency=currency, question=question,
                         store_name=store_name, context=context)  # fmt: skip
    return repaired if again.ok and repaired else None


def _fix(text: str, v: Violation, by_id: dict[str, Product]) -> str | None:
    if len(v.product_ids) != 1 or v.product_ids[0] not in by_id:
        return None
    product = by_id[v.product_ids[0]]
    if v.kind == "stock" and re.fullmatch(r"(?:in[ -]stock|out of stock|sold out)", v.claim, re.I):
        return availability_label(product)
    if v.kind != "price":
        return None
    regular = {product.price} | {x.price for x in product.variants}
    paid = {product.effective_price} | {x.sale_price or x.price for x in product.variants}
    regular.discard(None)
    paid.discard(None)
    wanted = regular if _REGULAR.search(text[max(0, v.start - 30) : v.start]) else paid
    if len(wanted) != 1:
        return None
    value = wanted.pop()
    if re.search(r"\.\d\d$", v.claim) or not re.match(r"[$€£¥]", v.claim):
        written = f"{value:,.2f}"
        return (v.claim[0] + written) if re.match(r"[$€£¥]", v.claim) else written
    return format_money(value, product.currency)
