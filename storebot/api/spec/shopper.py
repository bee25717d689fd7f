"""OpenAPI entries of the shopper API: search (storebot/api/search.py) and chat (storebot/api/chat.py)."""

from __future__ import annotations

from storebot.api.spec.components import (
    ANY_OBJECT,
    BOOLEAN,
    INTEGER,
    SESSION_ID,
    STRING,
    array,
    json_body,
    nullable,
    obj,
    operation,
    path,
    query,
    ref,
)

SESSION = path("session_id", SESSION_ID, "The chat session.")
SEARCH_PARAMS = [
    query("q", {"type": "string", "maxLength": 500}, 'The query; filters are parsed from it ("under $150").'),
    query("limit", {"type": "integer", "minimum": 1, "maximum": 50}),
    query(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 119},
        "Where the page starts: the previous page's next_offset. offset + limit is at most 120.",
    ),
    query("price_min", {"type": "string", "pattern": "^[0-9]{1,7}(\\.[0-9]{1,2})?$"}),
    query("price_max", {"type": "string", "pattern": "^[0-9]{1,7}(\\.[0-9]{1,2})?$"}),
    query("color", STRING),
    query("size", STRING),
    query("brand", STRING),
    query("category", STRING),
    query("in_stock", {"enum": ["true", "false"]}),
    query("on_sale", {"enum": ["true", "false"]}, "true: only items whose sale price is below the regular price."),
]
SSE = obj(
    ("data",),
    event={"enum": ["products", "sources", "token", "suggestions", "done", "error"]},
    data={"type": "string", "contentMediaType": "application/json"},
    id=STRING,
)
SSE["description"] = (
    "One server-sent event: products, sources, token..., suggestions, then done (or error). `sources` is "
    '{"reviews": [{"review_id", "product_id", "rating", "text"}], "policies": ["returns#0"], '
    '"policy_titles": {"returns#0": "Returns & Exchanges"}}: what the answer is based on.'
)
SOURCES = obj(
    ("reviews", "policies"),
    reviews=array(
        obj(("review_id", "product_id"), review_id=STRING, product_id=STRING, rating=nullable(INTEGER), text=STRING)
    ),
    policies=array(STRING),
    policy_titles={"type": "object", "additionalProperties": STRING},
)
HISTORY_MESSAGE = obj(
    ("role", "text"),
    id=nullable(STRING),
    role={"enum": ["shopper", "assistant"]},
    text=STRING,
    cards=array(ANY_OBJECT),
    sources=SOURCES,
)
HISTORY = obj(("session_id", "messages"), session_id=STRING, messages=array(HISTORY_MESSAGE), focus=array(STRING))
HISTORY_NOTE = (
    "An answer carries `cards` (rebuilt from the catalog now: today's price and stock; a product deleted since "
    "is left out) and `sources` (the shape of the stream's `sources` event). Answers stored before these were "
    "kept have `text` only."
)
SESSION_HEADER = {"X-Storebot-Session": {"description": "The chat session id.", "schema": STRING}}
LIST_LIMIT = [query("limit", {"type": "integer", "minimum": 1, "maximum": 200})]

PATHS = {
    "/api/v1/search": {
        "get": operation("Hybrid product search with commerce filters.", auth="publishable", tag="shopper",
                         params=SEARCH_PARAMS, ok=ref("SearchResult")),
    },
    "/api/v1/products/{product_id}/review-passages": {
        "get": operation("The reviews of a product that best answer a question.", auth="publishable", tag="shopper",
                         params=[path("product_id"), query("q", {"type": "string", "maxLength": 500}),
                                 query("limit", {"type": "integer", "minimum": 1, "maximum": 50})],
                         ok=obj(("product_id", "items"), product_id=STRING, query=STRING, items=array(ANY_OBJECT)),
                         errors=(404,)),
    },
    "/api/v1/chat": {
        "post": operation("Answer a shopper's message.", auth="publishable", tag="chat",
                          body=json_body(ref("ChatRequest")), ok=ref("ChatResponse"), errors=(404,)),
    },
    "/api/v1/chat/stream": {
        "post": operation("The same answer as server-sent events.", auth="publishable", tag="chat",
                          body=json_body(ref("ChatRequest")), ok=SSE, media_type="text/event-stream",
                          headers=SESSION_HEADER, errors=(404,),
                          description="At most CHAT_MAX_STREAMS streams per session at once (429 beyond)."),
    },
    "/api/v1/chat/{session_id}/history": {
        "get": operation("A conversation's messages.", auth="publishable", tag="chat", params=[SESSION],
                         ok=HISTORY, errors=(404,), description=HISTORY_NOTE),
    },
    "/api/v1/chat/{session_id}": {
        "delete": operation("Forget a conversation.", auth="publishable", tag="chat", params=[SESSION],
                            ok=obj(("deleted", "session_id"), deleted=BOOLEAN, session_id=STRING)),
    },
    "/api/v1/chat/{session_id}/feedback": {
        "post": operation("Rate an answer.", auth="publishable", tag="chat", params=[SESSION], status=201,
                          body=json_body(obj(("rating",), rating={"enum": ["up", "down"]},
                                             comment={"type": "string", "maxLength": 1000},
                                             turn={"type": ["string", "integer"]})),
                          ok=ANY_OBJECT, errors=(404,)),
    },
    "/api/v1/handoffs": {
        "get": operation("Shoppers' requests for a person.", auth="secret", tag="chat", params=LIST_LIMIT,
                         ok=ref("Items")),
    },
    "/api/v1/feedback": {
        "get": operation("Shoppers' ratings with the answers they rated.", auth="secret", tag="chat",
                         params=LIST_LIMIT, ok=ref("Items")),
    },
}  # fmt: skip
