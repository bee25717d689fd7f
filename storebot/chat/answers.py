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
from collections.abc import Sequence
from typing import Any

from storebot.catalog.models import Product, Variant
from storebot.chat.cards import availability_label, option_labels, price_label
from storebot.chat.claims import sentence_spans
from storebot.chat.prompts import SYNONYMS, relevant_attributes
from storebot.retrieval.normalize import fold

MAX_LISTED = 5
MAX_QUOTE_WORDS = 25

GREETING = ("Hi! I can help you find products, compare them, and answer questions about sizing, shipping "
            "and returns. What are you looking for?")  # fmt: skip
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
# Question words -> words reviewers use for the same thing (stemmed).
_RELATED = {
    "fit": ("size", "small", "large", "snug", "tight", "loose", "run", "sizing"), "size": ("small", "large", "run"),
    "warm": ("cold", "warmth", "toasty"), "waterproof": ("dry", "rain", "wet", "leak"), "comfortable": ("comfort",),
}  # fmt: skip


def deterministic_answer(intent: str, question: str, products: Sequence[tuple[Product, Variant | None]],
                         reviews: Sequence[Any], policies: Sequence[Any]) -> str:  # fmt: skip
    """A short, correct answer for ``intent`` from the records only (see the module docstring)."""
    if intent == "greeting":
        return GREETING
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
    return _listing(intent, products)


def _listing(intent: str, products: Sequence[tuple[Product, Variant | None]]) -> str:
    if not products:
        return NOT_FOUND
    shown = [_item(p, v) for p, v in products[:MAX_LISTED]]
    if intent == "recommendation":
        return f"You might like: {'; '.join(shown)}."
    noun = "option" if len(shown) == 1 else "options"
    verb = "is" if len(shown) == 1 else "are"
    return f"Here {verb} {len(shown)} {noun}: {'; '.join(shown)}."


def _item(product: Product, variant: Variant | None) -> str:
    facts = [_price(product, variant), availability_label(product, variant)]
    matched = ", ".join(f"{k} {v}" for k, v in variant.options.items()) if variant is not None else ""
    title = f"{product.title} in {matched}" if matched else product.title
    return f"{title} ({', '.join(f for f in facts if f)})"


def _price(product: Product, variant: Variant | None) -> str:
    return price_label(product, variant).replace(" (on sale, was ", ", on sale from ").rstrip(")")


def _product(question: str, products: Sequence[tuple[Product, Variant | None]], reviews: Sequence[Any]) -> str:
    if not products:
        return NO_PRODUCT
    product, variant = products[0]
    own = [r for r in reviews if str((r.metadata or {}).get("product_id", "")) == product.id]
    parts: list[str] = []
    if _PRICE_Q.search(question):
        parts.append(f"The {product.title} is {_price(product, variant)} and {availability_label(product, variant)}.")
    elif _STOCK_Q.search(question):
        parts.append(_stock(product, variant))
    attributes = _asked_attributes(product, question)
    if attributes:
        details = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in attributes)
        parts.append(f"The {product.title} has {details}.")
    if _REVIEW_Q.search(question) and own:
        parts.append(summarize_reviews(own, question=question))
    if not parts:
        sentence = _best_sentences(product.description, question, 1, need_match=True)
        if sentence:
            parts.append(f"From the {product.title} description: {sentence}")
    return " ".join(parts) or f"I couldn't find that in the product details of the {product.title}."


def _stock(product: Product, variant: Variant | None) -> str:
    if variant is not None and variant.options:
        matched = ", ".join(f"{k} {v}" for k, v in variant.options.items())
        return f"The {product.title} in {matched} is {availability_label(product, variant)}."
    options = option_labels(product)
    listed = "; ".join(f"{k}: {v}" for k, v in options.items())
    state = availability_label(product)
    return f"The {product.title} is {state}" + (f" ({listed})." if listed and state == "in stock" else ".")


def _asked_attributes(product: Product, question: str) -> list[tuple[str, str]]:
    words = _words(question)
    ranked = relevant_attributes(product, question)
    return [(k, v) for k, v in ranked[:3] if words & (_words(k.replace("_", " ") + " " + v) | _synonyms(k))]


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
    if not policies:
        return NO_POLICY
    text = " ".join(p.text for p in policies[:2])
    answer = _best_sentences(text, question, 2) or NO_POLICY
    # Each passage starts with its policy's title ("Returns & Exchanges: ..."): say it once.
    for title in dict.fromkeys(t.split(": ", 1)[0] for t in (p.text for p in policies[:2]) if ": " in t):
        head, found, rest = answer.partition(f"{title}: ")
        if found:
            answer = head + found + rest.replace(f" {title}: ", " ")
    return answer


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
