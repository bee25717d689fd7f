"""Answers built from records alone, by template: the fallback when the model's answer is not grounded.

Every fact in these answers is copied from a record (title, price, stock,
attribute value, review sentence, policy sentence), so they pass
:func:`storebot.chat.grounding.check_answer` by construction.

Example:
    >>> from decimal import Decimal
    >>> from storebot.catalog.models import Product
    >>> p = Product(id="1001", title="Ridge Shell Rain Jacket", price=Decimal("139"))
    >>> deterministic_answer("search", "rain jacket", [(p, None)], [], [])
    'Here is 1 option: Ridge Shell Rain Jacket ($139, in stock).'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.cards import availability_label, price_label
from storebot.chat.claims import sentence_spans
from storebot.chat.features import describe_attributes, is_plural
from storebot.chat.prompts import SYNONYMS, relevant_attributes
from storebot.chat.variant_answers import option_values, options_overview, variant_answer
from storebot.retrieval.filters import Filters
from storebot.retrieval.normalize import fold, option_name
from storebot.retrieval.query import parse_query
from storebot.retrieval.vocabulary import CatalogVocabulary

MAX_LISTED = 5
MAX_QUOTE_WORDS = 25

GREETING = ("Hi! I can help you find products, compare them, and answer questions about sizing, shipping "
            "and returns. What are you looking for?")  # fmt: skip
FAREWELL = "You're welcome! Come back any time if you have another question."
# Thanks or goodbye rather than hello: "thanks, that's all!", "cheers, bye", "no thanks, I'm good".
_FAREWELL = re.compile(r"\b(?:thanks?|thank you|thx|ty|cheers|bye|goodbye|see you|that's all|that is all|nothing "
                       r"else|all good|i'm good|im good|no thanks)\b", re.IGNORECASE)  # fmt: skip
OFF_TOPIC = ("Sorry, I can only help with shopping here: finding and comparing products, and questions about "
             "shipping and returns. What can I help you find?")  # fmt: skip
HUMAN = ("Of course. I've noted that you'd like to talk to a person, and someone from our team will follow up "
         "with you here.")  # fmt: skip
NOT_FOUND = "I couldn't find any products matching that. Try fewer details or different words."
NO_PRODUCT = "I couldn't tell which product you mean. Could you name it, or search for it first?"
NO_POLICY = "I couldn't find that in our store policies. Ask for a person and someone from our team can help."
NO_REVIEWS = "I couldn't find reviews that mention that."

_REVIEW_Q = re.compile(r"\b(?:reviews?|reviewers?|people say|customers?|buyers?|opinions?|runs? (?:small|large|big)|"
                       r"true to size|fit|fits|sizing|comfortable|quality)\b", re.I)  # fmt: skip
_PRICE_Q = re.compile(r"\b(?:price|cost|costs|how much|expensive|cheap|sale|discount|deal)\b", re.I)
_STOCK_Q = re.compile(r"\b(?:stock|available|availability|sizes?|colou?rs?|in [A-Z]{1,3}\b)", re.I)
_STOP = {
    "the", "a", "an", "is", "it", "its", "this", "that", "does", "do", "did", "can", "could", "will", "would",
    "should", "how", "what", "which", "who", "whose", "when", "where", "why", "are", "was", "were", "be", "been",
    "has", "have", "had", "with", "for", "from", "of", "to", "in", "on", "at", "by", "and", "or", "but", "not",
    "any", "some", "about", "there", "their", "they", "them", "you", "your", "me", "my", "i", "we", "our", "us",
    "tell", "say", "says", "said", "much", "many", "more", "most", "very", "really", "just"
}  # fmt: skip
# Question words (stemmed) -> attribute keys that answer them: "warm enough for winter?" is the season and insulation.
_ASPECTS = {
    "warm": ("season", "insulat", "temperature", "warmth"), "winter": ("season", "insulat", "temperature", "warmth"),
    "cold": ("season", "insulat", "temperature", "warmth"), "snow": ("season",), "summer": ("season",),
    "season": ("season",),
}  # fmt: skip
_ASPECT_Q = re.compile(r"\b(?:good|ok|okay|suitable|enough) (?:in|for)\b", re.I)
_WARMTH_Q = re.compile(r"\b(?:warm|warmth|cold|winter|insulated)\b", re.I)
_WARMTH_KEYS = ("insulat", "temperature", "warmth")
# Question words -> words reviewers use for the same thing (stemmed).
_RELATED = {
    "fit": ("size", "small", "large", "snug", "tight", "loose", "run", "sizing"), "size": ("small", "large", "run"),
    "warm": ("cold", "warmth", "toasty"), "waterproof": ("dry", "rain", "wet", "leak"), "comfortable": ("comfort",),
}  # fmt: skip


def deterministic_answer(intent: str, question: str, products: Sequence[tuple[Product, Variant | None]],
                         reviews: Sequence[Any], policies: Sequence[Any], *,
                         matched: Mapping[str, Mapping[str, str]] | None = None) -> str:  # fmt: skip
    """A short, correct answer for ``intent`` from the records only (see the module docstring).

    ``matched`` maps a listed product's id to the constraints its search hit matched (``SearchHit.matched``):
    a listing names a variant's size or colour only when the shopper asked for it. Without it, the question says.
    """
    if intent == "greeting":
        return FAREWELL if _FAREWELL.search(question) else GREETING
    if intent == "off_topic":
        return OFF_TOPIC
    if intent == "human":
        return HUMAN
    if intent == "policy":
        return _policy(question, policies)
    if intent == "comparison":
        return _comparison(question, products) if len(products) >= 2 else _product(question, products, reviews)
    if intent == "product_question":
        return _product(question, products, reviews)
    return _listing(intent, question, products, matched)


def _listing(intent: str, question: str, products: Sequence[tuple[Product, Variant | None]],
             matched: Mapping[str, Mapping[str, str]] | None) -> str:  # fmt: skip
    if not products:
        return NOT_FOUND
    listed = list(products[:MAX_LISTED])
    asked = parse_query(question, CatalogVocabulary.from_products(p for p, _ in listed)).filters
    shown = [_item(p, v, _asked_options(p, v, asked, matched)) for p, v in listed]
    if len(shown) == 1:
        title, _, facts = shown[0].partition(": ")
        lead = "You might like" if intent == "recommendation" else "Here is 1 option"
        return f"{lead}: {title} ({facts})."
    lead = "You might like these" if intent == "recommendation" else f"Here are {len(shown)} options"
    return f"{lead}:\n" + "\n".join(f"- {item}" for item in shown)


def _asked_options(product: Product, variant: Variant | None, asked: Filters,
                   matched: Mapping[str, Mapping[str, str]] | None) -> list[str]:  # fmt: skip
    """The variant's option values the shopper asked for ("M", "Midnight Navy"): only those are worth naming."""
    if variant is None:
        return []
    named = []
    for key, value in variant.options.items():
        name = option_name(key)
        if matched is not None:
            wanted = name in (matched.get(product.id) or {})
        else:
            wanted = str(value) in (asked.sizes if name == "size" else asked.colors if name == "color" else [])
        if wanted:
            named.append(str(value))
    return named


