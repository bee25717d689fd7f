"""OpenAPI entries of the merchant catalog API (storebot/api/catalog.py) and sync jobs (storebot/api/jobs.py)."""

from __future__ import annotations

from storebot.api.spec.components import (
    INTEGER,
    STRING,
    array,
    json_body,
    obj,
    operation,
    path,
    query,
    ref,
)

BINARY = {"type": "string", "contentMediaType": "application/octet-stream"}
KIND = path("kind", {"enum": ["products", "reviews", "policies"]}, "Which records.")
PAGE = [
    query("offset", {"type": "integer", "minimum": 0}, "First record, in id order."),
    query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Records per page (at most 200)."),
]
FEED_BODY = {
    "required": True,
    "description": "The feed: a multipart `file`, or the raw bytes (CSV, TSV, JSON, JSONL, Shopify, Google XML).",
    "content": {
        "multipart/form-data": {"schema": obj(("file",), file=BINARY)},
        "application/octet-stream": {"schema": BINARY},
    },
}  # fmt: skip
FEED_PARAMS = [
    query("format", {"enum": ["auto", "csv", "tsv", "json", "jsonl", "shopify", "google-xml", "google-tsv"]}),
    query("full", {"enum": ["true", "false"]}, "Also delete what the feed no longer has."),
    query("map", STRING, 'Column mapping: `title=Name,price=Cost` or JSON `{"title": "Name"}`.'),
    query("currency", {"type": "string", "pattern": "^[A-Za-z]{3}$"}),
    query("base_url", STRING),
    query("filename", STRING, "The feed's file name, for a raw body."),
]
JOB_ID = path("job_id")


def _upload(kind: str) -> dict:
    return operation(f"Upload a {kind} feed; a worker syncs it.", auth="secret", tag="catalog", params=FEED_PARAMS,
                     body=FEED_BODY, ok=ref("JobAccepted"), status=202)  # fmt: skip


PATHS = {
    "/api/v1/catalog": {"post": _upload("product")},
    "/api/v1/reviews": {
        "post": _upload("review"),
        "get": operation("Reviews, id-ordered.", auth="secret", tag="catalog", params=PAGE, ok=ref("Page")),
    },
    "/api/v1/policies": {
        "post": _upload("policy"),
        "get": operation("Every policy.", auth="secret", tag="catalog", ok=obj(("items",), items=array(ref("Policy")))),
    },
    "/api/v1/products": {
        "get": operation("Products, id-ordered, with rating aggregates.", auth="secret", tag="catalog", params=PAGE,
                         ok=ref("Page")),
    },
    "/api/v1/products/{product_id}": {
        "get": operation("One product.", auth="secret", tag="catalog", params=[path("product_id")], ok=ref("Product"),
                         errors=(404,)),
    },
    "/api/v1/products/{product_id}/reviews": {
        "get": operation("A product's reviews, newest first.", auth="secret", tag="catalog",
                         params=[path("product_id"), *PAGE],
                         ok=obj(("items", "total"), items=array(ref("Review")), total=INTEGER), errors=(404,)),
    },
    "/api/v1/{kind}/{item_id}": {
        "delete": operation("Delete one record.", auth="secret", tag="catalog", params=[KIND, path("item_id")],
                            ok=obj(("deleted",), deleted=INTEGER, version=INTEGER), errors=(404,)),
    },
    "/api/v1/{kind}/delete": {
        "post": operation("Delete many records.", auth="secret", tag="catalog", params=[KIND],
                          body=json_body(obj(("ids",), ids={"type": "array", "items": STRING, "minItems": 1,
                                                           "maxItems": 10_000})),
                          ok=obj(("requested", "deleted"), requested=INTEGER, deleted=INTEGER, version=INTEGER),
                          errors=(404,)),
    },
    "/api/v1/jobs": {
        "get": operation("Recent sync jobs (without their row errors).", auth="secret", tag="jobs",
                         params=[query("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
                         ok=obj(("items",), items=array(ref("Job")))),
    },
    "/api/v1/jobs/{job_id}": {
        "get": operation("One sync job: state, counts and row errors.", auth="secret", tag="jobs", params=[JOB_ID],
                         ok=ref("Job"), errors=(404,)),
    },
    "/api/v1/jobs/{job_id}/errors.csv": {
        "get": operation("A job's row errors as CSV.", auth="secret", tag="jobs", params=[JOB_ID],
                         ok={"type": "string"}, media_type="text/csv", errors=(404,)),
    },
}  # fmt: skip
