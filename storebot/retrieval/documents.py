"""What gets indexed: the text of a product, a review passage, a policy passage.

A product's text leads with what shoppers search for (title, brand, category,
key attributes, variant options) and ends with the description, cut so the
whole fits the embedding model's window (256 word pieces for MiniLM; words
are a safe proxy at about 1.3 pieces each).

Example:
    >>> p = Product(id="1", title="Ridge Shell", brand="Alder", category=["Apparel", "Jackets"],
    ...             attributes={"waterproof_rating": "20000 mm", "hood": "yes", "insulated": "no"},
    ...             description="A light shell.")
    >>> product_text(p)
    'Ridge Shell. Alder. Apparel > Jackets. waterproof rating: 20000 mm. hood. not insulated. A light shell.'
    >>> product_fields(p)["attributes"]
    'waterproof rating: 20000 mm. hood'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from storebot.catalog.models import Policy, Product, Review
from storebot.retrieval.normalize import phrase_key

MAX_WORDS = 180  # ~240 word pieces: inside MiniLM's 256 with room for the header
PASSAGE_WORDS = 120


_FLAG = re.compile(r"\s*(yes|true|no|false)\s*(?:$|[,;:(-]\s*(.*?)\)?\s*$)", re.IGNORECASE)
_NOT_FEATURE = re.compile(r"\b(?:not|non)[\s-]+([a-z][a-z-]+)", re.IGNORECASE)  # "water-resistant, not waterproof"


def flag(value: object) -> tuple[bool, str] | None:
    """A yes/no attribute value as (yes, detail): ``"yes, TrailSeal membrane"`` -> ``(True, "TrailSeal membrane")``,
    ``"no"`` -> ``(False, "")``; None for any other value."""
    m = _FLAG.fullmatch(str(value))
    return (m.group(1).lower() in ("yes", "true"), (m.group(2) or "").strip()) if m else None


def _attributes(product: Product, *, for_keywords: bool = False) -> str:
    """The attributes as text. A yes/no one reads as its name ("insulated", "packable (stuffs into its own pocket)")
    or its negation ("not insulated"), and a "no" is left out of the keyword text, where "insulated: no" would match
    a search for insulated."""
    parts = []
    for key, value in product.attributes.items():
        if not value:
            continue
        name, answer = key.replace("_", " "), flag(value)
        if answer is None:
            parts.append(f"{name}: {value}")
        elif answer[0]:
            parts.append(f"{name} ({answer[1]})" if answer[1] else name)
        elif not for_keywords:
            parts.append(f"not {name}")
    return ". ".join(parts)


_NEGATIONS = frozenset({"non", "not", "no", "without"})


@lru_cache(maxsize=4096)
def _key(text: str) -> tuple[str, ...]:
    return phrase_key(text)


def _features(product: Product) -> Iterator[tuple[tuple[str, ...], bool]]:
    """The yes/no features the product states: ``(feature words, has it)``, from yes/no attributes, from "not X"
    in any attribute ("water-resistant, not waterproof") and from ratings ("waterproof_rating: 10,000 mm")."""
    for key, value in product.attributes.items():
        answer = flag(value)
        if answer is not None:
            yield _key(key.replace("_", " ")), answer[0]
            continue
        denied = [m.group(1).lower() for m in _NOT_FEATURE.finditer(str(value))]
        for word in denied:
            yield _key(word), False
        if key.endswith("_rating") and not denied:  # "waterproof_rating: 10,000 mm" states the feature
            yield _key(key.removesuffix("_rating").replace("_", " ")), True


def _asked(text: str, feature: tuple[str, ...]) -> bool | None:
    """True if ``text`` asks for ``feature``, False if for its absence ("non-insulated"), None if it does not say."""
    asked = _key(text)
    for at in range(len(asked) - len(feature) + 1):
        if feature and asked[at : at + len(feature)] == feature:
            return not _NEGATIONS & set(asked[max(at - 2, 0) : at])  # "non-insulated", "without a hood"
    return None


def contradicts(product: Product, text: str) -> bool:
    """Whether ``text`` asks for a feature ``product`` says it lacks ("insulated bottle" against
    ``insulated: no``), or asks for the absence of one it has ("non-insulated bottle" against ``insulated: yes``).

    Example:
        >>> tritan = Product(id="b", title="Trail Bottle", attributes={"insulated": "no"})
        >>> contradicts(tritan, "insulated water bottle"), contradicts(tritan, "non-insulated bottle")
        (True, False)
        >>> contradicts(Product(id="k", title="Keeper", attributes={"insulated": "yes"}), "bottle without insulated")
        True
        >>> vest = Product(id="v", title="Vest", attributes={"water_resistance": "water-resistant, not waterproof"})
        >>> contradicts(vest, "cheapest waterproof jacket"), affirms(vest, "cheapest waterproof jacket")
        (True, False)
    """
    return any((wanted := _asked(text, feature)) is not None and wanted != has for feature, has in _features(product))


def affirms(product: Product, text: str) -> bool:
    """Whether ``product`` states it has a feature ``text`` asks for ("waterproof: yes, TrailSeal membrane")."""
    return any(has and _asked(text, feature) is True for feature, has in _features(product))


def _options(product: Product) -> str:
    values: dict[str, list[str]] = {}
    for variant in product.variants:
        for name, value in variant.options.items():
            seen = values.setdefault(name, [])
            if value and value not in seen:
                seen.append(value)
    return ". ".join(f"{name}: {', '.join(vals)}" for name, vals in values.items())


def clip_words(text: str, limit: int) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit])


def product_text(product: Product, max_words: int = MAX_WORDS) -> str:
    """The product's full text for the embedding model, within its window."""
    head = [product.title, product.brand, " > ".join(product.category), _attributes(product), _options(product)]
    header = ". ".join(part for part in head if part)
    room = max(max_words - len(header.split()), 0)
    description = clip_words(product.description, room) if room else ""
    return f"{header}. {description}".strip() if description else header + "."


def product_fields(product: Product) -> dict[str, str]:
    """The product's text by field, for field-weighted keyword search."""
    return {
        "title": product.title,
        "brand": product.brand,
        "category": " ".join(product.category),
        "attributes": " ".join(
            filter(None, (_attributes(product, for_keywords=True), _options(product), " ".join(product.tags)))
        ),
        "description": product.description,
    }


def review_passage(review: Review) -> str:
    body = clip_words(review.body, PASSAGE_WORDS)
    return f"{review.title}. {body}".strip(". ") if review.title else body


def policy_passages(policy: Policy, words: int = PASSAGE_WORDS) -> Iterator[tuple[str, str]]:
    """Split a policy into passages of about ``words`` words on paragraph bounds: (passage id, text)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", policy.body) if p.strip()]
    chunk: list[str] = []
    count, index = 0, 0
    for paragraph in paragraphs:
        size = len(paragraph.split())
        if chunk and count + size > words:
            yield f"{policy.id}#{index}", f"{policy.title}: " + "\n".join(chunk)
            chunk, count, index = [], 0, index + 1
        chunk.append(paragraph)
        count += size
    if chunk:
        yield f"{policy.id}#{index}", f"{policy.title}: " + "\n".join(chunk)


def title_text(product: Product) -> str:
    """The short text of the title vector: what the product is called and who makes it."""
    return f"{product.title}. {product.brand}".rstrip(". ") if product.brand else product.title


PRODUCT_VECTOR_FIELDS: dict[str, Callable[[Product], str]] = {"text": product_text, "title": title_text}
"""The vector fields of a product, by the signal names the hybrid ranker weighs."""
