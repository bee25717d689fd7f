"""A plain demo storefront: the store's products, paginated, as a shopper sees them.

It is what `storebot demo` opens; the chat widget is embedded here once it
exists. Product data are public catalog data, so no key is needed.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from storebot.api.auth import services
from storebot.errors import NotFound

bp = Blueprint("storefront", __name__, template_folder="templates")

PAGE_SIZE = 24


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    stores = services().stores.list()
    return render_template("index.html", stores=stores)


@bp.get("/shop/<store_id>")
def shop(store_id: str):  # type: ignore[no-untyped-def]
    store = services().stores.get(store_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    listing = services().catalog(store_id).page("products", offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max((listing["total"] + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        raise NotFound(f"Page {page} is past the last page ({pages}).")
    return render_template("shop.html", store=store, listing=listing, page=page, pages=pages)
