"""OpenAPI entries of shopper events (storebot/api/events.py) and recommendations (storebot/api/recommendations.py)."""

from __future__ import annotations

from storebot.api.spec.components import (
    ANY_OBJECT,
    INTEGER,
    SESSION_ID,
    STRING,
    array,
    json_body,
    obj,
    operation,
    path,
    query,
)

EVENT = obj(
    ("type", "product_id"),
    type={"enum": ["view", "add_to_cart", "purchase"]},
    product_id=STRING,
    variant_id=STRING,
    session_id=SESSION_ID,
)
EVENTS_BODY = json_body(
    {"anyOf": [EVENT, obj(("events",), events={"type": "array", "items": EVENT, "minItems": 1, "maxItems": 100})]},
    'One event, or {"events": [...]} (at most 100).',
)
RECOMMENDATIONS = obj(
    ("kind", "items", "source", "computed_at"),
    kind=STRING,
    items=array(ANY_OBJECT),
    source=STRING,
    computed_at=STRING,
    product_id=STRING,
    session_id=STRING,
    note=STRING,
)
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": 50})

PATHS = {
    "/api/v1/events": {
        "post": operation(
            "Record shopper events (views, add-to-carts, purchases).",
            auth="publishable",
            tag="insights",
            body=EVENTS_BODY,
            status=202,
            ok=obj(("accepted", "rejected"), accepted=INTEGER,
                   rejected=array(obj(("index", "error"), index=INTEGER, error=STRING))),
        ),
    },
    "/api/v1/products/{product_id}/recommendations": {
        "get": operation(
            "Products like this one, or that go with it.",
            auth="either",
            tag="insights",
            params=[path("product_id"), query("kind", {"enum": ["similar", "complementary"]}), LIMIT],
            ok=RECOMMENDATIONS,
            errors=(404,),
        ),
    },
    "/api/v1/recommendations": {
        "get": operation(
            "For one shopper's session (kind=personal) or the whole store (kind=trending).",
            auth="either",
            tag="insights",
            params=[
                query("kind", {"enum": ["personal", "trending"]}),
                query("session", SESSION_ID),
                LIMIT,
            ],
            ok=RECOMMENDATIONS,
        ),
    },
}  # fmt: skip
