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


@bp.get("/jobs/<job_id>/errors.csv")
@require_secret_key
def job_errors_csv(job_id: str):  # type: ignore[no-untyped-def]
    """The job's row errors as CSV (the dashboard's download); cells a spreadsheet would run are defused."""
    import csv
    import io

    from flask import Response

    job = services().jobs(current_store().id).get(job_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "line", "field", "record_id", "message"])
    for error in job["errors"]:
        row = [error.get("unit", "line"), error.get("line"), error.get("field") or "", error.get("record_id") or "",
               error.get("message", "")]  # fmt: skip
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="sync-{job_id[:12]}-errors.csv"'
    return response
