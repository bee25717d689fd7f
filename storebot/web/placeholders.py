"""Product pictures for the demo store: generated SVGs, since the demo catalog is fictional and ships no photos."""

from __future__ import annotations

import hashlib
from html import escape

from flask import Blueprint, Response

bp = Blueprint("placeholders", __name__)

PALETTE = [("#24402f", "#7fa37f"), ("#2e3f5c", "#8aa4c8"), ("#5c3a2e", "#c89a7f"), ("#3f3a5c", "#a49ac8"),
           ("#2e5c57", "#7fc8bd"), ("#5c552e", "#c8bb7f")]  # fmt: skip


@bp.get("/demo-images/products/<name>.svg")
def product_image(name: str) -> Response:
    digest = hashlib.sha256(name.encode()).digest()
    dark, light = PALETTE[digest[0] % len(PALETTE)]
    words = name.rsplit("-", 1)[0].replace("-", " ").title()
    # Centred and short enough for the middle 300 px: the widget's cards crop the picture to a square.
    label = escape(words[:28].rstrip() + ("…" if len(words) > 28 else ""))
    peak = 120 + digest[1] % 80
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" aria-label="{label}">
<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{light}"/>
<stop offset="1" stop-color="{dark}"/></linearGradient></defs>
<rect width="400" height="300" fill="url(#g)"/>
<path d="M0 230 L{peak} 110 L{peak + 70} 170 L{peak + 130} 95 L400 215 L400 300 L0 300 Z" fill="{dark}" opacity=".85"/>
<text x="200" y="282" text-anchor="middle" font-family="system-ui, sans-serif" font-size="17" fill="#fff">{label}</text>
</svg>"""
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
