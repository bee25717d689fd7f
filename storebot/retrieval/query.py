"""Commerce query understanding: a shopper's words -> filters, a sort and the text left to search.

``"waterproof jacket under $150 in medium"`` becomes the search text
``"waterproof jacket"``, ``price_max=150`` and ``sizes=["M"]``. Phrases that
are only filters (prices, sizes, "in stock", "on sale", "cheapest") are cut from the
search text; words that also describe the product (colours, brands,
categories, materials, "women's") stay in it, because they help ranking and
because a filter that later gets relaxed should still pull its way softly.

Parsing is deliberately conservative. A number is a price only with a
currency or a price word ("under 150"), never with a unit ("10,000 mm",
"2 person", "-10C"); a size needs a cue ("size 10", "in M", "medium" at the
end of the query); catalog words match only as whole words of the store's
own vocabulary. A missed filter costs little (the words are still searched);
a wrong one hides good products.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from storebot.retrieval.filters import Filters
from storebot.retrieval.normalize import fold, gender_group, size_display, size_key, stem, tokens
from storebot.retrieval.vocabulary import CatalogVocabulary

SORTS = ("price_asc", "price_desc", "rating")
AROUND = Decimal("0.20")  # "around $100" means $80-$120

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?"
_SYM = r"(?:us\$|[$€£])"
_CUR = rf"(?:\s?{_SYM}|\s?(?:usd|eur|euros?|gbp|dollars?|bucks)\b)"
# A unit after a number makes it a measurement, not a price or a size.
_UNIT = (
    r"(?:%|°|\"|mm|cm|km|m|g|kg|oz|lbs?|pounds?|l|ml|lit(?:er|re)s?|inch(?:es)?|ft|feet|foot|persons?|people|p"
    r"|seasons?|lumens?|lm|mah|h|hrs?|hours?|mins?|minutes?|days?|nights?|years?|yrs?|months?|w|watts?|v|c|f"
    r"|degrees?|deg|x|d|denier|pack|pk|pcs|pieces?|count|ct|mph|psi|miles?|mi)(?![\w])"
)
_AFTER = rf"(?!\w|[.,]\d)(?!\s*{_UNIT})"


def _amount(name: str, *, start: bool = True, currency: bool = False) -> str:
    before = r"(?<![\w.,$€£-])" if start else ""
    if currency:  # a currency is required: "$150", "150 usd", "€80"
        core = rf"(?:{_SYM}\s?{_NUM}k?|(?:usd|eur|gbp)\s{_NUM}k?|{_NUM}k?{_CUR})"
    else:
        core = rf"(?:{_SYM}\s?|(?:usd|eur|gbp)\s)?{_NUM}k?{_CUR}?"
    return rf"{before}(?P<{name}>{core}){_AFTER}"


_NOT_RANGE = r"(?!\s*(?:-|–|to)\s*[$€£]?\d)"  # "from 2 to 4 person" is not "from $2"
_MAX_WORDS = (
    r"under|below|beneath|less\s+than|lower\s+than|cheaper\s+than|no\s+more\s+than|not\s+more\s+than"
    r"|max(?:imum)?|up\s+to|at\s+most|within|budget(?:\s+(?:of|is))?"
)
_MIN_WORDS = (
    r"over|above|more\s+than|greater\s+than|higher\s+than|at\s+least|from|min(?:imum)?|starting\s+(?:at|from)"
    r"|upwards\s+of"
)
_PRICES: list[tuple[str, re.Pattern[str]]] = [
    ("range", re.compile(rf"\b(?:between|from)\s+{_amount('a')}\s*(?:and|to|-|–)\s*{_amount('b', start=False)}")),
    ("range", re.compile(rf"{_amount('a')}\s*(?:-|–|to)\s*{_amount('b', start=False)}")),
    ("around", re.compile(rf"(?:\b(?:around|about|approx(?:imately)?|roughly|circa)\s+|~\s*){_amount('a')}")),
    ("max", re.compile(rf"(?:\b(?:{_MAX_WORDS})\s*:?\s*|<=?\s*){_amount('a')}{_NOT_RANGE}")),
    ("max", re.compile(rf"{_amount('a')}\s+(?:(?:or|and)\s+(?:less|under|below|cheaper)|max(?:imum)?)\b")),
    ("min", re.compile(rf"(?:\b(?:{_MIN_WORDS})\s*:?\s*|>=?\s*){_amount('a')}{_NOT_RANGE}")),
    ("min", re.compile(rf"{_amount('a')}(?:\s*\+|\s+(?:or|and)\s+(?:more|over|above|up)\b)")),
    ("max", re.compile(_amount("a", currency=True) + _NOT_RANGE)),  # a bare "$150" is a budget
]
_RATING = r"(?:best|top|highest|highly)[\s-](?:rated|reviewed)|best\s+reviews|sort(?:ed)?\s+by\s+ratings?"
_DEAREST = r"most\s+expensive|priciest|highest[\s-]priced?|highest\s+prices?|(?:price\s+)?high\s+to\s+low"
_CHEAPEST = (
    r"cheapest|least\s+expensive|lowest[\s-]priced?|lowest\s+prices?|cheap|inexpensive|affordable"
    r"|(?:price\s+)?low\s+to\s+high|sort(?:ed)?\s+by\s+price"
)
_SORTS = [(name, re.compile(rf"\b(?:{words})\b")) for name, words in
          (("rating", _RATING), ("price_desc", _DEAREST), ("price_asc", _CHEAPEST))]  # fmt: skip
_IN_STOCK = re.compile(
    r"(?<!\bnot\s)(?<!n't\s)\b(?:in[\s-]?stock|available\s+(?:now|today|immediately)|ready\s+to\s+ship"
    r"|ships?\s+(?:now|today|immediately)|available"
    r"|(?:can|could)\s+(?:order|buy|get)\s+(?:it\s+|them\s+|one\s+)?(?:today|now|right\s+now))\b"
)
# "on sale", "discounted", "deals on", "clearance", "marked down", "30% off" -> on_sale. Whole words only
# ("wholesale", "resale", "salesperson" are not sales); negated ("not on sale"), "for sale" (merely sold),
# "discount code" (a coupon), "deal with rain" and "reduced weight" (a spec) are not either.
_NO_SALE = r"(?<!\bnot\s)(?<!n't\s)(?<!\bnot\son\s)(?<!n't\son\s)(?<!\bfor\s)(?<!\bground\s)"
_ON_SALE = re.compile(
    rf"{_NO_SALE}\b(?:(?:currently\s+|now\s+)?on\s+(?:sale|clearance|discount|markdown|special)"
    r"|(?:(?:good|great|best|hot|top|big|any)\s+)?(?:sales?|deals?|discounts?|markdowns?|clearance)"
    r"(?!\s+(?:codes?|coupons?|vouchers?|tax|taxes|reps?|person|people|team|associates?|with)\b)(?:\s+on\b)?"
    r"|discounted|marked[\s-]down|(?:\d{1,2}\s?%|half)\s+off|half[\s-]price"
    r"|reduced(?:\s+prices?)?(?!\s+(?:weight|bulk|size|noise|friction|volume|drag|glare|impact|fog|odou?r)\b))\b"
)

_SIZE_WORD = (
    r"(?:extra[\s-]?extra[\s-]?large|extra[\s-]?large|extra[\s-]?small|xx[\s-]?large|x[\s-]?large|x[\s-]?small"
    r"|xxxl|xxl|xxs|xl|xs|[2-4]xl|small|medium|large|med|sm|md|lg|s|m|l)"
)
_SIZE_VAL = rf"{_SIZE_WORD}(?:/{_SIZE_WORD})?(?![\w/])"
_SIZE_END = rf"(?![\w.])(?!\s*{_UNIT})"  # "size 2 person" has no size
_SIZE_NUM = rf"(?:(?:us|uk|eu)\s?)?\d{{1,2}}(?:\.5|\s1/2|½)?(?:\s?(?:us|uk|eu)\b)?{_SIZE_END}"
_SIZE_ANY = rf"(?:{_SIZE_NUM}|{_SIZE_VAL})"
# Words that are sizes wherever they stand ("jacket xl").
_SIZE_TOKENS = r"xxs|xs|xl|xxl|xxxl|[2-4]xl|x-small|x-large|xx-large|extra[\s-]small|extra[\s-]large"
_SIZE_LIST = rf"{_SIZE_ANY}(?:\s*(?:,|/|\bor\b)\s*{_SIZE_ANY})*"
_SIZE_WORDS = rf"{_SIZE_VAL}(?:\s*(?:,|\bor\b)\s*{_SIZE_VAL})*"
# (pattern, keep a size the catalog lacks?, cut only the size itself?). Explicit cues keep an unknown
# size so that relaxing can say "size (13)"; a gendered shoe size ("women's 8") keeps its gender word.
_SIZES: list[tuple[re.Pattern[str], bool, bool]] = [
    (re.compile(rf"\b(?:in\s+(?:a\s+)?)?(?:size|sizes|sz)\s*[:#]?\s*(?P<list>{_SIZE_LIST})"), True, False),
    (re.compile(rf"\b(?P<list>(?:uk|eu)\s?\d{{1,2}}(?:\.5)?){_SIZE_END}"), True, False),
    (re.compile(rf"\bin\s+(?:a\s+|an\s+)?(?P<list>{_SIZE_WORDS})"), True, False),
    (re.compile(rf"\b(?P<list>{_SIZE_VAL})\s+size\b"), True, False),
    (re.compile(rf"\b(?:men|women|ladies)['’]?s?\s+(?:size\s+)?(?P<list>\d{{1,2}}(?:\.5)?){_SIZE_END}"), True, True),
    (re.compile(rf"(?<![\w/-])(?P<list>{_SIZE_TOKENS})(?![\w/-])"), True, False),
    (re.compile(rf"(?:^|,)\s*(?P<list>{_SIZE_VAL})\s*(?=,|$)"), False, False),  # "blue, M"
    (re.compile(r"\s(?P<list>small|medium|large)\s*$"), False, False),  # "rain jacket medium"
]
_HALF_SIZE = re.compile(rf"(?<![\w.$€£-])(?P<list>\d{{1,2}}\.5){_SIZE_END}")  # "trail runners 10.5"
_EDGE_WORDS = frozenset({
    "in", "and", "or", "with", "for", "at", "to", "of", "the", "a", "an", "but", "from", "that", "is", "are",
    "which", "on", "priced", "price", "prices", "costing", "cost", "costs", "size", "sized", "sizes", "only",
    # the way a shopper asks ("what's on sale?", "do you have any tents", "show me boots please"): nothing to search
    "what", "what's", "whats", "any", "anything", "something", "some", "do", "you", "have", "got", "sell", "carry",
    "there", "show", "me", "i", "i'm", "im", "need", "want", "looking", "please", "items", "products", "stuff",
})  # fmt: skip
QUERY_STOP_WORDS = _EDGE_WORDS | frozenset({
    "does", "did", "can", "could", "would", "should", "will", "your", "our", "we", "my", "it", "its", "this", "these",
    "those", "they", "them", "their", "one", "ones", "how", "who", "where", "when", "why", "get", "find", "buy",
    "order", "stock", "offer", "good", "best", "great", "nice", "new", "really", "very", "more", "most", "less",
    "about", "like", "also", "just", "thanks", "thank", "other", "another", "kind", "type", "sort", "ideas",
    "idea", "recommend", "suggest", "looking", "search", "help", "hello", "hey", "instead", "else", "too", "then",
    "now", "actually", "maybe", "perhaps", "still", "again", "anyway", "though", "yes", "yeah", "okay", "hmm",
    "don't", "dont", "doesn't", "isn't", "aren't", "wouldn't", "might", "must", "shall", "may", "been", "being",
    "were", "was", "had", "gets", "makes", "made", "lets", "using", "needs", "wants", "likes", "love", "finding",
    "buying", "bought", "going", "went", "come", "comes", "came", "take", "took", "give", "gave", "keep", "kept",
    "see", "saw", "say", "said", "tell", "told", "know", "knew", "think", "thought", "feel", "felt", "try", "tried",
    "today", "tonight", "tomorrow", "here", "whose", "whom", "than", "either", "neither", "both", "each", "every",
    "because", "since", "while", "until", "lol", "haha", "cheers", "helped", "helpful", "confirm", "right", "sure",
    "please", "partner", "friend", "wife", "husband", "kids", "son", "daughter", "dad", "mom", "mum", "gift", "gifts",
})  # fmt: skip
"""Words of a search that name no product: a catalog not having them says nothing about what it carries."""
_KIND_ORDER = ("category", "brand", "brand_weak", "color", "size")  # first wins when a phrase means several things
_BRAND_CUES = frozenset({"by", "from", "brand"})
_FIELD_OF_KIND = {
    "category": "categories",
    "brand": "brands",
    "brand_weak": "brands",
    "color": "colors",
    "size": "sizes",
}


@dataclass
class ParsedQuery:
    """A shopper's query, understood.

    Example:
        >>> parsed = parse_query("waterproof jacket under $150 in medium")
        >>> parsed.search_text, parsed.filters.price_max, parsed.filters.sizes
        ('waterproof jacket', Decimal('150'), ['M'])
    """

    text: str
    search_text: str
    filters: Filters = field(default_factory=Filters)
    sort: str | None = None  # one of SORTS

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "search_text": self.search_text, "filters": self.filters.to_dict(),
                "sort": self.sort}  # fmt: skip


def parse_query(text: str, vocabulary: CatalogVocabulary | None = None) -> ParsedQuery:
    """Parse ``text`` against a store's ``vocabulary`` (without one, only prices, sizes, stock, sales, sort, gender)."""
    parse = _Parse(text, vocabulary or CatalogVocabulary())
    parse.run()
    return ParsedQuery(text=text, search_text=parse.search_text(), filters=parse.filters, sort=parse.sort)


