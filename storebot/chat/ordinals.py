"""Ordinal references: "the second one", "the first two", "both", "#3", "the cheaper one", "the other one".

These pick products by their place in a list of cards (or by price), not by the
words that describe them. :class:`OrdinalEvidence` holds the rules as a mixin of
the resolver in :mod:`storebot.chat.references`, which looks for them first so
that they claim their words before the phrase and pronoun rules run. The few
words every rule reads (``_ONE``, ``_BOUND``, ``_PUNCT``) live here too, since
references.py builds on this module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from storebot.chat.descriptors import GENERIC_NOUNS, Descriptors, FocusItem


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
            "6": 6}  # fmt: skip
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
             "5th": 5, "sixth": 6, "6th": 6, "top": 1, "last": -1, "final": -1, "bottom": -1, "former": 1,
             "latter": -1}  # fmt: skip
_ORD, _NUM = "|".join(sorted(_ORDINALS, key=len, reverse=True)), "|".join(_NUMBERS)
_ONE = GENERIC_NOUNS - {"thing"}
# Closed-class words that end a noun phrase: "the blue one | is it waterproof".
_BOUND = _words("""is are was were be been am does do did has have had can could will would should may might must
come comes fit fits run runs cost costs look looks work works compare vs versus and or but in for with by from on at
to of than as if so because instead please still too also really very more less better worse right now again then
there here you i me my we it its they them which what who how why when where whats hows not dont doesnt isnt any""")
_PUNCT = re.compile(r"[,.?!;:()]")
_PLURAL_N = re.compile(rf"\b(?:the\s+)?(first|top|last)\s+(?:({_NUM})\b|couple)")
_PAIR = re.compile(r"\b(?:both|either|neither|the two|these two|those two|the pair|the two of them)\b")
_ALL = re.compile(rf"\ball\s+(?:of\s+(?:them|these|those|the\s+\w+)|({_NUM})\b|these|those)|\beach of (?:them|these)\b")
_SINGLE = re.compile(rf"(?:(?P<det>\b(?:the|that|this)\s+)|\b)(?P<ord>{_ORD})\b(?:\s+(?P<next>[a-z']+))?")
_NUMBERED = re.compile(rf"(?:#\s?|\bno\.\s?|\b(?:number|option|item|result|choice|product)\s+)(?P<n>{_NUM})\b")
_PRICE_PICK = re.compile(
    r"\b(?P<det>the\s+)?(?P<word>cheaper|cheapest|less\s+expensive|least\s+expensive|"
    r"(?:more|most)\s+affordable|lowest[\s-]priced|lower[\s-]priced|pricier|priciest|more\s+expensive|most\s+expensive|"
    r"higher[\s-]priced|highest[\s-]priced|dearer)\b(?P<of>\s+of\s+(?:them|these|those|all|the\s+\w+))?"
    r"(?:\s+(?P<next>[a-z']+))?"
)
_OTHER = re.compile(r"\bthe\s+other(?P<plural>s\b|\s+ones\b)?(?:\s+(?P<next>[a-z']+))?|\bthe\s+rest\b")


class OrdinalEvidence:
    """The ordinal rules of a reference resolver; a mixin that reads the resolver's state.

    The host class sets the attributes annotated below and provides
    ``_add(start, items, kind, note, ambiguous=False)``, which records a
    reference.

    Example:
        >>> from storebot.chat.references import resolve_references
        >>> focus = [FocusItem("p1", "Ridge Shell", price=Decimal("139")),
        ...          FocusItem("p2", "Tempest", price=Decimal("99"))]
        >>> resolve_references("is the second one waterproof?", focus).product_ids
        ['p2']
        >>> resolve_references("and the cheaper one?", focus).note
        "'cheaper' by price"
    """

    text: str
    toks: list[tuple[str, int, int]]
    pool: list[FocusItem]
    history: list[list[FocusItem]]
    used: set[int]
    words_fit: Descriptors

    def _add(self, start: int, items: Sequence[FocusItem], kind: str, note: str, ambiguous: bool = False) -> None:
        raise NotImplementedError

    def _mark(self, start: int, end: int) -> None:
        self.used.update(i for i, (_, s, e) in enumerate(self.toks) if s < end and start < e)

    def _cards(self, need: int) -> list[FocusItem]:
        """The latest list of at least ``need`` cards: after a question about one product, "the third one"
        and "compare the first two" still mean the search results shown before it."""
        lists = [self.pool, *self.history] if len(self.pool) > 1 else [*self.history, self.pool]
        return next((cards for cards in lists if len(cards) >= need), [])

    def _ordinals(self) -> None:
        for m in _PLURAL_N.finditer(self.text):
            count = _NUMBERS.get(m.group(2) or "", 2)
            if cards := self._cards(count):
                self._add(m.start(), cards[-count:] if m.group(1) == "last" else cards[:count], "ordinal",
                          f"'{m.group()}'")  # fmt: skip
            self._mark(*m.span())
        for m in _PAIR.finditer(self.text):
            if cards := self._cards(2):
                self._add(m.start(), cards[:2], "ordinal", f"'{m.group()}' -> the first two")
            self._mark(*m.span())
        for m in _ALL.finditer(self.text):
            count = _NUMBERS.get(m.group(1) or "", 0)
            if cards := self._cards(count or 2) or self.pool:
                self._add(m.start(), cards[: count or len(cards)], "ordinal", f"'{m.group()}'")
            self._mark(*m.span())
        for m in _SINGLE.finditer(self.text):
            if self._claimed(m.start("ord")):
                continue
            said, nxt = m.group("ord"), m.group("next") or ""
            cued = bool(m.group("det")) or said[0].isdigit() or nxt in _ONE
            ends = not nxt or nxt in _ONE or nxt in _BOUND or bool(_PUNCT.match(self.text[m.end("ord") :].lstrip()[:1]))
            if not cued or not (ends or self._fits_pool(nxt)) or (said == "top" and nxt in _BOUND):
                continue
            self._ordinal(m.start(), _ORDINALS[said], said)
            self._mark(m.start(), m.end() if nxt in _ONE else m.end("ord"))
        for m in _NUMBERED.finditer(self.text):
            self._ordinal(m.start(), _NUMBERS[m.group("n")], m.group().strip())
            self._mark(*m.span())
        self._price_picks()
        self._others()

    def _ordinal(self, start: int, index: int, said: str) -> None:
        cards = self._cards(max(index, 1))
        if cards:
            item = cards[index - 1 if index > 0 else index]
            self._add(start, [item], "ordinal", f"'{said}' -> #{cards.index(item) + 1} of {len(cards)}")
        else:
            self._add(start, [], "none", f"'{said}' but {len(self.pool)} products in focus")

    def _price_picks(self) -> None:
        for m in _PRICE_PICK.finditer(self.text):
            nxt = m.group("next") or ""
            if self._claimed(m.start("word")) or not (m.group("det") or m.group("of") or nxt in _ONE):
                continue
            nxt = "" if m.group("of") else nxt
            loose = not nxt or nxt in _ONE or nxt in _BOUND
            items = [i for i in self._cards(2) if i.price is not None and (loose or self.words_fit.fits(nxt, i))]
            if not loose and not items:
                continue  # "the cheapest tent" with no tent in focus: a new search
            if len(items) >= 2:
                cheap = any(w in m.group("word") for w in ("cheap", "less", "least", "afford", "low"))
                pick = min(items, key=_price_key) if cheap else max(items, key=_price_key)
                self._add(m.start(), [pick], "ordinal", f"'{m.group('word')}' by price")
            self._mark(*m.span())

    def _others(self) -> None:
        for m in _OTHER.finditer(self.text):
            nxt = "" if "rest" in m.group() else m.group("next") or ""
            if nxt and nxt not in _ONE and nxt not in _BOUND and not self._fits_pool(nxt):
                continue  # "the other day"
            plural = bool(m.group("plural")) or "rest" in m.group()
            if len(self.pool) == 1:  # the one discussed is alone in focus: the others come from the list before
                pid = self.pool[0].product_id
                rest = next(([i for i in h if i.product_id != pid] for h in self.history
                             if len(h) > 1 and any(i.product_id == pid for i in h)), [])  # fmt: skip
            else:  # several in focus: the first is the one discussed
                rest = self.pool[1:]
            if rest:
                self._add(m.start(), rest if plural else rest[:1], "ordinal", "'the other' -> not the one discussed",
                          not plural and len(rest) > 1)  # fmt: skip
            self._mark(*m.span())

    def _fits_pool(self, word: str) -> bool:
        return any(self.words_fit.fits(word, item) for item in self.pool)

    def _claimed(self, start: int) -> bool:
        return any(self.toks[k][1] <= start < self.toks[k][2] for k in self.used)


def _price_key(item: FocusItem) -> Decimal:
    return item.price if item.price is not None else Decimal(0)
