"""A small hand-written outdoor catalog for retrieval tests (fast to embed)."""

from __future__ import annotations

import io
import json


def variant(pid: str, size: str, color: str, price: str, stock: int = 5, sale: str | None = None) -> dict:  # type: ignore[type-arg]
    return {"id": f"{pid}-{size}-{color}".replace(" ", ""), "options": {"size": size, "color": color},
            "price": price, "sale_price": sale, "stock": stock}  # fmt: skip


PRODUCTS = [
    {
        "id": "rain-1",
        "title": "Ridge Shell Rain Jacket",
        "brand": "Alder",
        "category": ["Apparel", "Jackets", "Rain Jackets"],
        "description": "A waterproof, breathable shell with taped seams for wet hikes.",
        "price": "139.00",
        "attributes": {"waterproof_rating": "20000 mm"},
        "variants": [
            variant("rain-1", "S", "Slate Blue", "139.00"),
            variant("rain-1", "M", "Slate Blue", "139.00"),
            variant("rain-1", "M", "Moss", "139.00", stock=0),
        ],
    },
    {
        "id": "rain-2",
        "title": "Tempest Pro Rain Jacket",
        "brand": "Ridgeline",
        "category": ["Apparel", "Jackets", "Rain Jackets"],
        "description": "Three-layer waterproof jacket for storms.",
        "price": "349.00",
        "variants": [variant("rain-2", "M", "Black", "349.00"), variant("rain-2", "L", "Black", "349.00")],
    },
    {
        "id": "down-1",
        "title": "Emberline Down Jacket",
        "brand": "Alder",
        "category": ["Apparel", "Jackets", "Insulated Jackets"],
        "description": "Warm 800-fill down jacket for cold winter days.",
        "price": "229.00",
        "variants": [variant("down-1", "M", "Rust", "229.00"), variant("down-1", "L", "Rust", "229.00")],
    },
    {
        "id": "tent-1",
        "title": "Stillwater 2 Backpacking Tent",
        "brand": "Cairn",
        "category": ["Gear", "Tents"],
        "description": "A light two-person tent that pitches in minutes.",
        "price": "299.00",
    },
    {
        "id": "tent-2",
        "title": "Basecamp 6 Family Tent",
        "brand": "Cairn",
        "category": ["Gear", "Tents"],
        "description": "Roomy cabin tent for car camping with the family.",
        "price": "279.00",
    },
    {
        "id": "lamp-1",
        "title": "Trail 250 Headlamp",
        "brand": "Lumen",
        "category": ["Gear", "Headlamps"],
        "description": "A 250-lumen rechargeable headlamp.",
        "price": "24.95",
    },
    {
        "id": "shoe-1",
        "title": "Pathfinder Trail Running Shoes",
        "brand": "Ridgeline",
        "category": ["Footwear", "Trail Runners"],
        "description": "Grippy, cushioned trail runners.",
        "price": "129.00",
        "variants": [
            variant("shoe-1", "9", "Black", "129.00"),
            variant("shoe-1", "10", "Slate Blue", "129.00", sale="99.00"),
        ],
    },
    {
        "id": "bottle-1",
        "title": "Insulated Water Bottle 1L",
        "brand": "Cairn",
        "category": ["Gear", "Bottles"],
        "description": "Keeps water cold for a day.",
        "price": "32.00",
    },
]

REVIEWS = [
    {"id": "rv1", "product_id": "rain-1", "rating": 2, "body": "Runs small, size up. Tight across the shoulders."},
    {"id": "rv2", "product_id": "rain-1", "rating": 5, "body": "Stayed dry in a downpour on the ridge."},
    {"id": "rv3", "product_id": "down-1", "rating": 4, "body": "Very warm, but the fit is a little boxy."},
    {"id": "rv4", "product_id": "tent-1", "rating": 5, "body": "Pitches in five minutes, light enough for a week out."},
]

POLICIES = [{"id": "returns", "title": "Returns", "body": "Return unworn items within 30 days for a full refund."}]


def jsonl(records: list[dict]) -> io.BytesIO:  # type: ignore[type-arg]
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())
