"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, jsonify

from storebot import __version__
from storebot.api.auth import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    services().redis.ping()
    return jsonify({"ok": True, "version": __version__})
