"""Products in a conversation's focus, and how a shopper's words fit them.

:class:`FocusItem` keeps what a shopper can refer to a product by: its title,
brand, colours, options, category path, gender and price. :class:`Descriptors`
says how one word fits one product: "blue" is a colour of the Slate Blue
jacket, "alder" its brand, "women" its gender, "tent" its category head,
"ridge" part of its name, and "rain" only a descriptive word of its title.
Reference resolution (:mod:`storebot.chat.references`) builds on both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from storebot.catalog.models import Product, Variant
from storebot.retrieval.filters import product_gender
from storebot.retrieval.normalize import COLOR_FAMILIES, GENDER_WORDS, option_name, phrase_key, stem
from storebot.retrieval.vocabulary import COMMON_WORDS, CatalogVocabulary

#: Tags that name or pick out a product ("ridge", "Alder", "blue", "women's", "tent", "merino").
STRONG_TAGS = frozenset({"name", "brand", "color", "gender", "category", "option"})
#: Words naming a thing without saying which: "the blue one", "this item".
GENERIC_NOUNS = frozenset({"one", "ones", "option", "item", "product", "result", "choice", "pick", "model", "version",
                           "thing"})  # fmt: skip
# Title words that describe rather than name a product ("Ridge Shell Rain Jacket": "ridge" names it, "rain" does not).
_DESCRIPTIVE = frozenset(
    """rain down shell insulated waterproof water lightweight light ultralight trail hiking running backpacking camp
    camping pro plus max lite mini classic original new men women kid unisex pack set kit layer jacket hoody vest pant
    short shoe boot tent bag pad bottle sock hat glove top tee shirt fleece base travel puffer hooded zip half full long
    sleeve wool merino synthetic person""".split()  # noqa: SIM905 - a word list reads better as prose
)


@dataclass
class FocusItem:
    """A product in the conversation's focus, reduced to what a shopper refers to it by.

    The caller builds these from the catalog records of the products an
    answer showed, in display order.

    Example:
        >>> jacket = Product(id="j1", title="Ridge Shell Rain Jacket", brand="Alder", category=["Jackets"],
        ...     variants=[Variant(id="j1-m", options={"size": "M", "color": "Slate Blue"}, price=Decimal("139"))])
        >>> item = FocusItem.from_product(jacket)
        >>> item.colors, item.options["size"], item.price
        (['Slate Blue'], ['M'], Decimal('139'))
    """

    product_id: str
    title: str
    brand: str = ""
    colors: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # canonical option name -> values
    category: list[str] = field(default_factory=list)
    price: Decimal | None = None  # what the shopper pays now (sale price first)
    gender: str | None = None  # "men", "women", "kids", "unisex" or None
    variant_id: str | None = None
    currency: str = "USD"

    @classmethod
    def from_product(cls, product: Product, variant: Variant | None = None) -> FocusItem:
        """The focus item for ``product``, narrowed to ``variant`` when the answer showed one."""
        options: dict[str, list[str]] = {}
        for v in [variant] if variant is not None else product.variants:
            for name, value in v.options.items():
                values = options.setdefault(option_name(name), [])
                if str(value) not in values:
                    values.append(str(value))
        colors = list(options.get("color", []))
        colors += [str(v) for k, v in product.attributes.items() if option_name(k) == "color" and str(v) not in colors]
        variant_id = str(variant.id) if variant is not None else None
        return cls(str(product.id), product.title, product.brand, colors, options, list(product.category),
                   _price(product, variant), product_gender(product), variant_id, product.currency)  # fmt: skip


class Descriptors:
    """How words fit products, against one store's vocabulary; answers are cached per instance.

    Example:
        >>> words = Descriptors(None)
        >>> item = FocusItem("j1", "Ridge Shell Rain Jacket", "Alder", ["Slate Blue"], category=["Rain Jackets"])
        >>> [words.tag(w, item) for w in ("blue", "alder", "jacket", "ridge", "rain", "tent")]
        ['color', 'brand', 'category', 'name', 'title', None]
    """

    def __init__(self, vocabulary: CatalogVocabulary | None) -> None:
        self.vocab = vocabulary or CatalogVocabulary()
        self._tags: dict[tuple[str, str], str | None] = {}
        self._profiles: dict[str, _Profile] = {}
        self._words: dict[str, tuple[str | None, frozenset[str], frozenset[str]]] = {}

    def tag(self, word: str, item: FocusItem) -> str | None:
        """How ``word`` (stemmed) fits ``item``: gender, color, brand, category, name, title, option; or None.

        ``title`` means a descriptive title word ("rain", "down"), too weak to pick a product alone.
        """
        key = (word, item.product_id)
        if key not in self._tags:
            self._tags[key] = self._tag(word, item) if word else None
        return self._tags[key]

    def _tag(self, word: str, item: FocusItem) -> str | None:
        group, colors, kinds = self._word(word)
        profile = self._profile(item)
        if group is not None:
            return "gender" if item.gender == group else None
        if word in profile.color_words or colors & profile.colors:
            return "color"
        if word in COLOR_FAMILIES and profile.color_words & {word, *COLOR_FAMILIES[word]}:
            return "color"
        if word in profile.brand:
            return "brand"
        if word in profile.heads:
            return "category"  # a head noun: "tent", "jacket"
        if word in profile.qualifiers:
            return "title"  # a qualifier: "rain" in "Rain Jackets"
        if word in profile.title:
            generic = word in _DESCRIPTIVE or word in COMMON_WORDS or not word.isalpha()
            return "title" if generic or kinds & {"category", "color", "size"} else "name"
        return "option" if word in profile.options and len(word) >= 3 else None

    def _word(self, word: str) -> tuple[str | None, frozenset[str], frozenset[str]]:
        """A stemmed word's gender group, the catalog colours it names and its vocabulary kinds (cached)."""
        if word not in self._words:
            found = self.vocab.lookup((word,))
            group = next((g for g, words in GENDER_WORDS.items() if word in words), None)
            self._words[word] = (group, frozenset(found.get("color", ())), frozenset(found))
        return self._words[word]

    def _profile(self, item: FocusItem) -> _Profile:
        profile = self._profiles.get(item.product_id)
        if profile is None:
            options = tuple(
                (name, tuple(values)) for name, values in item.options.items() if name not in ("size", "color")
            )
            profile = self._profiles[item.product_id] = _profile(item.title, item.brand, tuple(item.colors),
                                                                 tuple(item.category), options)  # fmt: skip
        return profile

    def fits(self, word: str, item: FocusItem) -> bool:
        """Whether an unstemmed ``word`` fits ``item`` at all."""
        return self.tag(stem(word), item) is not None

    def title_words(self, item: FocusItem) -> tuple[str, ...]:
        """``item``'s title as stemmed words."""
        return self._profile(item).title

    def name_words(self, item: FocusItem) -> set[str]:
        """The words of ``item``'s title that name it ("ridge", "tempest"), not describe it."""
        return {w for w in self._profile(item).title if w.isalpha() and self.tag(w, item) == "name"}

    def is_category(self, word: str) -> bool:
        return "category" in self._word(word)[2]

    def categories(self, stems: list[str]) -> set[str]:
        """The store's category segments that ``stems`` name ("tents", "rain jackets")."""
        found: set[str] = set()
        for k in range(len(stems)):
            for key in ((stems[k],), tuple(stems[k : k + 2])):
                found.update(self.vocab.lookup(key).get("category", []))
        return found

    @staticmethod
    def in_categories(item: FocusItem, categories: Iterable[str]) -> bool:
        """Whether ``item`` belongs to one of ``categories`` (by path segment, or by its title's head noun)."""
        have = {phrase_key(c) for c in item.category} | {phrase_key(item.title)[-1:]}
        return any(phrase_key(c) in have or phrase_key(c)[-1:] in have for c in categories)


