"""Merchant catalog API: feed uploads, reads and explicit deletes (secret key)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from storebot.api.auth import current_store, enqueue, require_secret_key, services
from storebot.catalog.ingest import accept_upload
from storebot.catalog.sync import delete_records
from storebot.errors import NotFound, StorebotError

bp = Blueprint("catalog", __name__, url_prefix="/api/v1")

MAX_PAGE = 200


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes", "on"}


def parse_mapping(raw: str) -> dict[str, str]:
    """``{"title": "Name"}`` as JSON, or ``title=Name,price=Variant Price``."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            mapping = json.loads(raw)
        except ValueError as exc:
            raise StorebotError(f"map is not valid JSON: {exc}.", fix='Send e.g. map={"title": "Name"}.') from exc
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise StorebotError("map must be an object of field -> column.", fix='Send e.g. map={"title": "Name"}.')
        return mapping
    pairs = {}
    for part in raw.split(","):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise StorebotError(f"map entry {part!r} is not field=column.", fix="Send e.g. map=title=Name,price=Cost.")
        pairs[field.strip()] = column.strip()
    return pairs


def _accept(kind: str) -> Any:
    store = current_store()
    # Only a multipart form has a `file` part. Any other body is the feed itself, whatever its Content-Type: curl's
    # --data-binary says form-urlencoded, and reading request.files would parse (and use up) the feed as a form.
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if upload is not None:
        stream, filename = upload.stream, upload.filename or ""
    else:
        stream, filename = request.stream, request.args.get("filename", "")
    options = {
        "full": _flag("full"),
        "mapping": parse_mapping(request.args.get("map", "")),
        "currency": request.args.get("currency", "USD").upper(),
        "base_url": request.args.get("base_url", ""),
    }
    svc = services()
    job_id = accept_upload(
        svc.jobs(store.id), svc.uploads(store.id), stream, kind=kind, filename=filename,
        fmt=request.args.get("format", "auto"), options=options,
    )  # fmt: skip
    enqueue("storebot.sync_catalog", store.id, job_id)
    job = svc.jobs(store.id).get(job_id)
    response = jsonify({"job": job, "links": {"self": url_for("jobs.get_job", job_id=job_id)}})
    response.status_code = 202
    response.headers["Location"] = url_for("jobs.get_job", job_id=job_id)
    return response


@bp.post("/catalog")
@require_secret_key
def upload_catalog():  # type: ignore[no-untyped-def]
    return _accept("products")


@bp.post("/reviews")
@require_secret_key
def upload_reviews():  # type: ignore[no-untyped-def]
    return _accept("reviews")


@bp.post("/policies")
@require_secret_key
def upload_policies():  # type: ignore[no-untyped-def]
    return _accept("policies")


def _page_args(default_limit: int = 50) -> tuple[int, int]:
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", default_limit))
    except ValueError as exc:
        raise StorebotError("offset and limit must be integers.", fix="Send e.g. ?offset=0&limit=50.") from exc
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise StorebotError(f"offset must be >= 0 and limit 1..{MAX_PAGE}.", fix="Send e.g. ?offset=0&limit=50.")
    return offset, limit


@bp.get("/products")
@require_secret_key
def list_products():  # type: ignore[no-untyped-def]
    offset, limit = _page_args()
    return jsonify(services().catalog(current_store().id).page("products", offset=offset, limit=limit))


@bp.get("/products/<product_id>")
@require_secret_key
def get_product(product_id: str):  # type: ignore[no-untyped-def]
    return jsonify(services().catalog(current_store().id).get_product(product_id).to_dict())


@bp.get("/products/<product_id>/reviews")
@require_secret_key
def product_reviews(product_id: str):  # type: ignore[no-untyped-def]
    offset, limit = _page_args(default_limit=MAX_PAGE)
    reviews = services().catalog(current_store().id).reviews_for(product_id)
    next_offset = offset + limit if offset + limit < len(reviews) else None
    return jsonify({"items": [r.to_dict() for r in reviews[offset : offset + limit]], "total": len(reviews),
                    "offset": offset, "limit": limit, "next_offset": next_offset})  # fmt: skip


@bp.get("/reviews")
@require_secret_key
def list_reviews():  # type: ignore[no-untyped-def]
    offset, limit = _page_args()
    return jsonify(services().catalog(current_store().id).page("reviews", offset=offset, limit=limit))


@bp.get("/policies")
@require_secret_key
def list_policies():  # type: ignore[no-untyped-def]
    policies = services().catalog(current_store().id).policies()
    return jsonify({"items": [p.to_dict() for p in policies]})


@bp.delete("/<any(products, reviews, policies):kind>/<item_id>")
@require_secret_key
def delete_one(kind: str, item_id: str):  # type: ignore[no-untyped-def]
    store = current_store()
    result = delete_records(services().redis, services().keys(store.id), kind, [item_id])
    if not result.deleted:
        raise NotFound(f"No {kind[:-1]} {item_id!r} in this store.", fix=f"List them with GET /api/v1/{kind}.")
    return jsonify({"deleted": result.deleted, "version": result.version})


@bp.post("/<any(products, reviews, policies):kind>/delete")
@require_secret_key
def delete_many(kind: str):  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        raise StorebotError('Send a JSON body {"ids": ["id1", "id2"]}.', fix="ids must be a non-empty list of strings.")
    if len(ids) > 10_000:
        raise StorebotError("At most 10,000 ids per request.", fix="Split the ids over several requests.")
    store = current_store()
    result = delete_records(services().redis, services().keys(store.id), kind, ids)
    return jsonify({"requested": len(set(ids)), "deleted": result.deleted, "version": result.version})
