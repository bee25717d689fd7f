"""The words a store's catalog uses for its brands, categories and options.

Query parsing matches a shopper's words against this vocabulary rather than
against a global dictionary, so "Moss" is a colour only in a store that sells
something in Moss, and "Alder" is a brand only where Alder is stocked. The
vocabulary is built once from the products and saved with the search index
(:meth:`CatalogVocabulary.to_dict`); its lookup tables are rebuilt on load.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from storebot.catalog.models import Product
from storebot.retrieval.normalize import (
    COLOR_FAMILIES,
    EU_TO_US,
    GENDER_WORDS,
    UK_TO_US_OFFSET,
    fold,
    option_name,
    phrase_key,
    size_key,
    size_parts,
)

#: Product attributes (as opposed to variant options) collected into the vocabulary.
#: Others are free text ("20,000 mm", "runs small") and would only add false matches.
FACET_ATTRIBUTES = frozenset({"color", "size", "gender", "material"})

# Words a shopper types for their plain meaning; a brand spelled like one matches only after "by"/"from".
COMMON_WORDS = frozenset({
    "the", "best", "new", "sale", "outdoor", "outdoors", "camp", "camping", "trail", "hiking", "pro", "original",
    "basic", "classic", "sport", "sports", "active", "co", "company", "mountain", "gear", "supply", "outfitter",
    "good", "goods", "peak", "north", "south", "east", "west", "light", "ultralight", "lite", "warm", "dry", "rain",
    "cool", "waterproof", "summit", "alpine", "urban", "wild", "field", "basecamp", "adventure", "shop", "store",
})  # fmt: skip
# Option values too generic to mean a filter unless named with their option ("wide width", "waist 32").
GENERIC_VALUES = frozenset({
    "regular", "standard", "long", "short", "wide", "narrow", "tall", "petite", "default", "one", "size", "os",
    "none", "yes", "no", "classic", "original", "plus", "normal", "true", "false", "na", "other", "mixed",
    "assorted", "title", "small", "medium", "large",
})  # fmt: skip
_SKIPPED_OPTIONS = frozenset({"title"})  # Shopify's placeholder option ("Title: Default Title")
_MAX_PHRASE = 6
_ALL_GENDER_WORDS = frozenset().union(*GENDER_WORDS.values())

Key = tuple[str, ...]


@dataclass
class CatalogVocabulary:
    """Brands, category path segments and option values of one store's catalog.

    Build it with :meth:`from_products`; treat it as immutable afterwards (its
    lookup tables are computed once, on first use).

    Example:
        >>> from decimal import Decimal
        >>> from storebot.catalog.models import Product, Variant
        >>> vocab = CatalogVocabulary.from_products([
        ...     Product(id="t1", title="Stillwater 2", brand="Alder", category=["Gear", "Tents"],
        ...             variants=[Variant(id="t1-g", options={"color": "Moss"}, price=Decimal("249"))]),
        ... ])
        >>> vocab.resolve_colors("green"), vocab.resolve_categories("tent")
        (['Moss'], ['Tents'])
        >>> CatalogVocabulary.from_dict(vocab.to_dict()) == vocab
        True
    """

    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # canonical option name -> values

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> CatalogVocabulary:
        """Collect the vocabulary of ``products`` (one pass; values deduplicated ignoring case and accents)."""
        brands: dict[str, str] = {}
        categories: dict[str, str] = {}
        options: dict[str, dict[str, str]] = defaultdict(dict)
        for product in products:
            _add(brands, product.brand)
            for segment in product.category:
                _add(categories, segment)
            for name, value in product.attributes.items():
                canonical = option_name(name)
                if canonical in FACET_ATTRIBUTES and len(str(value).split()) <= 3:
                    _add(options[canonical], value)
            for variant in product.variants:
                for name, value in variant.options.items():
                    canonical = option_name(name)
                    if canonical not in _SKIPPED_OPTIONS and fold(str(value)).strip() != "default title":
                        _add(options[canonical], value)
        return cls(
            brands=_sorted(brands),
            categories=_sorted(categories),
            options={name: _sorted(values) for name, values in sorted(options.items()) if values},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"brands": list(self.brands), "categories": list(self.categories),
                "options": {name: list(values) for name, values in self.options.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogVocabulary:
        return cls(
            brands=list(data.get("brands") or []),
            categories=list(data.get("categories") or []),
            options={str(k): list(v) for k, v in (data.get("options") or {}).items()},
        )

    @property
    def colors(self) -> list[str]:
        return self.options.get("color", [])

    @property
    def sizes(self) -> list[str]:
        return self.options.get("size", [])

    @property
    def max_phrase(self) -> int:
        """The longest phrase, in tokens, that :meth:`lookup` can match."""
        return self._index.max_phrase

    def lookup(self, key: Key) -> dict[str, list[str]]:
        """What a stemmed phrase means here: kind -> catalog values.

        Kinds are ``category``, ``brand``, ``brand_weak`` (a brand spelled like a
        common or category word, to be trusted only after "by"), ``color``,
        ``size`` and ``attr:<option name>``.
        """
        return self._index.phrases.get(key, {})

    def resolve_colors(self, text: str) -> list[str]:
        """Catalog colours for a shopper's colour: exact value, a word of one, or a colour family."""
        return list(self.lookup(phrase_key(text)).get("color", []))

    def resolve_brands(self, text: str) -> list[str]:
        found = self.lookup(phrase_key(text))
        return list(found.get("brand", []) or found.get("brand_weak", []))

    def resolve_categories(self, text: str) -> list[str]:
        """Category segments for a phrase: the exact segment, else segments it heads ("jacket" -> "Rain Jackets")."""
        return list(self.lookup(phrase_key(text)).get("category", []))

    def resolve_sizes(self, text: str, gender: str | None = None) -> list[str]:
        """Catalog sizes for a shopper's size: same key ("medium" -> "M"), else combined sizes ("M" -> "S/M").

        An EU or UK shoe size is converted to US (men's unless ``gender`` says
        women) when the catalog does not list it as given.
        """
        key = size_key(text)
        by_key = self._index.sizes
        if key in by_key:
            return list(by_key[key])
        combined = sorted(v for k, values in by_key.items() if "/" in k and key in size_parts(k) for v in values)
        if combined:
            return combined
        if m := re.fullmatch(r"(eu|uk)(\d+(?:\.5)?)", key):
            table = "women" if gender == "women" else "men"
            number = float(m.group(2))
            if m.group(1) == "eu":
                us = EU_TO_US[table].get(int(number)) if number.is_integer() else None
            else:
                us = f"{number + UK_TO_US_OFFSET[table]:g}"
            return self.resolve_sizes(us) if us else []
        return []

    @cached_property
    def _index(self) -> _Index:
        return _Index(self)