class _Profile(NamedTuple):
    title: tuple[str, ...]
    brand: tuple[str, ...]
    heads: frozenset[str]  # last words of category segments
    qualifiers: frozenset[str]  # all words of category segments
    colors: frozenset[str]
    color_words: frozenset[str]
    options: frozenset[str]  # words of option values other than size and colour


@lru_cache(maxsize=4096)
def _profile(title: str, brand: str, colors: tuple[str, ...], category: tuple[str, ...],
             options: tuple[tuple[str, tuple[str, ...]], ...]) -> _Profile:  # fmt: skip
    """A product's words, folded and stemmed once per process (titles repeat turn after turn)."""
    segments = [phrase_key(segment) for segment in category]
    return _Profile(
        title=phrase_key(title),
        brand=phrase_key(brand),
        heads=frozenset(key[-1] for key in segments if key),
        qualifiers=frozenset(w for key in segments for w in key) - {"and"},
        colors=frozenset(colors),
        color_words=frozenset(w for c in colors for w in phrase_key(c)),
        options=frozenset(w for _, values in options for v in values for w in phrase_key(v)),
    )


def _price(product: Product, variant: Variant | None) -> Decimal | None:
    if variant is not None:
        own = variant.sale_price if variant.sale_price is not None else variant.price
        return own if own is not None else product.effective_price
    if product.effective_price is not None:
        return product.effective_price
    prices = [v.sale_price if v.sale_price is not None else v.price for v in product.variants]
    return min((p for p in prices if p is not None), default=None)
