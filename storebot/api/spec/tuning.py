"""OpenAPI entries of the style fine-tuning API (storebot/api/tuning.py): examples, dataset, runs, models."""

from __future__ import annotations

from storebot.api.spec.components import (
    ANY_OBJECT,
    INTEGER,
    NUMBER,
    STRING,
    array,
    json_body,
    nullable,
    obj,
    operation,
    path,
    query,
)

MESSAGE = obj(("role", "content"), role={"enum": ["system", "user", "assistant"]}, content=STRING)
EXAMPLE = obj(
    ("id", "source", "messages", "status", "created_at"),
    id=STRING,
    source={"enum": ["feedback", "edited", "style"]},
    messages=array(MESSAGE),
    status={"enum": ["pending", "approved", "rejected"]},
    created_at=NUMBER,
    session_id=STRING,
)
RUN = obj(
    ("id", "state", "progress"),
    id=STRING,
    state={"enum": ["queued", "running", "succeeded", "failed", "skipped"]},
    trigger=STRING,
    backend=STRING,
    stage=STRING,
    progress=NUMBER,
    message=STRING,
    version=nullable(STRING),
    metrics=nullable(ANY_OBJECT),
    decision=nullable(ANY_OBJECT),
    dataset=nullable(ANY_OBJECT),
    created_at=NUMBER,
    updated_at=NUMBER,
)
MODEL = obj(
    ("version", "backend", "status"),
    version=STRING,
    backend=STRING,
    base_model=STRING,
    model=STRING,
    adapter=STRING,
    base_url=STRING,
    status={"enum": ["candidate", "active", "rejected", "retired"]},
    data_hash=STRING,
    hyperparameters=ANY_OBJECT,
    metrics=ANY_OBJECT,
    created_at=NUMBER,
)
EXAMPLE_ID = path("example_id")
JSONL_BODY = {
    "required": True,
    "description": 'JSONL, one {"messages": [...]} or {"question", "answer"} per line, '
    "as a multipart `file` or the raw body.",
    "content": {
        "multipart/form-data": {
            "schema": obj(("file",), file={"type": "string", "contentMediaType": "application/octet-stream"})
        },
        "application/octet-stream": {"schema": {"type": "string"}},
    },
}
TAG = "tuning"

PATHS = {
    "/api/v1/tuning/examples": {
        "get": operation(
            "Training examples of one status, newest first (thumbs-up answers join as pending).",
            auth="secret",
            tag=TAG,
            params=[
                query("status", {"enum": ["pending", "approved", "rejected"]}),
                query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                query("cursor", STRING, "next_cursor of the previous page."),
            ],
            ok=obj(("items", "next_cursor"), items=array(EXAMPLE), next_cursor=nullable(STRING)),
        ),
        "post": operation(
            "Upload style examples (JSONL); bad lines are reported, good lines kept as approved.",
            auth="secret",
            tag=TAG,
            body=JSONL_BODY,
            status=201,
            also=(200,),  # 200 when no line was added
            errors=(413,),
            ok=obj(
                ("added", "errors"),
                added=INTEGER,
                duplicates=INTEGER,
                errors=array(obj(("line", "reason"), line=INTEGER, reason=STRING)),
            ),
        ),
    },
    "/api/v1/tuning/examples/{example_id}": {
        "put": operation(
            "Edit the assistant's answer; the example becomes `edited` and approved.",
            auth="secret",
            tag=TAG,
            params=[EXAMPLE_ID],
            body=json_body(obj(("answer",), answer=STRING)),
            ok=EXAMPLE,
            errors=(404,),
        ),
    },
    "/api/v1/tuning/examples/{example_id}/approve": {
        "post": operation(
            "Approve an example for training.", auth="secret", tag=TAG, params=[EXAMPLE_ID], ok=EXAMPLE, errors=(404,)
        ),
    },
    "/api/v1/tuning/examples/{example_id}/reject": {
        "post": operation("Reject an example.", auth="secret", tag=TAG, params=[EXAMPLE_ID], ok=EXAMPLE, errors=(404,)),
    },
    "/api/v1/tuning/dataset": {
        "get": operation(
            "The training set: approved examples, split sizes, token totals, cost estimate per epoch.",
            auth="secret",
            tag=TAG,
            ok=obj(
                ("approved", "splits", "tokens", "cost_estimate"),
                approved=INTEGER,
                splits=ANY_OBJECT,
                tokens=ANY_OBJECT,
                cost_estimate=ANY_OBJECT,
                data_hash=STRING,
            ),
        ),
    },
    "/api/v1/tuning/runs": {
        "post": operation(
            "Start a fine-tuning run now; a worker runs it.",
            auth="secret",
            tag=TAG,
            status=202,
            body=json_body(obj(backend={"enum": ["local", "openai"]}), required=False),
            ok=obj(("run",), run=RUN, links=ANY_OBJECT),
        ),
        "get": operation(
            "Recent runs, newest first.",
            auth="secret",
            tag=TAG,
            params=[query("limit", {"type": "integer", "minimum": 1, "maximum": 100})],
            ok=obj(("items",), items=array(RUN)),
        ),
    },
    "/api/v1/tuning/runs/{run_id}": {
        "get": operation(
            "One run: state, progress, metrics and the gate's decision.",
            auth="secret",
            tag=TAG,
            params=[path("run_id")],
            ok=RUN,
            errors=(404,),
        ),
    },
    "/api/v1/models": {
        "get": operation(
            "The store's model versions and the active one.",
            auth="secret",
            tag=TAG,
            ok=obj(("active", "items"), active=nullable(STRING), items=array(MODEL)),
        ),
    },
    "/api/v1/models/{version}/promote": {
        "post": operation(
            "Make a version the store's active model.",
            auth="secret",
            tag=TAG,
            params=[path("version")],
            ok=MODEL,
            errors=(404, 409),
        ),
    },
    "/api/v1/models/rollback": {
        "post": operation(
            "Go back to the previously active version (or the base model).",
            auth="secret",
            tag=TAG,
            ok=obj(("active", "retired"), active=nullable(STRING), retired=STRING),
            errors=(409,),
        ),
    },
}