class _Index:
    """Lookup tables derived from a vocabulary: stemmed phrase -> kind -> values."""

    def __init__(self, vocab: CatalogVocabulary) -> None:
        self.building: dict[Key, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.sizes: dict[str, list[str]] = defaultdict(list)
        category_words = self._add_categories(vocab.categories)
        color_words = self._add_colors(vocab.colors)
        for value in vocab.sizes:
            self.sizes[size_key(value)].append(value)
            key = phrase_key(value)
            # Only worded sizes ("Long Wide"): numbered ones ("2-Person") are too easily a count in the query.
            if len(key) >= 2 and not any(ch.isdigit() for ch in value):
                self.building[key]["size"].add(value)
        self._add_brands(vocab.brands, category_words | color_words)
        for name, values in vocab.options.items():
            if name not in ("color", "size", "gender"):
                self._add_attribute(name, values, category_words)
        self.phrases: dict[Key, dict[str, list[str]]] = {
            key: {kind: sorted(values, key=fold) for kind, values in kinds.items()}
            for key, kinds in self.building.items()
        }
        del self.building
        self.max_phrase = min(_MAX_PHRASE, max((len(k) for k in self.phrases), default=1))

    def _add_categories(self, segments: list[str]) -> set[str]:
        words: set[str] = set()
        heads: dict[Key, set[str]] = defaultdict(set)
        for segment in segments:
            key = phrase_key(segment)
            if not key:
                continue
            words.update(key)
            self.building[key]["category"].add(segment)
            parts = _split(key, "and")  # "Hats & Gloves" answers to "gloves" too
            for part in parts:
                if len(parts) > 1:
                    self.building[part]["category"].add(segment)
                heads[part[-1:]].add(segment)
        for head, matched in heads.items():
            # "jacket" means the "Jackets" segment if there is one, else every "... Jackets".
            if "category" not in self.building.get(head, {}):
                self.building[head]["category"].update(matched)
        words.discard("and")
        return words

    def _add_colors(self, values: list[str]) -> set[str]:
        family_words = set(COLOR_FAMILIES).union(*COLOR_FAMILIES.values())
        keys = {value: phrase_key(value) for value in values}
        colour_words: set[str] = set()
        for value, key in keys.items():
            if not key:
                continue
            self.building[key]["color"].add(value)
            components = [k for k in (phrase_key(part) for part in re.split(r"[/,+]", value)) if k]
            for component in components:
                if len(components) > 1:
                    self.building[component]["color"].add(value)
                # The last word names the colour ("Slate Blue" is blue); the first only qualifies it,
                # so "storm" in "Storm Grey" is not a colour word and "storm jacket" stays unfiltered.
                colour_words.add(component[-1])
            colour_words.update(word for word in key if word in family_words)
        for word in colour_words:
            self.building[(word,)]["color"].update(v for v, key in keys.items() if word in key)
        for family, members in COLOR_FAMILIES.items():
            related = {family, *members}
            matched = [v for v, key in keys.items() if related.intersection(key)]
            if matched:
                self.building[(family,)]["color"].update(matched)
        return {word for key in keys.values() for word in key}

    def _add_brands(self, brands: list[str], taken_words: set[str]) -> None:
        keys = {brand: phrase_key(brand) for brand in brands}
        first_words = Counter(key[0] for key in keys.values() if key)
        for brand, key in keys.items():
            if not key:
                continue
            generic = len(key) == 1 and (key[0] in taken_words or key[0] in COMMON_WORDS or key[0] in _ALL_GENDER_WORDS)
            self.building[key]["brand_weak" if generic else "brand"].add(brand)
            alias = key[0]
            # Shoppers shorten "Larchmere Outfitters" to "Larchmere": allow it when the word is unambiguous.
            if (len(key) > 1 and len(alias) >= 4 and alias.isalpha() and first_words[alias] == 1
                    and alias not in taken_words | COMMON_WORDS | _ALL_GENDER_WORDS):  # fmt: skip
                self.building[(alias,)]["brand"].add(brand)

    def _add_attribute(self, name: str, values: list[str], category_words: set[str]) -> None:
        kind = f"attr:{name}"
        name_key = phrase_key(name.replace("_", " "))
        for value in values:
            key = phrase_key(value)
            if not key:
                continue
            self.building[name_key + key][kind].add(value)  # "waist 32"
            self.building[key + name_key][kind].add(value)  # "32 waist", "wide width"
            if _distinctive(key) and not set(key) <= category_words:
                self.building[key][kind].add(value)


def _distinctive(key: Key) -> bool:
    """Whether an option value can stand alone in a query: "merino", "24 L"; not "32", "Regular"."""
    words = [w for w in key if not w[0].isdigit()]
    if not words:
        return False
    if len(words) < len(key):  # a number with its unit
        return True
    return not set(key) <= GENERIC_VALUES and len(" ".join(key)) >= 3


def _split(key: Key, separator: str) -> list[Key]:
    parts: list[Key] = []
    current: list[str] = []
    for word in (*key, separator):
        if word == separator:
            if current:
                parts.append(tuple(current))
            current = []
        else:
            current.append(word)
    return parts


def _add(seen: dict[str, str], value: Any) -> None:
    text = " ".join(str(value or "").split())
    if text:
        seen.setdefault(fold(text), text)


def _sorted(seen: dict[str, str]) -> list[str]:
    return [seen[k] for k in sorted(seen)]
