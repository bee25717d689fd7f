"""Review insights as the API, the CLI and the chat ask for them: summaries, merchant reports, time series.

Example:
    >>> product_review_summary(catalog, insights, "1001")["fit"]["signal"]  # doctest: +SKIP
    'runs_small'
"""

from __future__ import annotations

from typing import Any

from storebot.catalog.repository import CatalogRepository
from storebot.errors import NotFound
from storebot.insights.discovery import DiscoveredAspect
from storebot.insights.merchant import falling_products, sentiment_series, top_complaints
from storebot.insights.review_analysis import aspect_labels
from storebot.insights.review_store import ReviewInsightsStore

NOT_ANALYZED = "not_analyzed"


def _labels(insights: ReviewInsightsStore) -> dict[str, str]:
    meta = insights.meta() or {}
    return aspect_labels([DiscoveredAspect.from_dict(a) for a in meta.get("discovered_aspects", [])])


def product_review_summary(
    catalog: CatalogRepository, insights: ReviewInsightsStore, product_id: str
) -> dict[str, Any]:
    """The product's summary; a "not analysed yet" state (not an error) before the analysis ran or found reviews."""
    product = catalog.get_product(product_id)  # NotFound for unknown products
    review_count = product.rating_count or len(catalog.reviews_for(product_id))
    summary = insights.summary(product_id)
    if summary is not None:
        summary["review_count"] = max(review_count, summary["analyzed_count"])
        return summary
    meta = insights.meta()
    state = NOT_ANALYZED if meta is None or review_count else "no_reviews"
    return {"product_id": product_id, "state": state, "review_count": review_count, "analyzed_count": 0,
            "model": meta["model"] if meta else None, "shares": None, "aspects": [], "pros": [], "cons": [],
            "fit": {"signal": None, "counts": {}}, "updated_at": meta["updated_at"] if meta else None}  # fmt: skip


def merchant_report(catalog: CatalogRepository, insights: ReviewInsightsStore, *, window_days: int = 90,
                    min_reviews: int = 3, limit: int = 10) -> dict[str, Any]:  # fmt: skip
    """Falling products (with titles) and the most-mentioned complaints."""
    meta = insights.meta()
    analyses = list(insights.reviews())
    falling = falling_products(analyses, window_days=window_days, min_reviews=min_reviews)[:limit]
    titles = {p.id: p.title for p in catalog.get_products([f["product_id"] for f in falling])}
    for row in falling:
        row["title"] = titles.get(row["product_id"], "")
    return {"state": "analyzed" if meta else NOT_ANALYZED, "window_days": window_days,
            "updated_at": meta["updated_at"] if meta else None, "falling": falling,
            "complaints": top_complaints(analyses, _labels(insights), limit=limit)}  # fmt: skip


def sentiment_timeline(catalog: CatalogRepository, insights: ReviewInsightsStore, *, product_id: str | None = None,
                       aspect: str | None = None, interval: str = "month") -> dict[str, Any]:  # fmt: skip
    """Per period: reviews, positive / negative / mixed counts and the mean score, optionally filtered."""
    if product_id:
        catalog.get_product(product_id)
    labels = _labels(insights)
    if aspect and aspect not in labels:
        raise NotFound(f"No aspect {aspect!r} in this store.", fix=f"Use one of: {', '.join(sorted(labels))}.")
    analyses = insights.reviews([r.id for r in catalog.reviews_for(product_id)] if product_id else None)
    points = sentiment_series(analyses, product_id=product_id, aspect=aspect, interval=interval)
    return {"product_id": product_id, "aspect": aspect, "interval": interval, "points": points}


def review_detail(catalog: CatalogRepository, insights: ReviewInsightsStore, review_id: str) -> dict[str, Any]:
    """One review with its sentiment and aspect mentions (``analysis`` is None before the analysis ran)."""
    found = catalog.get_reviews([review_id])
    if not found:
        raise NotFound(f"No review {review_id!r} in this store.", fix="List reviews with GET /api/v1/reviews.")
    analysis = insights.review(review_id)
    labels = _labels(insights)
    if analysis is not None:
        for mention in analysis["aspects"]:
            mention["label"] = labels.get(mention["aspect"], mention["aspect"])
    return {"review": found[0].to_dict(), "analysis": analysis}