class _Parse:
    """One parse: the folded text, the spans claimed so far and the filters found."""

    def __init__(self, text: str, vocabulary: CatalogVocabulary) -> None:
        self.text = text
        self.folded = fold(text)
        self.vocab = vocabulary
        self.claimed: list[tuple[int, int]] = []
        self.filters = Filters()
        self.sort: str | None = None

    def run(self) -> None:
        self.filters.gender = _unique(g for word, _, _ in tokens(self.text) if (g := gender_group(word)) is not None)
        for pattern, keep, cut_size_only in _SIZES:
            self._sizes(pattern, keep, cut_size_only)
        self._prices()
        for name, pattern in _SORTS:
            for m in pattern.finditer(self.folded):
                if self._claim(m.span()):
                    self.sort = self.sort or name
        for m in _IN_STOCK.finditer(self.folded):
            if self._claim(m.span()):
                self.filters.in_stock = True
        for m in _ON_SALE.finditer(self.folded):
            if self._claim(m.span()):
                self.filters.on_sale = True
        self._sizes(_HALF_SIZE, keep=False, cut_size_only=False)
        self._vocabulary()

    def _claim(self, span: tuple[int, int], mark: tuple[int, int] | None = None) -> bool:
        """Claim ``span`` unless it overlaps an earlier claim; ``mark`` is the part to cut from the text."""
        start, end = span
        if start == end or any(start < e and s < end for s, e in self.claimed):
            return False
        self.claimed.append(mark or span)
        return True

    def _sizes(self, pattern: re.Pattern[str], keep: bool, cut_size_only: bool) -> None:
        gender = self.filters.gender[0] if len(self.filters.gender) == 1 else None
        for m in pattern.finditer(self.folded):
            found = [v for item in _size_items(m.group("list"), self.vocab) for v in self._size(item, gender, keep)]
            if found and self._claim(m.span(), m.span("list") if cut_size_only else None):
                self.filters.sizes = _unique([*self.filters.sizes, *found])

    def _size(self, item: str, gender: str | None, keep: bool) -> list[str]:
        found = self.vocab.resolve_sizes(item, gender)
        key = size_key(item)
        if not found and key.replace(".", "").isdigit() and 35 <= float(key) <= 50:
            found = self.vocab.resolve_sizes(f"eu {key}", gender)  # "size 44" in a US-sized store
        return found or ([size_display(key)] if keep else [])

    def _prices(self) -> None:
        for kind, pattern in _PRICES:
            for m in pattern.finditer(self.folded):
                if not self._claim(m.span()):
                    continue
                amounts = [_money(m.group(g)) for g in ("a", "b") if g in pattern.groupindex]
                self.filters.currency = self.filters.currency or _currency(m.group())
                if kind == "range":
                    self.filters.price_min, self.filters.price_max = sorted(amounts)
                elif kind == "around":
                    self.filters.price_min = (amounts[0] * (1 - AROUND)).quantize(Decimal("0.01"))
                    self.filters.price_max = (amounts[0] * (1 + AROUND)).quantize(Decimal("0.01"))
                else:
                    setattr(self.filters, f"price_{kind}", amounts[0])
        low, high = self.filters.price_min, self.filters.price_max
        if low is not None and high is not None and low > high:  # "over 100 under 50": read as a range
            self.filters.price_min, self.filters.price_max = high, low

    def _vocabulary(self) -> None:
        words = [(stem(word), start, end) for word, start, end in tokens(self.text)]
        free = [not any(start < e and s < end for s, e in self.claimed) for _, start, end in words]
        i = 0
        while i < len(words):
            for length in range(min(self.vocab.max_phrase, len(words) - i), 0, -1):
                if not all(free[i : i + length]):
                    continue
                meaning = self.vocab.lookup(tuple(word for word, _, _ in words[i : i + length]))
                previous = words[i - 1][0] if i else ""
                if meaning and self._record(meaning, previous):
                    i += length
                    break
            else:
                i += 1

    def _record(self, meaning: dict[str, list[str]], previous: str) -> bool:
        kinds = [kind for kind in _KIND_ORDER if kind in meaning] + sorted(k for k in meaning if k.startswith("attr:"))
        for kind in kinds:
            if kind == "brand_weak" and previous not in _BRAND_CUES:
                continue
            values = meaning[kind]
            if kind.startswith("attr:"):
                name = kind[5:]
                self.filters.attributes[name] = _unique([*self.filters.attributes.get(name, []), *values])
            else:
                name = _FIELD_OF_KIND[kind]
                setattr(self.filters, name, _unique([*getattr(self.filters, name), *values]))
            return True
        return False

    def search_text(self) -> str:
        chars = list(self.text)
        for start, end in self.claimed:
            chars[start:end] = " " * (end - start)
        text = re.sub(r"\s+([,;.!?])", r"\1", " ".join("".join(chars).split()))
        text = re.sub(r"([,;])(?:\s*[,;])+", r"\1", text)
        words = text.split(" ")
        while words and _edge(words[0]):
            words.pop(0)
        while words and _edge(words[-1]):
            words.pop()
        return " ".join(words).strip(" ,;:-–")


def _edge(word: str) -> bool:
    bare = fold(word).replace("’", "'").strip(",;:.!?-–()")
    return not bare or bare in _EDGE_WORDS


def _size_items(text: str, vocab: CatalogVocabulary) -> list[str]:
    """Split a size list ("m or l", "10, 10.5"), keeping a combined size the catalog sells ("S/M")."""
    items = []
    for part in re.split(r"\s*(?:,|\bor\b)\s*", text):
        if "/" in part and not vocab.resolve_sizes(part):
            items += [p for p in part.split("/") if p.strip()]
        elif part.strip():
            items.append(part)
    return items


def _money(raw: str) -> Decimal:
    number = re.search(r"\d[\d,]*(?:\.\d+)?", raw)
    value = Decimal(number.group().replace(",", "")) if number else Decimal(0)
    return value * 1000 if re.search(r"\dk\b", raw) else value


def _currency(raw: str) -> str | None:
    if "€" in raw or "eur" in raw:
        return "EUR"
    if "£" in raw or "gbp" in raw:
        return "GBP"
    if "$" in raw or "usd" in raw or "dollar" in raw or "buck" in raw:
        return "USD"
    return None


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))
