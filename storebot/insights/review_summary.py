"""One product's review summary: sentiment shares, aspects, pros and cons citing reviews, and a fit signal.

Built from the per-review analyses of :mod:`storebot.insights.review_analysis`; every pro, con and fit count
lists the ids of the reviews it comes from, so an answer built from a summary can cite them.

Example:
    >>> a = {"id": "r1", "polarity": "positive", "score": 0.9, "fit": "small", "fit_sentence": "Runs small.",
    ...      "aspects": [{"aspect": "comfort", "sentiment": "positive", "score": 0.9, "sentence": "So comfy."}]}
    >>> s = summarize_product("1001", [a], {"comfort": "Comfort"}, "classifier", "2026-11-22T00:00:00+00:00")
    >>> s["pros"][0]["review_ids"], s["fit"]["counts"]["runs_small"]
    (['r1'], 1)
"""

from __future__ import annotations

from typing import Any

MAX_PROS = 3
MAX_CITED = 10
MAX_QUOTE_WORDS = 25
MIN_QUOTE_WORDS = 4  # shorter sentences are mostly review titles
FIT_MIN_REMARKS = 2
FIT_SIGNALS = {"small": "runs_small", "true": "true_to_size", "large": "runs_large"}


def _clip(sentence: str) -> str:
    """A quote of at most MAX_QUOTE_WORDS words; a clause cut at its semicolon ends with a full stop."""
    words = sentence.split()
    if len(words) > MAX_QUOTE_WORDS:
        return " ".join(words[:MAX_QUOTE_WORDS]).rstrip(",;:") + " ..."
    return sentence[:-1] + "." if sentence.endswith(";") else sentence


def _says_something(sentence: str) -> bool:
    return len(sentence.split()) >= MIN_QUOTE_WORDS


def aspect_table(analyses: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Per aspect: reviews mentioning it, with positive and negative mentions, and the mean sentence score."""
    table: dict[str, dict[str, Any]] = {}
    for analysis in analyses:
        for mention in analysis["aspects"]:
            row = table.setdefault(mention["aspect"], {"aspect": mention["aspect"], "ids": set(), "pos": {}, "neg": {},
                                                       "scores": []})  # fmt: skip
            row["ids"].add(analysis["id"])
            row["scores"].append(mention["score"])
            side = {"positive": "pos", "negative": "neg"}.get(mention["sentiment"])
            if side:
                best = row[side].get(analysis["id"])
                # Keep each review's most telling sentence for the aspect.
                if best is None or abs(mention["score"] - 0.5) > abs(best["score"] - 0.5):
                    row[side][analysis["id"]] = mention
    rows = []
    for key, row in table.items():
        rows.append({"aspect": key, "label": labels.get(key, key.replace("_", " ").capitalize()),
                     "mentions": len(row["ids"]), "positive": len(row["pos"]), "negative": len(row["neg"]),
                     "score": round(sum(row["scores"]) / len(row["scores"]), 4),
                     "_pos": row["pos"], "_neg": row["neg"]})  # fmt: skip
    rows.sort(key=lambda r: (-r["mentions"], r["aspect"]))
    return rows


def _points(rows: list[dict[str, Any]], side: str) -> list[dict[str, Any]]:
    """Pros (``side="pos"``) or cons: aspects most reviews praise (or fault), each with a quote and review ids."""
    other = "_neg" if side == "pos" else "_pos"
    chosen = []
    for row in rows:
        mine, theirs = row[f"_{side}"], row[other]
        if not mine or (side == "pos" and len(mine) < len(theirs)) or (side == "neg" and 2 * len(mine) < len(theirs)):
            continue
        # The most telling sentence, preferring one that says something ("Solid in wind" is a review's title).
        best = max(mine.values(), key=lambda m: (_says_something(m["sentence"]),
                                                 m["score"] if side == "pos" else -m["score"]))  # fmt: skip
        ids = sorted(mine, key=lambda rid: -abs(mine[rid]["score"] - 0.5))[:MAX_CITED]
        chosen.append({"aspect": row["aspect"], "label": row["label"], "text": _clip(best["sentence"]),
                       "review_ids": ids, "count": len(mine)})  # fmt: skip
    chosen.sort(key=lambda p: (-p["count"], p["aspect"]))
    return chosen[:MAX_PROS]


def fit_summary(analyses: list[dict[str, Any]]) -> dict[str, Any]:
    """The fit signal: the remark more than half of the fit remarks make, once there are enough of them."""
    counts = {signal: 0 for signal in FIT_SIGNALS.values()}
    cited: dict[str, list[str]] = {signal: [] for signal in FIT_SIGNALS.values()}
    quotes: dict[str, str] = {}
    for analysis in analyses:
        signal = FIT_SIGNALS.get(analysis.get("fit") or "")
        if signal:
            counts[signal] += 1
            cited[signal].append(analysis["id"])
            quote = _clip(analysis.get("fit_sentence", ""))
            # The first remark that says something: "Size up a half." rather than a bare "Runs small" title.
            if signal not in quotes or (_says_something(quote) and not _says_something(quotes[signal])):
                quotes[signal] = quote
    total = sum(counts.values())
    leader = max(counts, key=lambda s: (counts[s], s == "true_to_size"))
    signal = leader if total >= FIT_MIN_REMARKS and counts[leader] * 2 > total else None
    return {"signal": signal, "counts": counts, "review_ids": {k: v[:MAX_CITED] for k, v in cited.items()},
            "quote": quotes.get(signal, "") if signal else ""}  # fmt: skip


def summarize_product(product_id: str, analyses: list[dict[str, Any]], labels: dict[str, str], model: str,
                      updated_at: str, *, review_count: int | None = None) -> dict[str, Any]:  # fmt: skip
    """The summary the API serves and the chat answers from (see the module docstring)."""
    n = len(analyses)
    shares = {p: round(sum(a["polarity"] == p for a in analyses) / n, 4) if n else 0.0
              for p in ("positive", "negative", "mixed")}  # fmt: skip
    rows = aspect_table(analyses, labels)
    pros, cons = _points(rows, "pos"), _points(rows, "neg")
    for point in pros + cons:
        point.pop("count")
    return {
        "product_id": product_id, "state": "analyzed", "review_count": review_count if review_count is not None else n,
        "analyzed_count": n, "model": model, "shares": shares,
        "mean_score": round(sum(a["score"] for a in analyses) / n, 4) if n else None,
        "aspects": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
        "pros": pros, "cons": cons, "fit": fit_summary(analyses), "updated_at": updated_at,
    }  # fmt: skip
