"""Sync job status (secret key)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from storebot.api.auth import current_store, require_secret_key, services

bp = Blueprint("jobs", __name__, url_prefix="/api/v1")


@bp.get("/jobs/<job_id>")
@require_secret_key
def get_job(job_id: str):  # type: ignore[no-untyped-def]
    return jsonify(services().jobs(current_store().id).get(job_id))


@bp.get("/jobs")
@require_secret_key
def list_jobs():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 100)
    jobs = services().jobs(current_store().id).recent(limit)
    for job in jobs:
        job.pop("errors", None)  # the list stays small; fetch one job for its errors
    return jsonify({"items": jobs})
