"""Serves the OpenAPI 3.1 document of the API at ``/api/v1/openapi.json`` (built in storebot/api/spec/)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from storebot import __version__
from storebot.api.spec import build_spec

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    response = jsonify(build_spec(__version__))
    response.headers["Access-Control-Allow-Origin"] = "*"  # public, for API explorers
    return response
