"""Serves the built chat widget at ``/widget.js``: versioned, cacheable, and loadable from any origin."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, request

from storebot.errors import NotFound

bp = Blueprint("widget", __name__)

PACKAGED = Path(__file__).resolve().parent.parent / "web" / "static" / "storebot.js"
SOURCE_BUILD = Path(__file__).resolve().parents[2] / "widgets" / "dist" / "storebot.js"


def widget_file() -> Path:
    """The bundle: the repository's build output, else a copy shipped inside the package."""
    for path in (SOURCE_BUILD, PACKAGED):
        if path.is_file():
            return path
    raise NotFound("The widget has not been built.", fix="Run `make demo` or `cd widgets && npm ci && npm run build`.")


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def widget_bundle() -> tuple[bytes, str]:
    path = widget_file()
    return _load(path, path.stat().st_mtime)


def widget_version() -> str:
    """The content hash that versions the widget's URL: ``/widget.js?v=<version>``."""
    try:
        return widget_bundle()[1]
    except NotFound:
        return "unbuilt"


@bp.get("/widget.js")
def widget_js() -> Response:
    body, version = widget_bundle()
    response = Response(body, mimetype="application/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, embedded by any storefront
    response.set_etag(version)
    if request.args.get("v") == version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response.make_conditional(request)
