"""OpenAPI entries of the operational endpoints (storebot/api/health.py)."""

from __future__ import annotations

from storebot.api.spec.components import BOOLEAN, STRING, array, obj, ref

LIVE = obj(("ok",), ok=BOOLEAN, version=STRING)
CHECKS = obj(("ready", "checks"), ready=BOOLEAN, version=STRING,
             checks=array(obj(("name", "ok"), name=STRING, ok=BOOLEAN, detail=STRING)))  # fmt: skip


def _plain(summary: str, schema: dict, *, extra: dict | None = None) -> dict:
    return {"summary": summary, "tags": ["operations"], "security": [],
            "responses": {"200": {"description": "OK.", "content": {"application/json": {"schema": schema}}},
                          "503": {"description": "Redis is not reachable.",
                                  "content": {"application/json": {"schema": ref("Error")}}},
                          **(extra or {})}}  # fmt: skip


PATHS = {
    "/healthz": {"get": _plain("Liveness: the process answers and reaches Redis.", LIVE)},
    "/readyz": {
        "get": _plain("Readiness: Redis, every store's index, the chat and embedding models.", CHECKS,
                      extra={"503": {"description": "Not ready; the failing checks say why.",
                                     "content": {"application/json": {"schema": CHECKS}}}}),
    },
}  # fmt: skip
