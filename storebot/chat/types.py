"""The chat's vocabulary: what a turn carries in, and what an answer carries out.

Product cards are always built from catalog records, never from model output.

Example:
    >>> ChatRequest(store_id="demo", session_id="s1-abcdefgh", message="is it waterproof?").page_product_id is None
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

INTENTS = (
    "search",  # find products: "waterproof jacket under $150"
    "product_question",  # specs or reviews of a product: "is it waterproof?", "how does it fit?"
    "comparison",  # "compare the first two"
    "recommendation",  # "what goes with it?", "what do you recommend for winter camping?"
    "policy",  # shipping, returns, FAQ
    "greeting",  # "hi"
    "off_topic",  # anything unrelated to the store
    "human",  # "can I talk to a person?"
)


@dataclass
class ChatRequest:
    """One shopper message, with what the widget knows about the page."""

    store_id: str
    session_id: str
    message: str
    page_context: dict[str, Any] = field(default_factory=dict)  # {"product_id": "1001", "cart": ["1003"]}

    @property
    def page_product_id(self) -> str | None:
        value = self.page_context.get("product_id")
        return str(value) if value else None


@dataclass
class ProductCard:
    """A product as the widget shows it, straight from the catalog record."""

    id: str
    title: str
    brand: str = ""
    price: str | None = None
    sale_price: str | None = None
    currency: str = "USD"
    image: str = ""
    url: str = ""
    rating_avg: float | None = None
    rating_count: int = 0
    availability: str = "in_stock"
    matched_variant: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """A review passage the answer drew on."""

    review_id: str
    product_id: str
    rating: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChatResponse:
    """The answer to one turn."""

    session_id: str
    text: str
    intent: str
    message_id: str = ""  # the stored answer's id: what the widget sends back with a thumbs up or down
    cards: list[ProductCard] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    policy_sources: list[str] = field(default_factory=list)  # policy passage ids, e.g. "returns#0"
    suggestions: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)  # product ids the turn was about (resolved references)
    standalone_query: str = ""
    grounding: dict[str, Any] = field(default_factory=dict)  # {"ok": bool, "violations": [...], "action": ...}
    handoff: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # overhead_ms, first_token_ms, llm_ms, total_ms

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cards"] = [c.to_dict() for c in self.cards]
        data["citations"] = [c.to_dict() for c in self.citations]
        return data
