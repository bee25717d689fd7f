"""What an answer showed beside its text: kept small with the stored message, and shown again on restore.

An assistant message's ``response_metadata`` keeps ids, not product data: ``cards`` (the product and variant
ids of its cards) and ``sources`` (the review citations with a short quote, and the policy passage ids). A
restored conversation rebuilds each card from the catalog as it is now, so a card shows today's price and
stock, and a product deleted since is left out. Messages stored without this metadata come back as text.

Example:
    >>> from storebot.chat.types import Citation, ProductCard
    >>> meta = answer_metadata([ProductCard("1001", "Ridge Shell")], [Citation("12", "1001", 5, "Dry all day.")],
    ...                        ["returns#0"])
    >>> meta["cards"], meta["sources"]["policies"]
    ([{'product_id': '1001', 'variant_id': None}], ['returns#0'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from storebot.catalog.repository import CatalogRepository
from storebot.chat.cards import shown_card
from storebot.chat.types import Citation, ProductCard

QUOTE_CHARS = 240
"""A stored review quote's length: more than the widget's 200-character quote, so it shows the same."""


def short_quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` with its whitespace collapsed, cut to ``limit`` characters (with "…" when cut)."""
    clean = " ".join(str(text or "").split())
    return clean if len(clean) <= limit else clean[:limit].rstrip() + "…"


def answer_metadata(cards: Sequence[ProductCard], citations: Sequence[Citation],
                    policy_ids: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """The ``response_metadata`` of a stored answer: its cards' ids and its sources (reviews, policy ids)."""
    shown = [{"product_id": c.id, "variant_id": (c.matched_variant or {}).get("id")} for c in cards]
    reviews = [c.to_dict() | {"text": short_quote(c.text)} for c in citations]
    return {"cards": shown, "sources": {"reviews": reviews, "policies": list(policy_ids)}}


def policy_titles(catalog: CatalogRepository, passage_ids: Sequence[str]) -> dict[str, str]:
    """The title of each policy passage's policy ("returns#0" -> "Returns & Exchanges"); "" for one deleted since."""
    if not passage_ids:
        return {}
    titles = {p.id: p.title or "" for p in catalog.policies()}
    return {pid: titles.get(pid.split("#", 1)[0], "") for pid in passage_ids}


def stored_sources(metadatas: Sequence[Mapping[str, Any]], catalog: CatalogRepository) -> list[dict[str, Any] | None]:
    """Each stored answer's ``sources`` in the shape of the stream's ``sources`` event (``reviews``, ``policies``,
    ``policy_titles``, the titles read once for the whole conversation), or None for a message stored without them."""
    kept = [meta.get("sources") if isinstance(meta.get("sources"), dict) else None for meta in metadatas]
    titles = policy_titles(catalog, sorted({str(pid) for s in kept if s for pid in s.get("policies") or []}))
    shaped: list[dict[str, Any] | None] = []
    for sources in kept:
        if sources is None:
            shaped.append(None)
            continue
        reviews = [r for r in sources.get("reviews") or [] if isinstance(r, dict)]
        policies = [str(pid) for pid in sources.get("policies") or []]
        named = {pid: titles.get(pid, "") for pid in policies}
        shaped.append({"reviews": reviews, "policies": policies, "policy_titles": named})
    return shaped


def restored_messages(messages: Sequence[BaseMessage], catalog: CatalogRepository) -> list[dict[str, Any]]:
    """A conversation as the widget shows it: ``{"id", "role", "text"}``, and for an answer that showed them,
    ``cards`` (built from the catalog now) and ``sources`` (the shape of the stream's ``sources`` event)."""
    metas = [(m.response_metadata or {}) if m.type == "ai" else {} for m in messages]
    wanted = [c.get("product_id") for meta in metas for c in meta.get("cards") or [] if isinstance(c, dict)]
    products = {p.id: p for p in catalog.get_products(sorted({str(pid) for pid in wanted if pid}))}
    sources = stored_sources(metas, catalog)
    restored = []
    for message, meta, shaped in zip(messages, metas, sources, strict=True):
        entry: dict[str, Any] = {"id": message.id, "role": "shopper" if message.type == "human" else "assistant",
                                 "text": message.content}  # fmt: skip
        if "cards" in meta:
            cards = (
                shown_card(products, c.get("product_id"), c.get("variant_id"))
                for c in meta["cards"] or []
                if isinstance(c, dict)
            )
            entry["cards"] = [c for c in cards if c is not None]
        if shaped is not None:
            entry["sources"] = shaped
        restored.append(entry)
    return restored
