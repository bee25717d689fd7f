"""Style fine-tuning API (secret key): the example queue, the dataset, runs, and the model registry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from storebot.api.auth import current_store, enqueue, require_secret_key, services
from storebot.errors import StorebotError
from storebot.tuning.pipeline import dataset_for, models_for, queue_for, runs_for, start_run, token_limit

bp = Blueprint("tuning", __name__, url_prefix="/api/v1")


def _queue() -> Any:
    return queue_for(services(), current_store().id)


def _models() -> Any:
    return models_for(services(), current_store().id)


@bp.get("/tuning/examples")
@require_secret_key
def list_examples():  # type: ignore[no-untyped-def]
    queue = _queue()
    queue.sync_feedback()  # thumbs-up answers enter the queue as pending
    limit = request.args.get("limit", 50, type=int) or 50
    page = queue.page(request.args.get("status", "pending"), limit=limit, cursor=request.args.get("cursor"))
    return jsonify(page.to_dict())


@bp.post("/tuning/examples")
@require_secret_key
def upload_examples():  # type: ignore[no-untyped-def]
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None  # see api/catalog.py
    data = upload.read() if upload is not None else request.get_data()
    if not data.strip():
        raise StorebotError(
            "The upload is empty.",
            fix='Send JSONL: one {"messages": [...]} or '
            '{"question": "...", "answer": "..."} per line, as a multipart `file` or the raw body.',
        )
    svc = services()
    result = _queue().import_jsonl(data, limit=token_limit(svc.settings, str(svc.settings["TUNING_BACKEND"])))
    return jsonify(result), 201 if result["added"] else 200


@bp.post("/tuning/examples/<example_id>/approve")
@require_secret_key
def approve_example(example_id: str):  # type: ignore[no-untyped-def]
    return jsonify(_queue().approve(example_id))


@bp.post("/tuning/examples/<example_id>/reject")
@require_secret_key
def reject_example(example_id: str):  # type: ignore[no-untyped-def]
    return jsonify(_queue().reject(example_id))


@bp.put("/tuning/examples/<example_id>")
@require_secret_key
def edit_example(example_id: str):  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise StorebotError('Send {"answer": "the reply you want"}.', fix="Set Content-Type: application/json.")
    answer = body.get("answer")
    if answer is None and isinstance(body.get("messages"), list) and body["messages"]:
        answer = (body["messages"][-1] or {}).get("content")
    return jsonify(_queue().edit(example_id, answer))


@bp.get("/tuning/dataset")
@require_secret_key
def dataset():  # type: ignore[no-untyped-def]
    svc, store = services(), current_store()
    queue = queue_for(svc, store.id)
    queue.sync_feedback()
    summary = dataset_for(svc, store.id).summary()
    return jsonify({"approved": queue.counts()["approved"], "backend": svc.settings["TUNING_BACKEND"], **summary})


@bp.post("/tuning/runs")
@require_secret_key
def create_run():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    backend = str(body.get("backend") or "") if isinstance(body, dict) else ""
    svc, store = services(), current_store()
    run_id = start_run(svc, store.id, trigger="manual", backend=backend)
    enqueue("storebot.tuning_run", store.id, run_id)
    run = runs_for(svc, store.id).get(run_id)
    return jsonify({"run": run, "links": {"self": f"/api/v1/tuning/runs/{run_id}"}}), 202


@bp.get("/tuning/runs")
@require_secret_key
def list_runs():  # type: ignore[no-untyped-def]
    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 100)
    return jsonify({"items": runs_for(services(), current_store().id).recent(limit)})


@bp.get("/tuning/runs/<run_id>")
@require_secret_key
def get_run(run_id: str):  # type: ignore[no-untyped-def]
    return jsonify(runs_for(services(), current_store().id).get(run_id))


@bp.get("/models")
@require_secret_key
def list_models():  # type: ignore[no-untyped-def]
    return jsonify(_models().listing())


@bp.post("/models/<version>/promote")
@require_secret_key
def promote_model(version: str):  # type: ignore[no-untyped-def]
    return jsonify(_models().promote(version))


@bp.post("/models/rollback")
@require_secret_key
def rollback_model():  # type: ignore[no-untyped-def]
    return jsonify(_models().rollback())
