"""The merchant dashboard: one page, signed in with the store's secret key, over the merchant API.

Sign-in design: the page holds no secret. The merchant types the secret key into a form; the dashboard's script keeps
it in ``sessionStorage`` (this tab only, gone when the tab closes) and sends it as ``Authorization: Bearer`` on its
``fetch`` calls, exactly like any other API client. No cookie carries the key, so there is no ambient credential for
another site to ride on (no CSRF), and the merchant API stays header-only. What protects the key in the page is a
strict Content-Security-Policy (scripts from this origin only, no inline script or style, ``connect-src 'self'``,
no framing), and the script renders every catalog and shopper text with ``textContent``, never as HTML.

Example:
    >>> client.get("/dashboard").headers["Content-Security-Policy"].startswith("default-src 'self'")  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from storebot.api.auth import current_store, require_secret_key
from storebot.errors import NotFound

bp = Blueprint("dashboard", __name__, template_folder="templates")

BUNDLE = Path(__file__).resolve().parents[2] / "widgets" / "dist" / "dashboard.js"
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


@bp.after_request
def strict_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = DASHBOARD_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def bundle() -> tuple[bytes, str]:
    """The built dashboard script and its content hash."""
    if not BUNDLE.is_file():
        raise NotFound(
            "The dashboard has not been built.", fix="Run `make demo` (or npm ci && npm run build in widgets/)."
        )
    return _load(BUNDLE, BUNDLE.stat().st_mtime)


@bp.get("/dashboard")
def page() -> Any:
    try:
        version = bundle()[1]
    except NotFound:
        version = ""
    response = Response(render_template("dashboard.html", version=version, store_hint=request.args.get("store", "")))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dashboard/app.js")
def script() -> Response:
    body, version = bundle()
    response = Response(body, mimetype="application/javascript")
    response.set_etag(version)
    immutable = request.args.get("v") == version
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return response.make_conditional(request)


@bp.get("/dashboard/api/store")
@require_secret_key
def whoami() -> Any:
    """Which store the secret key opens: the dashboard's sign-in check."""
    store = current_store()
    return jsonify({"id": store.id, "name": store.name, "publishable_key": store.publishable_key})
