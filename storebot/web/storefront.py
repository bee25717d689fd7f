"""The demo storefront: a product grid, product pages, a tiny cart and the embed snippet, with the widget on every page.

Pages are served with a strict Content-Security-Policy (``script-src 'self'; style-src 'self'``): the storefront has
no inline script or style, and the widget must work under it too. Product data are public catalog data, so no key
is needed to browse.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from storebot.api.auth import services
from storebot.api.widget import widget_version
from storebot.errors import NotFound

bp = Blueprint("storefront", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/storefront")  # fmt: skip

PAGE_SIZE = 24
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:"


@bp.after_request
def strict_csp(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = STRICT_CSP
    return response


def _render(template: str, store: Any, **context: Any) -> str:
    return render_template(template, store=store, widget_version=widget_version(), **context)


@bp.get("/")
def index() -> Any:
    stores = services().stores.list()
    with_products = [s for s in stores if services().catalog(s.id).count()]
    if with_products:
        demo = next((s for s in with_products if s.id == "demo"), with_products[0])
        return redirect(url_for("storefront.shop", store_id=demo.id))
    return render_template("index.html", stores=stores)


@bp.get("/stores")
def store_list() -> str:
    return render_template("index.html", stores=services().stores.list())


@bp.get("/shop/<store_id>")
def shop(store_id: str) -> str:
    store = services().stores.get(store_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    listing = services().catalog(store_id).page("products", offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max((listing["total"] + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        raise NotFound(f"Page {page} is past the last page ({pages}).", fix=f"Go to page {pages} or before.")
    return _render("shop.html", store, listing=listing, page=page, pages=pages)


@bp.get("/shop/<store_id>/products/<product_id>")
def product(store_id: str, product_id: str) -> str:
    store = services().stores.get(store_id)
    catalog = services().catalog(store_id)
    found = catalog.get_product(product_id)
    return _render("product.html", store, product=found, reviews=catalog.reviews_for(product_id), page_product=found)


@bp.get("/shop/<store_id>/cart")
def cart(store_id: str) -> str:
    return _render("cart.html", services().stores.get(store_id))


@bp.get("/shop/<store_id>/embed")
def embed(store_id: str) -> str:
    store = services().stores.get(store_id)
    script = url_for("widget.widget_js", _external=True)
    snippet = f'<script src="{script}" data-store="{store.publishable_key}" async></script>'
    context_snippet = (
        "<script>window.Storebot = window.Storebot || function () {\n"
        "  (window.Storebot.q = window.Storebot.q || []).push(arguments); };\n"
        "Storebot('setContext', {productId: 'PRODUCT-ID', cart: ['ID-1', 'ID-2']});</script>"
    )
    return _render("embed.html", store, snippet=snippet, context_snippet=context_snippet)
