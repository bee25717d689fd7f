"""storebot: a shopping assistant for any storefront.

The public API is re-exported here. ``create_app`` is imported on first use,
so that importing the domain (``storebot.catalog`` ...) never loads Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storebot.catalog.models import Policy, Product, Review, Variant
from storebot.errors import StorebotError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from storebot.app import create_app

__all__ = ["Policy", "Product", "Review", "StorebotError", "Variant", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from storebot.app import create_app

        return create_app
    raise AttributeError(f"module 'storebot' has no attribute {name!r}")