def _item(product: Product, variant: Variant | None, named: list[str]) -> str:
    """ "Drizzle Packable Rain Jacket in M: $69, in stock", or with no option asked for, "...: $69, in stock,
    3 colours" (the card's variant was picked for the shopper, not by them)."""
    shown = variant if named else None
    facts = [_price(product, shown), availability_label(product, variant)]
    colours = option_values(product, "color")
    if not named and len(colours) > 1:
        facts.append(f"{len(colours)} colours")
    title = f"{product.title} in {', '.join(named)}" if named else product.title
    return f"{title}: {', '.join(f for f in facts if f)}"


def _price(product: Product, variant: Variant | None) -> str:
    return price_label(product, variant).replace(" (on sale, was ", ", on sale from ").rstrip(")")


def _product(question: str, products: Sequence[tuple[Product, Variant | None]], reviews: Sequence[Any]) -> str:
    if not products:
        return NO_PRODUCT
    product, variant = products[0]
    own = [r for r in reviews if str((r.metadata or {}).get("product_id", "")) == product.id]
    parts: list[str] = []
    review_question = bool(_REVIEW_Q.search(question))
    options = None if review_question and not _STOCK_Q.search(question) else variant_answer(product, question)
    if _PRICE_Q.search(question):
        be = "are" if is_plural(product.title) else "is"
        price = price_label(product, variant).replace(" (on sale, was ", " (on sale from ")
        parts.append(f"The {product.title} {be} {price} and {availability_label(product, variant)}.")
    if options:  # after a price sentence, "Yes: the X is in stock in L" needs no "Yes"
        parts.append("T" + options[len("Yes: t") :] if parts and options.startswith("Yes: the ") else options)
    elif _STOCK_Q.search(question) and not _PRICE_Q.search(question):
        parts.append(options_overview(product) or _stock(product))
    skip = _option_words(product) | _words(product.title) if options else set()
    attributes = _asked_attributes(product, question, skip=skip)
    if attributes:
        parts.append(describe_attributes(product.title, attributes))
        parts += _warmth_gap(product, question, attributes)
    if review_question and own:
        parts.append(summarize_reviews(own, question=question))
    if (not parts or (attributes and _ASPECT_Q.search(question))) and not options:
        asked = " ".join(w for w in re.findall(r"[\w'-]+", question) if _stem(w.lower()) not in _words(product.title))
        sentence = _best_sentences(product.description, asked, 1, need_match=True)
        sentence = re.sub(r"^[-*•]\s+", "", sentence)  # a bullet of the description's list
        if sentence and sentence not in " ".join(parts):
            end = "" if sentence.endswith((".", "!", "?", "...")) else "."
            parts.append(f"From the {product.title} description: {sentence}{end}")
    return " ".join(parts) or f"I couldn't find that in the product details of the {product.title}."


def _stock(product: Product) -> str:
    be = "are" if is_plural(product.title) else "is"
    return f"The {product.title} {be} {availability_label(product)}."


