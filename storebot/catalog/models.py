"""The catalog's records: products with variants, reviews and policies.

Records are plain dataclasses. They serialise to JSON-ready dicts with
:meth:`to_dict`, read back with :meth:`from_dict`, and carry a stable
:meth:`content_hash` so that a sync can tell an unchanged record from a
changed one without comparing every field by hand.

Money is held as :class:`decimal.Decimal` and written as a string with two
decimals (``"129.00"``), as Shopify and Google Merchant feeds do, so that no
price ever passes through a float.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any, ClassVar

AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")


def money_to_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def money_from(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


@dataclass
class Variant:
    """One purchasable option of a product: a size, a colour, or both.

    Example:
        >>> Variant(id="JKT-1-M-BLU", options={"size": "M", "color": "Blue"},
        ...         price=Decimal("129.00"), stock=4).availability
        'in_stock'
    """

    id: str
    sku: str = ""
    title: str = ""
    options: dict[str, str] = field(default_factory=dict)
    price: Decimal | None = None
    sale_price: Decimal | None = None
    stock: int | None = None
    availability: str = ""
    image: str = ""

    def __post_init__(self) -> None:
        if not self.availability:
            self.availability = "out_of_stock" if self.stock == 0 else "in_stock"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "title": self.title,
            "options": dict(self.options),
            "price": money_to_str(self.price),
            "sale_price": money_to_str(self.sale_price),
            "stock": self.stock,
            "availability": self.availability,
            "image": self.image,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["price"] = money_from(values.get("price"))
        values["sale_price"] = money_from(values.get("sale_price"))
        return cls(**values)


@dataclass
class Product:
    """A catalog product as storebot stores it, whatever feed it came from.

    ``description`` is plain text (what retrieval and the chat read);
    ``description_html`` keeps the feed's HTML, sanitised, for display.

    Example:
        >>> p = Product(id="jkt-1", title="Ridge Shell Jacket", price=Decimal("149"),
        ...             currency="USD", category=["Apparel", "Jackets"])
        >>> p.to_dict()["price"]
        '149.00'
        >>> p.content_hash() == Product.from_dict(p.to_dict()).content_hash()
        True
    """

    kind: ClassVar[str] = "product"

    id: str
    title: str
    description: str = ""
    description_html: str = ""
    brand: str = ""
    category: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    price: Decimal | None = None
    sale_price: Decimal | None = None
    currency: str = "USD"
    availability: str = ""
    stock: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    url: str = ""
    rating_avg: float | None = None
    rating_count: int = 0
    variants: list[Variant] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stock is None and self.variants:
            stocks = [v.stock for v in self.variants if v.stock is not None]
            if stocks:
                self.stock = sum(stocks)
        if not self.availability:
            if self.variants:
                in_stock = any(v.availability == "in_stock" for v in self.variants)
                self.availability = "in_stock" if in_stock else "out_of_stock"
            else:
                self.availability = "out_of_stock" if self.stock == 0 else "in_stock"

    @property
    def effective_price(self) -> Decimal | None:
        """What the shopper pays now: the sale price when there is one."""
        return self.sale_price if self.sale_price is not None else self.price

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: sync calls this per row and asdict deep-copies.
        data = {f: getattr(self, f) for f in _SCALAR_PRODUCT_FIELDS}
        data["category"] = list(self.category)
        data["tags"] = list(self.tags)
        data["attributes"] = dict(self.attributes)
        data["images"] = list(self.images)
        data["price"] = money_to_str(self.price)
        data["sale_price"] = money_to_str(self.sale_price)
        data["variants"] = [v.to_dict() for v in self.variants]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Product:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["price"] = money_from(values.get("price"))
        values["sale_price"] = money_from(values.get("sale_price"))
        values["variants"] = [Variant.from_dict(v) for v in values.get("variants") or []]
        return cls(**values)

    def content_hash(self) -> str:
        return content_hash(self.to_dict())


_SCALAR_PRODUCT_FIELDS = (
    "id", "title", "description", "description_html", "brand", "currency", "availability", "stock", "url",
    "rating_avg", "rating_count",
)  # fmt: skip


@dataclass
class Review:
    """A shopper's review of one product.

    Example:
        >>> Review(id="r1", product_id="jkt-1", rating=4, body="Runs small.").to_dict()["rating"]
        4
    """

    kind: ClassVar[str] = "review"

    id: str
    product_id: str
    rating: int
    title: str = ""
    body: str = ""
    author: str = ""
    date: str = ""  # ISO 8601 date, "2026-03-14"
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def content_hash(self) -> str:
        return content_hash(self.to_dict())


@dataclass
class Policy:
    """Store policy text the assistant answers from: shipping, returns, FAQ.

    Example:
        >>> Policy(id="returns", title="Returns", body="30 days, unworn.").kind
        'policy'
    """

    kind: ClassVar[str] = "policy"

    id: str  # "shipping", "returns", "faq" or the merchant's own slug
    title: str
    body: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def content_hash(self) -> str:
        return content_hash(self.to_dict())


Record = Product | Review | Policy


def content_hash(data: dict[str, Any]) -> str:
    """A stable digest of a record's JSON form (keys sorted, no whitespace)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=16).hexdigest()
