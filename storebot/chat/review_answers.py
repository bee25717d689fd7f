""" "What do reviewers say about the sizing of the Alder shell?": answered from the product's review summary.

The summary (:mod:`storebot.insights.review_summary`) already knows the shares of positive and negative
reviews, the pros and cons with the reviews behind them, and the fit signal. The answer is built from it by
template (no number or quote that is not in the summary or the reviews), and the reviews it draws on become the
answer's citations: a count cites every review it counts, or says "e.g.". Asked about something no aspect covers
("condensation"), the product's reviews are searched for it: the ones that mention it are quoted, or the answer
says plainly that none does. Questions about a product that are not about its reviews ("how much is it?") keep no
review passages, so their answers cite none; products not analysed yet pass through to the chain's usual answer.

Example:
    >>> asks_about_reviews("what do reviewers say about the sizing of the Alder shell?")
    True
    >>> asked_aspect("does it run small?")
    'fit'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from storebot.catalog.models import Product, Review
from storebot.chat.answers import _REVIEW_Q
from storebot.chat.features import is_plural
from storebot.insights.aspects import review_sentences
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.review_summary import MIN_QUOTE_WORDS
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
    "comfort": r"comfort\w*|uncomfortabl\w*",
    "value": r"value|worth|price|money",
    "warmth_waterproofing": r"warm\w*|waterproof\w*|rain|dry|cold|breathab\w*",
    "shipping_service": r"shipping|delivery|service|support|returns?",
}
MAX_CITED = 5
EXPERIENCE_ASPECTS = ("comfort", "quality")  # asked of one product, reviews answer them (warmth: its specs do)


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


def _cite(ids: list[str], count: int | None = None) -> tuple[str, list[str]]:
    """("reviews 606, 608", the ids shown): every id when there are few, else "e.g." and the first few."""
    shown = ids[:MAX_CITED]
    more = (count if count is not None else len(ids)) > len(shown)
    noun = "review" if len(shown) == 1 and not more else "reviews"
    return f"{'e.g. ' if more else ''}{noun} {', '.join(shown)}", shown


def _fit_sentence(title: str, fit: dict[str, Any]) -> tuple[str, list[str]]:
    counts, signal = fit.get("counts") or {}, fit.get("signal")
    total = sum(counts.values())
    if not signal:
        if not total:
            return f"Reviewers of the {title} do not say much about its fit.", []
        remarks = "fit remark" if total == 1 else "fit remarks"
        return f"Reviewers of the {title} disagree about its fit ({total} {remarks}).", []
    ids = (fit.get("review_ids") or {}).get(signal, [])
    if is_plural(title):  # "the Traverse Mid Boots run small"
        words = {"runs_small": "run small", "true_to_size": "are true to size", "runs_large": "run large"}[signal]
    else:
        words = {"runs_small": "runs small", "true_to_size": "is true to size", "runs_large": "runs large"}[signal]
    cited, shown = _cite(ids, counts[signal])
    quote = f' One says: "{fit["quote"]}"' if fit.get("quote") else ""
    return (f"Reviewers say the {title} {words}: {counts[signal]} of {total} fit remarks say so "
            f"({cited}).{quote}", shown)  # fmt: skip


def _point(point: dict[str, Any]) -> tuple[str, list[str]]:
    cited, shown = _cite(point["review_ids"])
    return f'{point["label"].lower()} ("{point["text"]}", {cited})', shown


def _shares(title: str, shares: dict[str, float], n: int) -> str:
    """ "Of 4 reviews of the X, 3 are positive and 1 negative." / "The one review of the X is positive." """
    present = [(round(shares[p] * n), p) for p in ("positive", "negative", "mixed") if round(shares[p] * n)]
    if n == 1:
        return f"The one review of the {title} is {present[0][1] if present else 'mixed'}."
    if len(present) == 1:
        return f"All {n} reviews of the {title} are {present[0][1]}."
    (count, polarity), *others = present
    tail = [f"{c} {p}" for c, p in others]
    listed = f"{count} {'is' if count == 1 else 'are'} {polarity}"
    listed += (", " + ", ".join(tail[:-1]) if len(tail) > 1 else "") + f" and {tail[-1]}"
    return f"Of {n} reviews of the {title}, {listed}."


def answer_from_summary(product: Product, summary: dict[str, Any], aspect: str | None, *, topic: str = "",
                        reviews: Sequence[Review] = ()) -> tuple[str, list[str]]:  # fmt: skip
    """The answer's text and the ids of the reviews it cites.

    ``topic`` is what the question asks about when no aspect covers it ("condensation"): ``reviews`` (the
    product's) are searched for it, and the answer says plainly when none mentions it.
    """
    title = product.title
    if aspect == "fit":
        return _fit_sentence(title, summary["fit"])
    row = next((a for a in summary["aspects"] if a["aspect"] == aspect), None) if aspect else None
    quotes = _topic_quotes(topic, reviews) if topic else []
    points = [p for p in summary["pros"] + summary["cons"] if row and p["aspect"] == row["aspect"]]
    if topic and (row is None or not (quotes or points)):
        return _topic_answer(title, topic, reviews, quotes)
    if aspect is not None:
        if row is None:
            label = _label(summary, aspect)
            return f"None of the {_n_reviews(summary)} of the {title} mention {label}.", []
        # Sentences with the shopper's own word ("warmth") say more than the aspect's best one ("breathability").
        chosen = quotes[:2] or [(p["text"], p["review_ids"]) for p in points[:2]]
        return _aspect_answer(title, summary, row, chosen)
    parts = [_shares(title, summary["shares"], summary["analyzed_count"])]
    cited: list[str] = []
    one = summary["analyzed_count"] == 1
    likes, faults = (
        ("The reviewer likes its ", "The reviewer complains about ")
        if one
        else ("Reviewers like its ", "Complaints are about ")
    )
    for side, lead in (("pros", likes), ("cons", faults)):
        if summary[side]:
            points = [_point(p) for p in summary[side][:2]]
            parts.append(lead + "; ".join(text for text, _ in points) + ".")
            cited += [rid for _, shown in points for rid in shown]
    if summary["fit"].get("signal"):
        fit_text, fit_ids = _fit_sentence(title, {**summary["fit"], "quote": ""})
        parts.append(fit_text)
        cited += fit_ids
    return " ".join(parts), list(dict.fromkeys(cited))


def _aspect_answer(title: str, summary: dict[str, Any], row: dict[str, Any],
                   quotes: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:  # fmt: skip
    """ "4 of the 10 reviews of the X mention warmth and waterproofing, all positively: "..." (reviews ...)." """
    label, mentions, positive, negative = row["label"].lower(), row["mentions"], row["positive"], row["negative"]
    head = _mention(mentions, summary["analyzed_count"], title, label)
    if positive == mentions:
        tone = ", positively" if mentions == 1 else ", all positively"
    elif negative == mentions:
        tone = ", negatively" if mentions == 1 else ", all negatively"
    else:
        tone = f" ({positive} positively, {negative} negatively)"
    cited = [(q, _cite(ids)) for q, ids in quotes]
    text = head + tone + (": " + "; ".join(f'"{q}" ({c})' for q, (c, _) in cited) if cited else "") + "."
    return text, list(dict.fromkeys(rid for _, (_, shown) in cited for rid in shown))


def _topic_quotes(topic: str, reviews: Sequence[Review]) -> list[tuple[str, list[str]]]:
    """The sentences of ``reviews`` that mention ``topic`` (one per review), with the reviews saying each, the most
    shared first."""
    roots = [_root(w) for w in topic.split()]
    quotes: dict[str, list[str]] = {}
    for review in reviews:
        found = [s for s in review_sentences(review.title, review.body)
                 if all(re.search(rf"\b{re.escape(root)}", s, re.IGNORECASE) for root in roots)]  # fmt: skip
        if found:  # a sentence that says something, rather than a title ("Zipper issues")
            best = next((s for s in found if len(s.split()) >= MIN_QUOTE_WORDS), found[0])
            quotes.setdefault(_quote(best, roots[0]), []).append(review.id)
    return sorted(quotes.items(), key=lambda kv: (-(len(kv[0].split()) >= MIN_QUOTE_WORDS), -len(kv[1])))


def _topic_answer(title: str, topic: str, reviews: Sequence[Review],
                  quotes: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:  # fmt: skip
    """What the product's reviews say about ``topic``, quoted; or plainly that none mentions it."""
    mentioning = [rid for _, ids in quotes for rid in ids]
    total = len(reviews)
    if not mentioning:
        if total == 1:
            return f"The one review of the {title} doesn't mention {topic}.", []
        return f"None of the {total} reviews of the {title} mention {topic}.", []
    cited = [(q, _cite(ids)) for q, ids in quotes[:2]]
    text = _mention(len(mentioning), total, title, topic) + ": " + "; ".join(f'"{q}" ({c})' for q, (c, _) in cited)
    return text + ".", [rid for _, (_, shown) in cited for rid in shown]


def _mention(part: int, total: int, title: str, what: str) -> str:
    """ "2 of the 10 reviews of the X mention Y", "The one review of the X mentions Y", "All 3 reviews ..." """
    if total == 1:
        return f"The one review of the {title} mentions {what}"
    if part == total:
        return f"{'Both' if total == 2 else f'All {total}'} reviews of the {title} mention {what}"
    return f"{part} of the {total} reviews of the {title} {'mentions' if part == 1 else 'mention'} {what}"


def _n_reviews(summary: dict[str, Any]) -> str:
    n = summary["analyzed_count"]
    return "1 review" if n == 1 else f"{n} reviews"


def _label(summary: dict[str, Any], aspect: str) -> str:
    return next((a["label"] for a in summary["aspects"] if a["aspect"] == aspect), aspect.replace("_", " ")).lower()


def _root(word: str) -> str:
    """ "condensation" -> "condens": enough to find "condenses" and "condensation" in a review."""
    for suffix in ("ations", "ation", "ness", "ing", "ed", "es", "s", "th"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _quote(sentence: str, root: str, words: int = 25) -> str:
    """The sentence, or the 25 words of it around the asked word when it is long."""
    sentence = sentence[:-1] + "." if sentence.endswith(";") else sentence  # a clause cut at its semicolon
    parts = sentence.split()
    if len(parts) <= words:
        return sentence
    at = next((i for i, w in enumerate(parts) if w.lower().startswith(root)), 0)
    start = max(0, min(at - 10, len(parts) - words))
    clipped = " ".join(parts[start : start + words])
    return ("... " if start else "") + clipped + (" ..." if start + words < len(parts) else "")


_NOT_TOPIC = set(
    """what whats do does did reviewers reviewer reviews review reviewed people customers customer buyers owners others
    folks everyone shoppers say said saying says think thought feel like liked love hate complain mention mentioned
    report rate rated about in on of for the a an it its it's this that these those they them their one ones first
    second third fourth last other product item items overall general generally anything something any good bad
    really much how is are was were be there here tell me us you your my complaints downsides cons issues pros and
    or with to verdict consensus feedback regarding re when which who opinion opinions thing things""".split()  # noqa: SIM905 - a word list reads better as prose
)


_ABOUT = re.compile(r"\b(?:about|regarding|think of|say of)\s+(?P<topic>.+?)(?:\s+(?:in|on|of|for|with)\s+(?:the|this|"
                    r"that|these|those|my|your|it|them)\b.*)?\s*[?.!]*\s*$", re.IGNORECASE | re.DOTALL)  # fmt: skip


def asked_topic(message: str, product: Product) -> str:
    """The words a review question asks about beyond the product's own name ("condensation"), if any: those after
    "about" ("... about condensation in the Stillwater 3?"), else any left once the question's own words go."""
    named = set(re.findall(r"[a-z0-9]+", " ".join([product.title, product.brand, *product.category]).lower()))
    named |= {w.rstrip("s") for w in named} | {w + "s" for w in named}
    about = _ABOUT.search(message)
    text = about.group("topic") if about else message
    words = [w for w in re.findall(r"[a-z][a-z'-]*[a-z]", text.lower()) if w not in _NOT_TOPIC and w not in named
             and len(w) > 2]  # fmt: skip
    return " ".join(dict.fromkeys(words))


def _passages(reviews: list[Review]) -> list[Passage]:
    return [Passage(r.id, review_passage(r), 1.0, {"product_id": r.product_id, "rating": r.rating}) for r in reviews]


def about_reviews(message: str) -> bool:
    """Whether an answer to ``message`` draws on reviews (what reviewers say, fit, comfort, quality), so cites them;
    a question about price, weight, colour or stock does not."""
    return asks_about_reviews(message) or _fit_question(message) or bool(_REVIEW_WORDS.search(message))


def apply_review_summary(turn: Any) -> Any:
    """The chain's hook for a question about one product.

    A question about what reviewers say is answered from the product's summary: sets ``turn.summary_answer`` and
    makes the cited reviews the turn's review passages (its citations). A question that is not about reviews at
    all ("how much is it?") keeps no review passages, so its answer cites none.
    """
    message = turn.request.message
    if not turn.products:
        return turn
    if not about_reviews(message):
        turn.reviews = []
        return turn
    experience = asked_aspect(message) in EXPERIENCE_ASPECTS  # "are they comfortable?": only owners can say
    if not asks_about_reviews(message) and not _fit_question(message) and not experience:
        return turn
    product = turn.products[0][0]
    catalog = turn.deps.catalog
    insights = ReviewInsightsStore(catalog.redis, catalog.keys)
    summary = insights.summary(product.id)
    if summary is None or not summary.get("analyzed_count"):
        return turn
    discovered = (insights.meta() or {}).get("discovered_aspects", [])
    aspect = asked_aspect(message, discovered)
    topic = asked_topic(message, product) if aspect != "fit" else ""
    reviews = catalog.reviews_for(product.id) if topic else []
    text, cited = answer_from_summary(product, summary, aspect, topic=topic, reviews=reviews)
    turn.summary_answer = text
    turn.reviews = _passages(catalog.get_reviews(list(dict.fromkeys(cited))))
    return turn


_FIT_QUESTION = re.compile(r"\b(?:how does (?:it|this|the \w+) fit|(?:does|do) (?:it|they) run|sizing)\b", re.I)
# The words that make the record-built answer quote reviews (storebot.chat.answers), and a few more.
_REVIEW_WORDS = re.compile(_REVIEW_Q.pattern + r"|\b(?:reviewed|ratings?|rated|stars?|durab\w*|comfort\w*)\b", re.I)


def _fit_question(message: str) -> bool:
    return bool(_FIT_QUESTION.search(message))
