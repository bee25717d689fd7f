"""What an answer shows beside its text, built from catalog records only: cards, citations, follow-ups.

Nothing here reads model output. A card's price, stock and title come from the
product (or the variant that matched the search), so a card can never carry a
price the catalog does not have.

Example:
    >>> from decimal import Decimal
    >>> from storebot.catalog.models import Product
    >>> p = Product(id="1001", title="Ridge Shell Rain Jacket", price=Decimal("139"),
    ...             attributes={"waterproof_rating": "20,000 mm"})
    >>> card_from_product(p).price, price_label(p), availability_label(p)
    ('139.00', '$139', 'in stock')
    >>> suggestions_for("search", [p], query="rain jacket")[0]
    'Is the first one waterproof?'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storebot.catalog.models import Product, Variant, money_to_str
from storebot.chat.amounts import format_money
from storebot.chat.types import Citation, ProductCard

AVAILABILITY_LABELS = {"in_stock": "in stock", "out_of_stock": "out of stock", "preorder": "available for preorder",
                       "backorder": "on backorder"}  # fmt: skip

# Attribute keys -> a follow-up about them, and the query words that mean it was already asked.
_ASK: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("waterproof_rating", "waterproof", "water_resistance"), "Is {it} waterproof?", ("waterproof", "water")),
    (("temperature_rating", "temperature_comfort", "warmth"), "How warm is {it}?", ("warm", "cold", "winter", "°")),
    (("weight", "packed_weight"), "How much does {it} weigh?", ("weigh", "light", "heavy", "ultralight")),
    (("capacity",), "What's the capacity of {it}?", ("capacity", "liter", "litre", "person", "people")),
    (("max_output",), "How bright is {it}?", ("bright", "lumen")),
    (("r_value",), "What's the R-value of {it}?", ("r-value", "r value", "warm")),
    (("fill_power",), "What's the fill power of {it}?", ("fill",)),
    (("materials", "upper"), "What is {it} made of?", ("material", "made of", "fabric", "merino", "wool")),
)
_COMPARE = (
    ("weight", "Which one is lighter?"),
    ("temperature_rating", "Which one is warmer?"),
    ("waterproof_rating", "Which one is more waterproof?"),
    ("capacity", "Which one holds more?"),
    ("max_output", "Which one is brighter?"),
)
_SHIPPING = ("ship", "deliver", "postage", "arrive", "tracking")
_RETURNS = ("return", "refund", "exchange")


def card_from_product(product: Product, variant: Variant | None = None) -> ProductCard:
    """The card of ``product``, with ``variant``'s price, stock and image when a variant matched."""
    use_variant = variant is not None and variant.price is not None
    return ProductCard(
        id=product.id,
        title=product.title,
        brand=product.brand,
        price=money_to_str(variant.price if use_variant and variant else product.price),
        sale_price=money_to_str(variant.sale_price if use_variant and variant else product.sale_price),
        currency=product.currency,
        image=(variant.image if variant and variant.image else "") or (product.images[0] if product.images else ""),
        url=product.url,
        rating_avg=product.rating_avg,
        rating_count=product.rating_count,
        availability=variant.availability if variant is not None else product.availability,
        matched_variant=variant.to_dict() if variant is not None else None,
    )


def shown_card(products: Mapping[str, Product], product_id: Any, variant_id: Any = None) -> dict[str, Any] | None:
    """The card (as a dict) of a product an answer showed, from its record in ``products`` now; None if deleted.

    Stored answers keep only product and variant ids; the dashboard's transcripts and a restored conversation
    rebuild their cards with this, so they show today's price and stock.
    """
    product = products.get(str(product_id))
    if product is None:
        return None
    variant = next((v for v in product.variants if v.id == variant_id), None) if variant_id else None
    return card_from_product(product, variant).to_dict()


def card_from_hit(hit: Any) -> ProductCard:
    """The card of a :class:`~storebot.retrieval.search.SearchHit` (its product and matched variant)."""
    return card_from_product(hit.product, hit.variant)


def citations_from(passages: Sequence[Any]) -> list[Citation]:
    """Citations for the review passages among ``passages`` (policy passages are skipped), once each."""
    seen: set[str] = set()
    citations = []
    for passage in passages:
        meta = passage.metadata or {}
        if "product_id" not in meta or passage.id in seen:
            continue
        seen.add(passage.id)
        rating = meta.get("rating")
        citations.append(Citation(passage.id, str(meta["product_id"]), int(rating) if rating is not None else None,
                                  passage.text))  # fmt: skip
    return citations