def _asked_attributes(product: Product, question: str, *, skip: set[str] | None = None) -> list[tuple[str, str]]:
    words = _words(question) - (skip or set())
    aspects = {a for w in words for a in _ASPECTS.get(w, ())}
    ranked = relevant_attributes(product, question)

    def asked(key: str, value: str) -> bool:
        return bool(words & (_words(key.replace("_", " ") + " " + value) | _synonyms(key))) or any(
            a in key for a in aspects
        )

    return [(k, v) for k, v in ranked if asked(k, v)][:3]


def _warmth_gap(product: Product, question: str, attributes: list[tuple[str, str]]) -> list[str]:
    """ "Warm enough for winter?" about a product whose specs list no insulation: say so, not nothing."""
    if not _WARMTH_Q.search(question) or any(k.startswith(_WARMTH_KEYS) for k in product.attributes):
        return []
    they = "They're not" if is_plural(product.title) else "It's not"
    their = "their" if is_plural(product.title) else "its"
    return [f"{they} listed as insulated: {their} specs name no insulation or temperature rating."]


def _option_words(product: Product) -> set[str]:
    """Stemmed words of a product's colours and sizes, and the words that ask for them."""
    values = " ".join(option_values(product, "color") + option_values(product, "size"))
    return _words(values) | {"come", "colour", "color", "size", "available", "stock", "blue", "grey", "large",
                             "medium", "small", "navy"}  # fmt: skip


def _synonyms(key: str) -> set[str]:
    return {w for w, keys in SYNONYMS.items() if any(k in key for k in keys)}


def _comparison(question: str, products: Sequence[tuple[Product, Variant | None]]) -> str:
    compared = list(products[:3])
    titles = " vs ".join(p.title for p, _ in compared)
    rows = ["price: " + " vs ".join(_price(p, v) or "no price" for p, v in compared)]
    states = [availability_label(p, v) for p, v in compared]
    if len(set(states)) > 1:
        rows.append("stock: " + " vs ".join(states))
    shared = [
        k for k, _ in relevant_attributes(compared[0][0], question) if all(k in p.attributes for p, _ in compared)
    ]
    differing = [k for k in shared if len({p.attributes[k] for p, _ in compared}) > 1]
    for key in (differing + [k for k in shared if k not in differing])[:4]:
        rows.append(f"{key.replace('_', ' ')}: " + " vs ".join(p.attributes[key] for p, _ in compared))
    return f"{titles}. " + ". ".join(r[0].upper() + r[1:] for r in rows) + "."


def _policy(question: str, policies: Sequence[Any]) -> str:
    from storebot.chat.policy_answers import policy_answer  # imported here: it reuses this module's NO_POLICY

    return policy_answer(question, policies)


def summarize_reviews(passages: Sequence[Any], *, question: str = "") -> str:
    """What reviewers say, quoted from the top passages with their star ratings (a sentence several reviews share
    is quoted once: the next review is quoted by another of its sentences)."""
    quotes: list[str] = []
    seen: set[str] = set()
    for passage in passages[:3]:
        sentences = (passage.text[s:e].strip() for s, e in sentence_spans(passage.text))
        unquoted = " ".join(x for x in sentences if fold(x) not in seen)
        sentence = _best_sentences(unquoted, question, 1, min_words=4)
        if not sentence:
            continue
        seen.add(fold(sentence))
        rating = (passage.metadata or {}).get("rating")
        quotes.append(f'"{sentence}"' + (f" (rated {int(rating)}/5)" if rating is not None else ""))
    if not quotes:
        return NO_REVIEWS
    return "Reviewers mention: " + "; ".join(quotes) + "."


def _best_sentences(text: str, question: str, count: int, *, min_words: int = 1, need_match: bool = False) -> str:
    """The ``count`` sentences of ``text`` sharing most words with ``question``, in their original order."""
    sentences = [text[s:e].strip() for s, e in sentence_spans(text) if len(text[s:e].split()) >= min_words]
    if not sentences:
        return ""
    asked = _words(question)
    asked |= {x for w in asked for x in _RELATED.get(w, ())}
    bags = [_words(s) for s in sentences]
    # Rarer shared words weigh more: "canada" beats "shipping" in a shipping policy.
    scored = [(sum(1 / sum(w in b for b in bags) for w in asked & bag), i) for i, bag in enumerate(bags)]
    best = [t for t in sorted(scored, key=lambda t: (-t[0], t[1]))[:count] if t[0] > 0]
    if not best:
        return "" if need_match else " ".join(_clip(s) for s in sentences[:count])
    return " ".join(_clip(sentences[i]) for _, i in sorted(best, key=lambda t: t[1]))


def _clip(sentence: str) -> str:
    parts = sentence.split()
    if len(parts) <= MAX_QUOTE_WORDS:
        return sentence
    return " ".join(parts[:MAX_QUOTE_WORDS]).rstrip(",;:") + " ..."


def _words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def _stem(word: str) -> str:
    """A crude stem, enough to match "shipping" with "ship" and "returns" with "return"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl" else word
