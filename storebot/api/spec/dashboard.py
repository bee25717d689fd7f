"""OpenAPI entries of the merchant APIs behind the dashboard: conversations (storebot/api/conversations.py), and the
index status and merchant search (storebot/api/search_index.py)."""

from __future__ import annotations

from storebot.api.spec.components import (
    ANY_OBJECT,
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    array,
    nullable,
    obj,
    operation,
    query,
    ref,
)
from storebot.api.spec.shopper import SEARCH_PARAMS, SESSION, SOURCES

CARD = obj(
    ("id", "title"),
    id=STRING,
    title=STRING,
    price=nullable(STRING),
    sale_price=nullable(STRING),
    currency=STRING,
    image=STRING,
    url=STRING,
    availability=STRING,
    matched_variant=nullable(ANY_OBJECT),
)
SUMMARY = obj(
    ("session_id", "turns", "messages"),
    session_id=STRING,
    updated_at=nullable(NUMBER),
    turns=INTEGER,
    messages=INTEGER,
    first_question=STRING,
    last_message=STRING,
    match=STRING,
)
MESSAGE = obj(
    ("role", "text"),
    id=nullable(STRING),
    role={"enum": ["shopper", "assistant", "system"]},
    text=STRING,
    cards=array(CARD),
    feedback=array(obj(("rating",), rating={"enum": ["up", "down"]}, comment=STRING, created_at=NUMBER)),
    sources=SOURCES,
)
TRANSCRIPT_NOTE = (
    "An answer carries `cards` (rebuilt from the catalog now), the shopper's `feedback`, and `sources`: the reviews "
    "(id, product, rating, a short quote) and policy passages (with their policies' titles) it was based on, the "
    "shape of the chat stream's `sources` event. Answers stored before sources were kept have no `sources`."
)

PATHS = {
    "/api/v1/conversations": {
        "get": operation(
            "The store's chat sessions, most recently active first; `q` keeps those whose messages contain it.",
            auth="secret", tag="conversations",
            params=[query("q", {"type": "string", "maxLength": 200}),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    query("cursor", {"type": "integer", "minimum": 0}, "next_cursor of the previous page.")],
            ok=obj(("items", "next_cursor"), items=array(SUMMARY), next_cursor=nullable(INTEGER), total=INTEGER,
                   truncated=BOOLEAN),
            description="Bounded: the newest 5,000 sessions are considered, and a search reads at most 500 "
                        "conversations per request before answering with a cursor to continue from."),
    },
    "/api/v1/conversations/{session_id}": {
        "get": operation("One transcript: messages with each answer's product cards, sources and feedback; handoffs.",
                         auth="secret", tag="conversations", params=[SESSION], errors=(404,),
                         ok=obj(("session_id", "messages"), session_id=STRING, updated_at=nullable(NUMBER),
                                turns=INTEGER, page_context=ANY_OBJECT, focus=array(CARD), messages=array(MESSAGE),
                                handoffs=array(ANY_OBJECT)),
                         description=TRANSCRIPT_NOTE),
    },
    "/api/v1/index": {
        "get": operation("The published search index: version, size on disk, counts, changes waiting.",
                         auth="secret", tag="catalog",
                         ok=obj(("version", "size_bytes"), version=INTEGER, created_at=nullable(NUMBER),
                                model_id=nullable(STRING), dimension=nullable(INTEGER), counts=ANY_OBJECT,
                                size_bytes=INTEGER, files=INTEGER, catalog=ANY_OBJECT, pending_changes=ANY_OBJECT)),
    },
    "/api/v1/index/search": {
        "get": operation("Search as a shopper would, with the secret key: scores, signals and applied filters.",
                         auth="secret", tag="catalog", params=SEARCH_PARAMS, ok=ref("SearchResult")),
    },
}  # fmt: skip