def price_label(product: Product, variant: Variant | None = None) -> str:
    """What the shopper pays, as written in answers: "$139", "$239 (on sale, was $349)" or "$89-$115"."""
    currency = product.currency
    if variant is not None and variant.price is not None:
        return _sale_label(variant.price, variant.sale_price, currency)
    prices = {(v.price, v.sale_price) for v in product.variants if v.price is not None}
    if len(prices) > 1:
        paid = sorted(s if s is not None else p for p, s in prices)
        return f"{format_money(paid[0], currency)}-{format_money(paid[-1], currency)}"
    if product.price is None and prices:
        regular, sale = prices.pop()
        return _sale_label(regular, sale, currency)
    if product.price is None:
        return ""
    return _sale_label(product.price, product.sale_price, currency)


def _sale_label(price: Any, sale: Any, currency: str) -> str:
    if sale is not None and sale < price:
        return f"{format_money(sale, currency)} (on sale, was {format_money(price, currency)})"
    return format_money(price, currency)


def availability_label(product: Product, variant: Variant | None = None) -> str:
    state = variant.availability if variant is not None else product.availability
    return AVAILABILITY_LABELS.get(state, state.replace("_", " "))


def option_labels(product: Product) -> dict[str, str]:
    """Each option's values, the ones with no stock marked: {"size": "S, M, L (out of stock: XL)"}."""
    labels = {}
    names = list(dict.fromkeys(name for v in product.variants for name in v.options))
    for name in names:
        values: dict[str, bool] = {}
        for v in product.variants:
            if name in v.options:
                value = v.options[name]
                values[value] = values.get(value, False) or v.availability == "in_stock"
        if len(values) < 2 and all(values.values()):
            continue
        label = ", ".join(k for k, ok in values.items() if ok) or "none in stock"
        out = [k for k, ok in values.items() if not ok]
        labels[name] = label + (f" (out of stock: {', '.join(out)})" if out and any(values.values()) else "")
    return labels


def _items(products: Sequence[Any]) -> list[Product]:
    items = []
    for item in products:
        if isinstance(item, tuple):
            item = item[0]
        items.append(getattr(item, "product", item))
    return items


def suggestions_for(intent: str, products: Sequence[Any], *, query: str) -> list[str]:
    """Two or three short follow-ups for the shopper, from the products shown and their attributes.

    ``products`` may hold Products, (Product, Variant) pairs or search hits.
    """
    items = _items(products)
    q = query.lower()
    if intent in ("search", "recommendation"):
        return _after_search(items, q)
    if intent == "product_question":
        return _after_question(items, q)
    if intent == "comparison":
        return _after_comparison(items, q)
    if intent == "policy":
        if any(w in q for w in _SHIPPING):
            return ["What's your return policy?", "How long does delivery take?"]
        if any(w in q for w in _RETURNS):
            return ["How do exchanges work?", "How much is shipping?"]
        return ["What's your return policy?", "How much is shipping?"]
    if intent == "greeting":
        if items:
            return [f"Tell me about the {items[0].title}", "What's your return policy?"]
        return ["Help me find a gift", "What's on sale?", "What's your return policy?"]
    if intent == "off_topic":
        return ["Help me find a gift", "What's your return policy?"]
    return ["What's your return policy?", "How much is shipping?"]


def _attribute_question(product: Product, q: str, it: str, skip: int = 0) -> list[str]:
    found = []
    for keys, template, topic in _ASK:
        if any(k in product.attributes for k in keys) and not any(t in q for t in topic):
            found.append(template.format(it=it))
    return found[skip:]


def _review_question(product: Product, it: str) -> str | None:
    if not product.rating_count:
        return None
    wearable = (
        "fit" in product.attributes
        or "sizing" in product.attributes
        or any("size" in v.options for v in product.variants)
    )
    return "What do reviewers say about the fit?" if wearable else f"What do reviewers say about {it}?"


def _after_search(items: list[Product], q: str) -> list[str]:
    if not items:
        return ["Show me what's popular", "What's your return policy?"]
    first = items[0]
    picks = _attribute_question(first, q, "the first one")[:1]
    if any(p.effective_price is not None for p in items) and not any(w in q for w in ("cheap", "budget", "lowest")):
        picks.append("Show me cheaper options")
    review = _review_question(first, "the first one")
    if review:
        picks.append(review)
    if len(items) >= 2 and len(picks) < 3:
        picks.append("Compare the first two")
    return picks[:3]


def _after_question(items: list[Product], q: str) -> list[str]:
    if not items:
        return ["Show me what's popular", "Can I talk to a person?"]
    product = items[0]
    picks = _attribute_question(product, q, "it")[:2]
    review = _review_question(product, "it")
    if review and "review" not in q:
        picks.append(review)
    if len(picks) < 2:
        picks.append("What goes with it?")
    return picks[:3]


def _after_comparison(items: list[Product], q: str) -> list[str]:
    picks = [ask for key, ask in _COMPARE if len(items) >= 2 and all(key in p.attributes for p in items[:2])]
    picks = [p for p in picks if p.lower().rstrip("?").split()[-1] not in q][:2]
    if items and items[0].rating_count:
        picks.append("What do reviewers say about the first one?")
    if len(picks) < 2:
        picks.append("Show me cheaper options")
    return picks[:3]
