"""Insights for merchants: products whose sentiment is falling, the most-mentioned complaints, and time series.

All three read the stored per-review analyses (:class:`~storebot.insights.review_store.ReviewInsightsStore`).
Windows are counted back from the store's newest review date, so a store whose reviews arrive in batches (or
a historical import) still compares like with like.

Example:
    >>> report = merchant_insights(insights, catalog)         # doctest: +SKIP
    >>> report["falling"][0]["delta"] < 0                     # doctest: +SKIP
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from storebot.errors import StorebotError

MAX_CITED = 20
INTERVALS = ("week", "month")


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        return None


def falling_products(analyses: Iterable[dict[str, Any]], *, window_days: int = 90, min_reviews: int = 3,
                     min_drop: float = 0.1) -> list[dict[str, Any]]:  # fmt: skip
    """Products whose mean review score in the last window fell by ``min_drop`` or more from the window before."""
    dated = [(d, a) for a in analyses if (d := _date(a.get("date", ""))) is not None]
    if not dated:
        return []
    end = max(d for d, _ in dated)
    recent_from = end - dt.timedelta(days=window_days)
    previous_from = recent_from - dt.timedelta(days=window_days)
    windows: dict[str, tuple[list[float], list[float]]] = {}
    for day, analysis in dated:
        recent, previous = windows.setdefault(analysis["product_id"], ([], []))
        if day > recent_from:
            recent.append(analysis["score"])
        elif day > previous_from:
            previous.append(analysis["score"])
    falling = []
    for pid, (recent, previous) in windows.items():
        if len(recent) < min_reviews or len(previous) < min_reviews:
            continue
        now, before = sum(recent) / len(recent), sum(previous) / len(previous)
        if before - now >= min_drop:
            falling.append({"product_id": pid, "recent_score": round(now, 4), "previous_score": round(before, 4),
                            "delta": round(now - before, 4), "recent_reviews": len(recent),
                            "previous_reviews": len(previous)})  # fmt: skip
    falling.sort(key=lambda f: (f["delta"], f["product_id"]))
    return falling


def top_complaints(
    analyses: Iterable[dict[str, Any]], labels: dict[str, str], *, limit: int = 10
) -> list[dict[str, Any]]:
    """Aspects with the most reviews complaining about them (a negative sentence), with products and reviews."""
    table: dict[str, dict[str, Any]] = {}
    for analysis in analyses:
        for mention in analysis["aspects"]:
            if mention["sentiment"] != "negative":
                continue
            row = table.setdefault(mention["aspect"], {"reviews": {}, "products": {}})
            row["reviews"][analysis["id"]] = mention["score"]
            row["products"][analysis["product_id"]] = row["products"].get(analysis["product_id"], 0) + 1
    complaints = []
    for aspect, row in table.items():
        reviews = sorted(row["reviews"], key=lambda rid: (row["reviews"][rid], rid))
        products = sorted(row["products"], key=lambda pid: (-row["products"][pid], pid))
        complaints.append({"aspect": aspect, "label": labels.get(aspect, aspect.replace("_", " ").capitalize()),
                           "mentions": len(reviews), "product_ids": products[:MAX_CITED],
                           "review_ids": reviews[:MAX_CITED]})  # fmt: skip
    complaints.sort(key=lambda c: (-c["mentions"], c["aspect"]))
    return complaints[:limit]


def _period(day: dt.date, interval: str) -> tuple[str, dt.date]:
    if interval == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}", day - dt.timedelta(days=day.weekday())
    return f"{day.year}-{day.month:02d}", day.replace(day=1)


def sentiment_series(analyses: Iterable[dict[str, Any]], *, product_id: str | None = None, aspect: str | None = None,
                     interval: str = "month") -> list[dict[str, Any]]:  # fmt: skip
    """Reviews per period with their polarity counts and mean score (for ``aspect``: its sentences' sentiment)."""
    if interval not in INTERVALS:
        raise StorebotError(f"interval must be one of {', '.join(INTERVALS)}.", fix="Send interval=week or month.")
    points: dict[str, dict[str, Any]] = {}
    for analysis in analyses:
        day = _date(analysis.get("date", ""))
        if day is None or (product_id and analysis["product_id"] != product_id):
            continue
        if aspect:
            mentions = [m for m in analysis["aspects"] if m["aspect"] == aspect]
            if not mentions:
                continue
            score = sum(m["score"] for m in mentions) / len(mentions)
            sentiments = {m["sentiment"] for m in mentions}
            label = sentiments.pop() if len(sentiments) == 1 else "mixed"
        else:
            score, label = analysis["score"], analysis["polarity"]
        name, start = _period(day, interval)
        point = points.setdefault(name, {"period": name, "start": start.isoformat(), "reviews": 0, "positive": 0,
                                         "negative": 0, "mixed": 0, "_sum": 0.0})  # fmt: skip
        point["reviews"] += 1
        point[label] += 1
        point["_sum"] += score
    series = []
    for name in sorted(points):
        point = points[name]
        point["mean_score"] = round(point.pop("_sum") / point["reviews"], 4)
        series.append(point)
    return series
