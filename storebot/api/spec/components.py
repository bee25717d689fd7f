"""Shared pieces of the OpenAPI document, and :func:`operation`, which keeps each route's entry short.

Example:
    >>> op = operation("One product.", auth="secret", params=[path("product_id")], ok=ref("Product"), errors=(404,))
    >>> sorted(op["responses"])
    ['200', '400', '401', '403', '404', '429', '503']
"""

from __future__ import annotations

from typing import Any

from storebot.chat.memory import SESSION_ID_RE

Schema = dict[str, Any]

SECURITY_SCHEMES: Schema = {
    "secretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The store's secret key (`sk_...`): merchant endpoints only. Never put it in a web page.",
    },
    "publishableKey": {
        "type": "apiKey",
        "in": "query",
        "name": "key",
        "description": "The store's publishable key (`pk_...`): shopper endpoints, from the store's origins.",
    },
    "publishableKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Storebot-Key",
                             "description": "The publishable key as a header instead of `?key=`."},
}  # fmt: skip

SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "secret": [{"secretKey": []}],
    "publishable": [{"publishableKey": []}, {"publishableKeyHeader": []}],
    "either": [{"secretKey": []}, {"publishableKey": []}, {"publishableKeyHeader": []}],
}

ERROR_DESCRIPTIONS = {
    400: "The request is malformed; `error.fix` says how to correct it.",
    401: "No key, or an unknown key.",
    403: "The wrong kind of key for this endpoint, or an Origin the store does not allow.",
    404: "No such record.",
    409: "The request conflicts with the current state.",
    413: "The body is over its limit (STOREBOT_MAX_UPLOAD_MB, MAX_JSON_KB or CHAT_MAX_BODY_KB).",
    429: "A rate limit or the concurrent-stream limit was hit; retry after `Retry-After` seconds.",
    503: "Redis, the search index or the model is not available yet.",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    """An object schema; extra properties are allowed so that adding a field never breaks a client."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


STRING: Schema = {"type": "string"}
SESSION_ID: Schema = {"type": "string", "pattern": SESSION_ID_RE.pattern}  # the chat's own check
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}
ID: Schema = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._~-]*$"}


def path(name: str, schema: Schema | None = None, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "path", "required": True, "schema": schema or ID}
    if description:
        param["description"] = description
    return param


def query(name: str, schema: Schema | None = None, description: str = "", required: bool = False) -> Schema:
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema or STRING}
    if description:
        param["description"] = description
    return param


def json_body(schema: Schema, description: str = "", required: bool = True) -> Schema:
    return {"required": required, "description": description, "content": {"application/json": {"schema": schema}}}


def operation(
    summary: str,
    *,
    auth: str | None,
    tag: str = "",
    params: list[Schema] | tuple[Schema, ...] = (),
    body: Schema | None = None,
    ok: Schema | None = None,
    status: int = 200,
    also: tuple[int, ...] = (),
    media_type: str = "application/json",
    errors: tuple[int, ...] = (),
    headers: Schema | None = None,
    description: str = "",
) -> Schema:
    """One operation: its parameters and body, the success response, and every error it can answer.

    Args:
        auth: "secret", "publishable", "either" or None (no key).
        ok: the success body's schema (``media_type``), or None for a body-less answer.
        also: other success statuses with the same body (e.g. 200 beside 201 when nothing was created).
        errors: statuses besides the ones every keyed endpoint can give (400, 401, 403, 429, 503).
    """
    success: Schema = {"description": "Success."}
    if ok is not None:
        success["content"] = {media_type: {"schema": ok}}
    if headers:
        success["headers"] = headers
    responses: dict[str, Schema] = {str(code): success for code in sorted({status, *also})}
    statuses = set(errors) | {400, 429, 503}
    if auth:
        statuses |= {401, 403}
    if body is not None:
        statuses.add(413)
    for code in sorted(statuses):
        name = "TooManyRequests" if code == 429 else "Error"
        responses[str(code)] = {"$ref": f"#/components/responses/{name}{code if code != 429 else ''}"}
    op: Schema = {"summary": summary, "responses": responses}
    if description:
        op["description"] = description
    if tag:
        op["tags"] = [tag]
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    op["security"] = SECURITY[auth] if auth else []
    return op


ERROR: Schema = obj(
    ("error",),
    error=obj(("code", "message"), code=STRING, message=STRING, fix=STRING, details={}),
)

SCHEMAS: dict[str, Schema] = {
    "Error": ERROR,
    "Variant": obj(("id",), id=STRING, sku=nullable(STRING), options=ANY_OBJECT),
    "Product": obj(("id", "title"), id=STRING, title=STRING, price=nullable(STRING), currency=nullable(STRING),
                   variants=array(ANY_OBJECT), rating_avg=nullable(NUMBER), rating_count=nullable(INTEGER)),
    "Review": obj(("id", "product_id"), id=STRING, product_id=STRING, rating=nullable(INTEGER), body=nullable(STRING)),
    "Policy": obj(("id",), id=STRING, title=nullable(STRING), body=nullable(STRING)),
    "Page": obj(("items", "total", "offset", "limit", "next_offset"), items=array(ANY_OBJECT), total=INTEGER,
                offset=INTEGER, limit=INTEGER, next_offset=nullable(INTEGER)),
    "Job": obj(("id", "state", "counts"), id=STRING, store=STRING, kind=STRING, format=STRING,
               state={"enum": ["queued", "running", "succeeded", "failed"]}, counts=ANY_OBJECT,
               created_at=NUMBER, updated_at=NUMBER, errors=array(ANY_OBJECT), error_total=INTEGER),
    "JobAccepted": obj(("job", "links"), job=ref("Job"), links=obj(("self",), self=STRING)),
    "SearchHit": obj(("id", "title", "score"), id=STRING, title=STRING, price=nullable(STRING), score=NUMBER,
                     matched_variant=nullable(ANY_OBJECT), highlights=array(ANY_OBJECT)),
    "SearchResult": obj(("items",), query=STRING, filters_applied=ANY_OBJECT, relaxed=array(STRING),
                        offset=INTEGER, next_offset=nullable(INTEGER), items=array(ref("SearchHit")),
                        unmatched_words=array(STRING), corrected_query=nullable(STRING),
                        corrections={"type": "object", "additionalProperties": STRING}),
    "ChatResponse": obj(("session_id", "text", "intent"), session_id=STRING, text=STRING, intent=STRING,
                        message_id=STRING, cards=array(ANY_OBJECT), citations=array(ANY_OBJECT),
                        policy_sources=array(STRING), suggestions=array(STRING), focus=array(STRING),
                        grounding=ANY_OBJECT, handoff=BOOLEAN, timings=ANY_OBJECT),
    "ChatRequest": {**obj(("message",), message={"type": "string", "minLength": 1, "maxLength": 2000},
                          session_id=SESSION_ID,
                          page_context=obj(product_id=nullable(STRING),
                                           cart={"type": "array", "items": STRING, "maxItems": 50}))},
    "Items": obj(("items",), items=array(ANY_OBJECT)),
}  # fmt: skip

RETRY_AFTER: Schema = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}

RESPONSES: dict[str, Schema] = {
    f"Error{code}": {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
    for code, text in ERROR_DESCRIPTIONS.items()
    if code != 429
}
RESPONSES["TooManyRequests"] = {
    "description": ERROR_DESCRIPTIONS[429],
    "headers": RETRY_AFTER,
    "content": {"application/json": {"schema": ref("Error")}},
}
