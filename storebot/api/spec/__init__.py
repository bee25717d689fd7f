"""The OpenAPI 3.1 document of storebot's HTTP API, assembled from one module per area.

To document a new route, add its entry to the ``PATHS`` of its area's module (or add a module with a
``PATHS`` dict and list it in ``MODULES``); :func:`components.operation` fills in the error responses,
and tests/test_openapi.py fails until every route under ``/api/v1`` is documented.

Example:
    >>> spec = build_spec("0.1.0")
    >>> spec["openapi"], "/api/v1/search" in spec["paths"]
    ('3.1.0', True)
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from storebot.api.spec import catalog, components, dashboard, health, insights, reviews, shopper, tuning
from storebot.api.spec.components import STRING, obj, operation

OPENAPI_PATHS = {
    "/api/v1/openapi.json": {
        "get": operation("This document.", auth=None, tag="operations",
                         ok=obj(("openapi", "paths"), openapi=STRING, paths={"type": "object"})),
    },
}  # fmt: skip

MODULES: tuple[Any, ...] = (health, catalog, shopper, tuning, reviews, dashboard, insights)
"""Area modules, each with a ``PATHS`` dict of OpenAPI path items."""

DESCRIPTION = """\
Merchant endpoints take the store's secret key (`Authorization: Bearer sk_...`); shopper endpoints take its
publishable key (`?key=pk_...` or `X-Storebot-Key`). Every error is JSON: `{"error": {"code", "message", "fix"}}`.
Rate limits answer 429 with `Retry-After`."""


@lru_cache(maxsize=4)
def _build(version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for source in (*(m.PATHS for m in MODULES), OPENAPI_PATHS):
        for route, item in source.items():
            merged = paths.setdefault(route, {})
            clash = set(merged) & set(item)
            if clash:
                raise ValueError(f"{route} {sorted(clash)} is documented twice")
            merged.update(item)
    return {
        "openapi": "3.1.0",
        "info": {"title": "storebot API", "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components.SCHEMAS,
            "responses": components.RESPONSES,
            "securitySchemes": components.SECURITY_SCHEMES,
        },
    }


def build_spec(version: str) -> dict[str, Any]:
    """The whole document (a fresh copy, safe to modify)."""
    return copy.deepcopy(_build(version))
