""" "What do reviewers say about the sizing of the Alder shell?": answered from the product's review summary.

The summary (:mod:`storebot.insights.review_summary`) already knows the shares of positive and negative
reviews, the pros and cons with the reviews behind them, and the fit signal. The answer is built from it by
template (no number or quote that is not in the summary), and the reviews it draws on become the answer's
citations. Questions about a product that are not about its reviews, and products not analysed yet, pass
through to the chain's usual answer.

Example:
    >>> asks_about_reviews("what do reviewers say about the sizing of the Alder shell?")
    True
    >>> asked_aspect("does it run small?")
    'fit'
"""

from __future__ import annotations

import re
from typing import Any

from storebot.catalog.models import Product, Review
from storebot.insights.review_store import ReviewInsightsStore
from storebot.retrieval.documents import review_passage
from storebot.retrieval.passages import Passage

_REVIEWS = re.compile(
    r"\b(?:reviews?|reviewers?|reviewed|people|customers?|buyers?|owners?|others|folks|everyone|shoppers?)\b.{0,40}"
    r"\b(?:say|said|saying|think|thought|feel|like|liked|love|hate|complain\w*|mention\w*|report\w*|rate\w*)\b"
    r"|\bwhat(?:'s| is| are)? (?:the )?(?:reviews?|feedback|verdict|consensus)\b|\bhow (?:is|are) (?:it|the|they)\b"
    r".{0,20}\breviewed\b|\bany (?:complaints|downsides|cons|issues)\b|\bpros and cons\b"
    r"|\b(?:does|do) (?:it|they|this|these) run (?:small|large|big|true)\b|\bis (?:it|this) true to size\b",
    re.IGNORECASE,
)
_ASPECT_WORDS = {
    "fit": r"siz(?:e|es|ing)|fit(?:s|ting)?|run(?:s)? (?:small|large|big|true)|true to size",
    "quality": r"quality|durab\w*|last(?:s|ing)?|hold(?:s)? up|well made|fall apart",
    "comfort": r"comfort\w*",
    "value": r"value|worth|price|money",
    "warmth_waterproofing": r"warm\w*|waterproof\w*|rain|dry|cold|breathab\w*",
    "shipping_service": r"shipping|delivery|service|support|returns?",
}
MAX_CITED = 4


def asks_about_reviews(message: str) -> bool:
    return bool(_REVIEWS.search(message))


def asked_aspect(message: str, discovered: list[dict[str, Any]] | None = None) -> str | None:
    """The aspect a question is about (a fixed one, or one discovered in the store's reviews), if any."""
    for key, words in _ASPECT_WORDS.items():
        if re.search(rf"\b(?:{words})\b", message, re.IGNORECASE):
            return key
    for aspect in discovered or []:
        if any(re.search(rf"\b{re.escape(t)}(?:e?s)?\b", message, re.IGNORECASE) for t in aspect["terms"]):
            return str(aspect["key"])
    return None


def _cite(ids: list[str]) -> str:
    return ", ".join(ids[:MAX_CITED])


def _fit_sentence(title: str, fit: dict[str, Any]) -> tuple[str, list[str]]:
    counts, signal = fit.get("counts") or {}, fit.get("signal")
    total = sum(counts.values())
    if not signal:
        if not total:
            return f"Reviewers of the {title} do not say much about its fit.", []
        return f"Reviewers of the {title} disagree about its fit ({total} fit remarks).", []
    ids = (fit.get("review_ids") or {}).get(signal, [])
    words = {"runs_small": "runs small", "true_to_size": "is true to size", "runs_large": "runs large"}[signal]
    quote = f' One says: "{fit["quote"]}"' if fit.get("quote") else ""
    return (f"Reviewers say the {title} {words}: {counts[signal]} of {total} fit remarks say so "
            f"(reviews {_cite(ids)}).{quote}", ids[:MAX_CITED])  # fmt: skip


def _point(point: dict[str, Any]) -> str:
    return f'{point["label"].lower()} ("{point["text"]}", reviews {_cite(point["review_ids"])})'


def answer_from_summary(product: Product, summary: dict[str, Any], aspect: str | None) -> tuple[str, list[str]]:
    """The answer's text and the ids of the reviews it cites."""
    title = product.title
    if aspect == "fit":
        return _fit_sentence(title, summary["fit"])
    if aspect is not None:
        row = next((a for a in summary["aspects"] if a["aspect"] == aspect), None)
        points = [p for p in summary["pros"] + summary["cons"] if p["aspect"] == aspect]
        if row is None:
            return f"Reviewers of the {title} do not mention that much.", []
        text = (f"{row['mentions']} reviews of the {title} mention {row['label'].lower()}: {row['positive']} "
                f"positively and {row['negative']} negatively.")  # fmt: skip
        cited = [rid for p in points for rid in p["review_ids"][:MAX_CITED]]
        if points:
            text += " " + " ".join(f'"{p["text"]}" (reviews {_cite(p["review_ids"])})' for p in points[:2])
        return text, cited
    shares, n = summary["shares"], summary["analyzed_count"]
    parts = [f"Of {n} reviews of the {title}, {round(shares['positive'] * n)} are positive, "
             f"{round(shares['negative'] * n)} negative and {round(shares['mixed'] * n)} mixed."]  # fmt: skip
    cited: list[str] = []
    if summary["pros"]:
        parts.append("Reviewers like its " + "; ".join(_point(p) for p in summary["pros"][:2]) + ".")
        cited += [rid for p in summary["pros"][:2] for rid in p["review_ids"][:MAX_CITED]]
    if summary["cons"]:
        parts.append("Complaints are about " + "; ".join(_point(p) for p in summary["cons"][:2]) + ".")
        cited += [rid for p in summary["cons"][:2] for rid in p["review_ids"][:MAX_CITED]]
    if summary["fit"].get("signal"):
        fit_text, fit_ids = _fit_sentence(title, {**summary["fit"], "quote": ""})
        parts.append(fit_text)
        cited += fit_ids[:MAX_CITED]
    return " ".join(parts), cited


def _passages(reviews: list[Review]) -> list[Passage]:
    return [Passage(r.id, review_passage(r), 1.0, {"product_id": r.product_id, "rating": r.rating}) for r in reviews]


def apply_review_summary(turn: Any) -> Any:
    """The chain's hook: a question about what reviewers say of one product is answered from its summary.

    Sets ``turn.summary_answer`` and makes the cited reviews the turn's review passages (its citations).
    """
    if not turn.products or not asks_about_reviews(turn.request.message) and not _fit_question(turn.request.message):
        return turn
    product = turn.products[0][0]
    catalog = turn.deps.catalog
    insights = ReviewInsightsStore(catalog.redis, catalog.keys)
    summary = insights.summary(product.id)
    if summary is None or not summary.get("analyzed_count"):
        return turn
    discovered = (insights.meta() or {}).get("discovered_aspects", [])
    text, cited = answer_from_summary(product, summary, asked_aspect(turn.request.message, discovered))
    turn.summary_answer = text
    turn.reviews = _passages(catalog.get_reviews(list(dict.fromkeys(cited))))
    return turn


_FIT_QUESTION = re.compile(r"\b(?:how does (?:it|this|the \w+) fit|(?:does|do) (?:it|they) run|sizing)\b", re.I)


def _fit_question(message: str) -> bool:
    return bool(_FIT_QUESTION.search(message))
