"""Which products a follow-up is about: "it", "the second one", "the blue one", "the Ridge Shell".

The local model cannot resolve references, so rules do it over the products the
last answers showed (the *focus*, in display order). Precision beats recall: a
missed reference costs a clarifying question, a wrong one answers about the
wrong product. So a new search ("show me tents") resolves to nothing, and a
phrase resolves only when every content word fits a product in focus.

Evidence, strongest first: the page product named ("this product"); ordinals
and price picks ("the second one", "the first two", "both", "the cheaper one",
"the other one"); phrases after the/this/that ("the blue one", "the Alder
one", "the women's one", "the tent", "the Ridge Shell"); pronouns ("it",
"them", "which one"); bare names ("compare Ridge Shell and Tempest"); and, for
an aspect question ("waterproof?") with one product in focus, that product
(``explicit=False``). With nothing in focus, deixis falls back to the page
("these boots" on a boots page: what a "goes with" list is *for*, so that the
list does not replace the page product as the subject). A colour picks the card
*showing* that colour before a card that merely offers it ("the navy one" is the
card in Midnight Navy). A product named in the message that fits nothing in
focus ("the Ridgeback UL", "the Stillwater 3" when the Stillwater 2 was shown)
resolves to nothing, and says so in ``unknown_name``: the product in focus must
not answer for it. The ordinal and price rules live in :mod:`storebot.chat.ordinals`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from storebot.catalog.models import Product, Variant
from storebot.chat.descriptors import GENERIC_NOUNS, STRONG_TAGS, Descriptors, FocusItem
from storebot.chat.intent import ASPECT, NOT_PRODUCT, SEARCH_CUE
from storebot.chat.ordinals import _BOUND, _ONE, _PUNCT, OrdinalEvidence, _words
from storebot.retrieval.normalize import fold, gender_group, stem, tokens
from storebot.retrieval.vocabulary import COMMON_WORDS, CatalogVocabulary

__all__ = ["FocusItem", "Kind", "Resolution", "resolve_references"]

Kind = Literal["pronoun", "ordinal", "attribute", "name", "page", "none"]

_FILLER = GENERIC_NOUNS | _words("versions models options items products style color colour colorway pair kind type a "
                                 "an same")  # fmt: skip
_DETS = _words("the this that these those")
_NOT_DEICTIC_NEXT = _words("i you we he she they keeps makes lets weekend week year month time season morning evening "
                           "summer winter trip")  # fmt: skip
_RELATIVE_BEFORE = _words("so such something anything everything nothing one ones know think say sure mean hope guess")
_AUX = _words("is are do were was does did will would can could how hows whats isnt doesnt about get buy take order "
              "want")  # fmt: skip
_WHICH_NEXT = _words("one ones of is are would should has do does will runs")
_STORE_VERBS = _words("ship deliver accept charge sell offer carry")
_NAME_DETS = _words("the a an this that your")
_PLURAL_PRONOUNS = _words("they them their theirs theyre these those")
_PAGE = re.compile(r"\b(?:this|the current)\s+(?:product|item|page|listing)\b|"
                   r"\bthe (?:product|item|one) (?:on this page|i'?m (?:looking at|viewing|on))\b")  # fmt: skip
_DUMMY_IT = re.compile(r"\bis it (?:possible|ok|okay|true)\b|\bit(?:'s| is) (?:possible|raining|snowing|cold|hot)\b|"
                       r"\bhow long (?:does|will|would) it take\b")  # fmt: skip


@dataclass
class Resolution:
    """The products a message refers to, how it referred to them, and why.

    ``explicit`` is False when nothing in the message referred (an aspect
    question about the only product in focus, or about the page product).
    ``ambiguous`` is True when a singular reference fitted several products
    and the first (the most prominent card) was taken. ``unknown_name`` is a
    product name the message uses that fits no product in focus ("Ridgeback
    UL"): the question is about a product to look up, not the one in focus.

    Example:
        >>> Resolution(["p2"], "ordinal", True, "'second' -> #2").product_ids
        ['p2']
    """

    product_ids: list[str] = field(default_factory=list)
    kind: Kind = "none"
    explicit: bool = False
    note: str = ""
    ambiguous: bool = False
    unknown_name: str = ""

    def __bool__(self) -> bool:
        return bool(self.product_ids)


class _Ref(NamedTuple):  # one referring expression, at a character offset
    start: int
    ids: list[str]
    kind: Kind
    note: str
    ambiguous: bool = False


def resolve_references(
    message: str,
    focus: Sequence[FocusItem],
    *,
    history_focus: Sequence[Sequence[FocusItem]] = (),
    page_product_id: str | None = None,
    vocabulary: CatalogVocabulary | None = None,
    known: Mapping[str, tuple[Product, Variant | None]] | None = None,
) -> Resolution:
    """Resolve the references in ``message`` against ``focus`` (cards of the last answer, in display order).

    ``history_focus`` holds earlier turns' focus lists, most recent first: they
    stand in when ``focus`` is empty and are searched for names and noun
    phrases ("the tent" from two turns ago). ``known`` maps product ids to the
    record and the variant its card showed (the chain's ``Turn.known``): it tells
    "the navy one" by the colour on the card, and "this tent" whether the page
    product is a tent. Without it, the page product is trusted and every colour
    a product offers counts alike.
    """
    return _Resolver(message, focus, history_focus, page_product_id, vocabulary, known or {}).run()


class _Resolver(OrdinalEvidence):
    """One resolution: the message's tokens, the products to search and the references found so far."""

    def __init__(self, message: str, focus: Sequence[FocusItem], history: Sequence[Sequence[FocusItem]],
                 page_product_id: str | None, vocabulary: CatalogVocabulary | None,
                 known: Mapping[str, tuple[Product, Variant | None]]) -> None:  # fmt: skip
        self.message = " ".join(message.replace("’", "'").split())
        self.text = fold(self.message)
        self.toks = tokens(self.text)
        self.words = [w for w, _, _ in self.toks]
        self.stems = [stem(w) for w in self.words]
        self.breaks = [i == 0 or bool(_PUNCT.search(self.text[self.toks[i - 1][2] : s])) for i, (_, s, _) in
                       enumerate(self.toks)]  # fmt: skip
        self.history = [list(h) for h in history if h]
        self.pool = list(focus) or (self.history[0] if self.history else [])
        self.older: list[FocusItem] = []  # earlier answers' products not in the pool, newest first
        seen = {item.product_id for item in self.pool}
        for item in (item for items in self.history for item in items):
            if item.product_id not in seen:
                seen.add(item.product_id)
                self.older.append(item)
        self.page = page_product_id
        self.words_fit = Descriptors(vocabulary)
        self.known = known
        self.shown_fit = Descriptors(vocabulary)  # against the card's own variant: a separate cache per product id
        self.refs: list[_Ref] = []
        self.used: set[int] = set()  # token indexes already part of a reference

    def run(self) -> Resolution:
        if self.page and _PAGE.search(self.text):
            return Resolution([self.page], "page", True, "named the page product")
        self._ordinals()
        self._phrases()
        self._pronouns()
        if self.refs:
            self._names()
            return self._combine()
        if (why := self._new_search()) is not None:
            return Resolution(note=why)
        self._names()
        if self.refs:
            return self._combine()
        if name := self._unknown_name():
            return Resolution(note=f"names '{name}', which fits nothing in focus", unknown_name=name)
        if ASPECT.search(self.text) and not NOT_PRODUCT.search(self.text):
            if len(self.pool) == 1:
                return Resolution([self.pool[0].product_id], "pronoun", False, "aspect question; one product in focus")
            if not self.pool and self.page:
                return Resolution([self.page], "page", False, "aspect question; nothing in focus, on a product page")
            if self.pool:
                return Resolution(note=f"aspect question but {len(self.pool)} products in focus")
        return Resolution(note="no reference")

    # -- evidence ---------------------------------------------------------------------------------------

    def _add(self, start: int, items: Sequence[FocusItem], kind: Kind, note: str, ambiguous: bool = False) -> None:
        self.refs.append(_Ref(start, [i.product_id for i in items], kind, note, ambiguous))

    def _phrases(self) -> None:
        w = self.words
        for i, word in enumerate(w):
            if word not in _DETS or i in self.used:
                continue
            j = i + 1
            while j < len(w) and not self.breaks[j] and w[j] not in _BOUND and j - i <= 5:
                j += 1
                if w[j - 1] in ("one", "ones"):
                    break
            span = list(range(i + 1, j))
            if span and w[span[-1]] == "one" and j < len(w) and w[j] in ("in", "by", "from", "for", "with"):
                k = j + 1  # "the one in blue", "the one by Alder"
                while k < len(w) and not self.breaks[k] and w[k] not in _BOUND and k - j <= 4:
                    k += 1
                span, j = span + list(range(j + 1, k)), k
            content = [k for k in span if w[k] not in _FILLER]
            if not content or any(k in self.used for k in span):
                continue
            last = w[content[-1]]
            plural = (
                word in ("these", "those")
                or "ones" in (w[k] for k in span)
                or (last.endswith("s") and self.stems[content[-1]] != last and gender_group(last) is None)
            )
            headed = any(w[k] in _ONE for k in span)
            if self._phrase(i, [self.stems[k] for k in content], plural, headed, deictic=word != "the"):
                self.used.update(range(i, j))

    def _phrase(self, i: int, content: list[str], plural: bool, headed: bool, deictic: bool) -> bool:
        start = self.toks[i][1]
        while content:
            said = " ".join(content)
            for pool in (self.pool, self.older):
                hits = [item for item in pool if all(self.words_fit.tag(word, item) for word in content)]
                if not hits:
                    continue
                tags = {self.words_fit.tag(word, item) for item in hits for word in content}
                if not tags & STRONG_TAGS and not headed:
                    return False  # "for the rain": descriptive title words alone are no reference
                kind: Kind = "name" if "name" in tags else "attribute"
                if deictic and len(hits) == len(pool) > 1 and not plural:
                    kind = "pronoun"  # "this jacket" when every product in focus is a jacket
                if "color" in tags and len(hits) > 1:
                    hits = self._showing(content, hits) or hits
                if plural or len(hits) == 1:
                    self._add(start, hits, kind, f"'{said}' fits {len(hits)}")
                else:
                    self._add(start, hits[:1], kind, f"'{said}' fits {len(hits)}; took the first", True)
                return True
            if deictic and self._producty(content[-1]):  # "this tent" / "these boots", and none in focus
                if self.page and self._page_fits(content[-1]):
                    self.refs.append(_Ref(start, [self.page], "page", f"'{self.words[i]} {said}' -> the page product"))
                    return True
                return False
            if self.words_fit.is_category(content[-1]) or content[-1].isdigit():
                return False  # "the blue tent" with no tent in focus is not "the blue one", "the Ember 35" not "Ember"
            content = content[:-1]  # "the headlamp rechargeable", "the blue one in large": a predicate follows
        return False

    def _page_fits(self, word: str) -> bool:
        """Whether the page product is a ``word`` ("tent"); trusted when its record is not at hand."""
        record = self.known.get(self.page or "")
        return record is None or self.words_fit.tag(word, FocusItem.from_product(record[0])) is not None

    def _showing(self, content: list[str], hits: list[FocusItem]) -> list[FocusItem]:
        """The products whose card shows the colour said ("the navy one": the card in Midnight Navy)."""
        showing = []
        for item in hits:
            product, variant = self.known.get(item.product_id, (None, None))
            if product is None or variant is None:
                continue
            shown = FocusItem.from_product(product, variant)
            if any(self.shown_fit.tag(word, shown) == "color" for word in content):
                showing.append(item)
        return showing

    def _unknown_name(self) -> str:
        """A product name in the message that fits nothing in focus: "the Ridgeback UL", or "the Stillwater 3"
        when only the Stillwater 2 was shown. A name is a focus product's name word with another number, or a
        capitalised word after a determiner ("the", "a", "this") that is neither store vocabulary (colours,
        brands, categories) nor a common or focus word: "good for the Alps?" may flag, "in Colorado" does not."""
        items = [*self.pool, *self.older]
        for k, (_, start, end) in enumerate(self.toks):
            key = self.stems[k]
            if self._other_number_everywhere(k, items):
                return self.message[start : self.toks[k + 1][2]]
            first = k  # the name's first capitalised word: "Alpine" in "the Alpine Fortress"
            while first > 0 and not self.breaks[first] and self._capital(first - 1):
                first -= 1
            after_det = first > 0 and not self.breaks[first] and self.words[first - 1] in _NAME_DETS
            if not after_det or not self._capital(k) or not self._name_like(key, items):
                continue
            start = self.toks[first][1]
            for j in range(k + 1, min(k + 3, len(self.toks))):  # the rest of the name: "UL", "3", "Fortress"
                word, s, e = self.toks[j]
                if self.breaks[j] or not (self._capital(j) or word.isdigit()):
                    break
                end = e
            return self.message[start:end]
        return ""

    def _capital(self, k: int) -> bool:
        return self.message[self.toks[k][1] : self.toks[k][1] + 1].isupper()

    def _name_like(self, key: str, items: Sequence[FocusItem]) -> bool:
        """Whether a stemmed word may be part of a product's name that fits nothing in ``items``."""
        if len(key) < 3 or not key.isalpha() or key in COMMON_WORDS or key in _FILLER or gender_group(key):
            return False
        return not self.words_fit.vocab.lookup((key,)) and not any(self.words_fit.tag(key, i) for i in items)

    def _other_number_everywhere(self, k: int, items: Sequence[FocusItem]) -> bool:
        """Whether token ``k`` names products in focus, each with another number than the one that follows."""
        fitting = [item for item in items if self.stems[k] in self.words_fit.name_words(item)]
        return bool(fitting) and all(self._other_number(k, self.words_fit.title_words(item)) for item in fitting)

    def _pronouns(self) -> None:
        named = bool(self.refs)
        comparing = re.search(r"\b(?:than|compare[ds]?|vs|versus|or|difference|as \w+ as)\b", self.text)
        for i, word in enumerate(self.words):
            if i in self.used:
                continue
            nxt = self.words[i + 1] if i + 1 < len(self.words) and not self.breaks[i + 1] else ""
            prev = self.words[i - 1] if i and not self.breaks[i] else ""
            start = self.toks[i][1]
            if word in _PLURAL_PRONOUNS or (word == "which" and nxt in _WHICH_NEXT):
                if (word == "they" and nxt in _STORE_VERBS) or (word in ("these", "those") and nxt and prev not in
                                                                _AUX and nxt not in _BOUND | _FILLER):  # fmt: skip
                    continue  # "do they ship", "these tents" (a phrase that fitted nothing in focus)
                if self.pool and not (named and word == "which"):
                    self._add(start, self.pool, "pronoun", f"'{word}' -> all {len(self.pool)} in focus")
                elif not self.pool and self.page and not named and word != "which":
                    self.refs.append(_Ref(start, [self.page], "page", f"'{word}' -> the page product"))
            elif word in ("it", "its") or (word in ("this", "that") and self._deictic(prev, nxt)):
                if (word in ("it", "its") and _DUMMY_IT.search(self.text)) or (named and not comparing):
                    continue  # "the blue one, is it waterproof?": 'it' is the blue one
                self._singular(start, word)

    def _singular(self, start: int, said: str) -> None:
        """A singular pronoun or deixis: the first product in focus, else the page product."""
        if self.pool:
            self._add(start, self.pool[:1], "pronoun", f"'{said}' -> the first in focus", len(self.pool) > 1)
        elif self.page:
            self.refs.append(_Ref(start, [self.page], "page", f"'{said}' -> the page product"))
        else:
            self.refs.append(_Ref(start, [], "none", f"'{said}' but nothing in focus"))

    def _deictic(self, prev: str, nxt: str) -> bool:
        if nxt in _NOT_DEICTIC_NEXT or prev in _RELATIVE_BEFORE or self._producty(stem(prev)):
            return False  # "a jacket that fits", "something that keeps me dry"
        if prev in _AUX and not self._producty(stem(nxt)):
            return True  # "is this waterproof?"
        return not nxt or nxt in _BOUND or nxt in _FILLER or nxt in ("looks", "seems", "sounds")

    def _names(self) -> None:
        categories = self.words_fit.categories(self.stems)
        for pool in (self.pool, self.older):
            found: dict[int, list[FocusItem]] = {}
            for item in pool:
                if categories and not Descriptors.in_categories(item, categories):
                    continue
                names = self.words_fit.name_words(item)
                title = self.words_fit.title_words(item)
                pairs = {(a, b) for a, b in zip(title, title[1:], strict=False) if a in names or b in names}
                free = [k for k in range(len(self.stems)) if k not in self.used]
                hit = next((k for k in free if self.stems[k] in names and len(self.stems[k]) >= 4
                            and not self._other_number(k, title)), None)  # fmt: skip
                hit = next((k for k in free if k + 1 < len(self.stems) and (self.stems[k], self.stems[k + 1]) in pairs
                            and k + 1 not in self.used), hit)  # fmt: skip
                if hit is not None:
                    found.setdefault(hit, []).append(item)
            for k, items in found.items():
                self._add(self.toks[k][1], items[:1], "name", f"named '{self.words[k]}'", len(items) > 1)
            if found:
                return

    def _other_number(self, k: int, title: tuple[str, ...]) -> bool:
        """Whether the name at token ``k`` carries a number the title does not ("Ember 35" vs "Ember 20")."""
        number = self.stems[k + 1] if k + 1 < len(self.stems) and self.stems[k + 1].isdigit() else None
        return number is not None and number not in title

    def _new_search(self) -> str | None:
        if SEARCH_CUE.search(self.text):
            return "new search"
        categories = self.words_fit.categories(self.stems)
        if categories and not any(Descriptors.in_categories(i, categories) for i in self.pool):
            return f"new search: {', '.join(sorted(categories))} not in focus"
        return None

    def _combine(self) -> Resolution:
        refs = sorted((r for r in self.refs if r.ids), key=lambda r: r.start)
        note = "; ".join(r.note for r in sorted(self.refs, key=lambda r: r.start))
        if not refs:
            return Resolution(note=note)
        ids = list(dict.fromkeys(pid for r in refs for pid in r.ids))
        main = next((r for r in refs if r.kind != "pronoun"), refs[0])
        return Resolution(ids, main.kind, True, note, len(refs) == 1 and refs[0].ambiguous)

    def _producty(self, word: str) -> bool:  # names a thing one could buy: "jacket", "item", a focus word
        return bool(word) and (word in _FILLER or self.words_fit.is_category(word) or self._fits_pool(word))
