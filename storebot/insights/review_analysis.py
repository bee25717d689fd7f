"""Analyse a store's reviews: sentiment per review and per sentence, aspects, fit remarks, then summaries.

:func:`analyze_reviews` is what the ``storebot.analyze_reviews`` task runs after every review sync. It reads
the reviews through the catalog repository, embeds them with the shared embedder (whose Redis cache means
unchanged text is never embedded again), trains the store's sentiment model when its rated reviews changed
(or uses VADER when there are too few), and replaces the stored analysis in one atomic step. Running it twice
on the same reviews is a no-op.

Example:
    >>> result = analyze_reviews(catalog, ReviewInsightsStore(client, keys), embedder)  # doctest: +SKIP
    >>> result["model"], result["analyzed"]                                             # doctest: +SKIP
    ('classifier', 1165)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from storebot.catalog.models import Review
from storebot.catalog.repository import CatalogRepository
from storebot.insights.aspects import ASPECTS, PrototypeIndex, fit_remark, fixed_aspects, review_sentences
from storebot.insights.discovery import DiscoveredAspect, catalog_words, discover_aspects
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.review_summary import summarize_product
from storebot.insights.sentiment import SentimentModel, polarity, train_sentiment_model, training_fingerprint
from storebot.retrieval.documents import review_passage
from storebot.retrieval.embeddings import text_hash

MODEL_VERSION = 3  # bump when the analysis changes, so stored analyses and models are redone (3: quotes)
CLEARLY = 0.25  # a sentence scoring <= 0.25 or >= 0.75 is clearly negative or positive


@dataclass(frozen=True)
class AnalysisSettings:
    """How a store's reviews are analysed (from the SENTIMENT_* and ASPECTS_* settings).

    Example:
        >>> AnalysisSettings.from_settings({"SENTIMENT_MIN_RATED_REVIEWS": 60}).min_rated
        60
    """

    min_rated: int = 60
    min_per_class: int = 15
    discovered: int = 8
    prototype_threshold: float = 0.6

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> AnalysisSettings:
        return cls(
            min_rated=int(settings.get("SENTIMENT_MIN_RATED_REVIEWS", cls.min_rated)),
            min_per_class=int(settings.get("SENTIMENT_MIN_PER_CLASS", cls.min_per_class)),
            discovered=int(settings.get("ASPECTS_DISCOVERED", cls.discovered)),
        )


def analyze_reviews(catalog: CatalogRepository, insights: ReviewInsightsStore, embedder: Any,
                    settings: AnalysisSettings | None = None, *, force: bool = False) -> dict[str, Any]:  # fmt: skip
    """Analyse every review of the store and replace its summaries; skipped when the reviews did not change."""
    settings = settings or AnalysisSettings()
    version = catalog.version("reviews")
    meta = insights.meta()
    wanted = _settings_tag(settings)
    if not force and meta and meta.get("reviews_version") == version and meta.get("settings") == wanted:
        return {"state": "unchanged", "model": meta["model"], "analyzed": meta["analyzed"], "version": version}
    reviews = sorted(catalog.iter_reviews(), key=lambda r: r.id)
    texts = [review_passage(r) for r in reviews]
    vectors = embedder.encode(texts) if reviews else None
    model = _model(insights.model(), reviews, texts, vectors, settings, embedder)
    scores = model.score(vectors, texts) if reviews else np.zeros(0)

    sentences = [review_sentences(r.title, r.body) for r in reviews]
    flat = [s for group in sentences for s in group]
    sentence_vectors = embedder.encode(flat) if flat else np.zeros((0, 1))
    sentence_scores = model.score_sentences(sentence_vectors, flat) if flat else np.zeros(0)
    prototypes = PrototypeIndex(embedder.encode)
    products = catalog.get_products(sorted({r.product_id for r in reviews}))
    exclude = catalog_words(products) | set(catalog.keys.store_id.lower().replace("-", " ").split())
    discovered = discover_aspects(sentences, embedder.encode, exclude=exclude, limit=settings.discovered)

    analyses, at = [], 0
    for review, group, score in zip(reviews, sentences, scores, strict=True):
        span = slice(at, at + len(group))
        analyses.append(analyze_review(review, float(score), model.kind, group, sentence_vectors[span],
                                       sentence_scores[span], prototypes, discovered, settings))  # fmt: skip
        at += len(group)

    updated_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    labels = aspect_labels(discovered)
    by_product: dict[str, list[dict[str, Any]]] = {}
    for analysis in analyses:
        by_product.setdefault(analysis["product_id"], []).append(analysis)
    summaries = [summarize_product(pid, items, labels, model.kind, updated_at) for pid, items in by_product.items()]
    new_meta = {"reviews_version": version, "settings": wanted, "model": model.kind, "analyzed": len(analyses),
                "products": len(summaries), "updated_at": updated_at,
                "discovered_aspects": [a.to_dict() for a in discovered]}  # fmt: skip
    insights.replace(model, analyses, summaries, new_meta)
    return {"state": "analyzed", "model": model.kind, "analyzed": len(analyses), "products": len(summaries),
            "discovered_aspects": [a.key for a in discovered], "version": version}  # fmt: skip


def _settings_tag(settings: AnalysisSettings) -> str:
    return (f"{MODEL_VERSION}/{settings.min_rated}/{settings.min_per_class}/{settings.discovered}/"
            f"{settings.prototype_threshold}")  # fmt: skip


def _model(stored: SentimentModel | None, reviews: list[Review], texts: list[str], vectors: Any,
           settings: AnalysisSettings, embedder: Any) -> SentimentModel:  # fmt: skip
    """The stored model while the rated reviews it learned from are unchanged; otherwise a new one."""
    rated = [(r.id, int(r.rating), text_hash(t)) for r, t in zip(reviews, texts, strict=True)]
    fingerprint = training_fingerprint(rated) + ":" + _settings_tag(settings)
    if stored is not None and stored.fingerprint == fingerprint and stored.embedding_model in ("", embedder.model_id):
        return stored
    titled = [r for r in reviews if r.title.strip()]
    titles = [r.title.strip() for r in titled]  # the sentence model's short texts (embedded once: cached)
    model = train_sentiment_model(vectors, texts, [r.rating for r in reviews], min_rated=settings.min_rated,
                                  min_per_class=settings.min_per_class, embedding_model=embedder.model_id,
                                  titles=titles, title_vectors=embedder.encode(titles) if titles else None,
                                  title_ratings=[r.rating for r in titled])  # fmt: skip
    model.fingerprint = fingerprint
    return model


def aspect_labels(discovered: list[DiscoveredAspect]) -> dict[str, str]:
    """Aspect key -> label, fixed aspects first."""
    return {**{k: a.label for k, a in ASPECTS.items()}, **{a.key: a.label for a in discovered}}


def analyze_review(review: Review, score: float, model_kind: str, sentences: list[str], vectors: np.ndarray,
                   sentence_scores: np.ndarray, prototypes: PrototypeIndex | None,
                   discovered: list[DiscoveredAspect], settings: AnalysisSettings) -> dict[str, Any]:  # fmt: skip
    """One review's sentiment, aspect mentions (each with its sentence's sentiment) and fit remark."""
    mentions: list[dict[str, Any]] = []
    fit, fit_sentence = None, ""
    for i, sentence in enumerate(sentences):
        vector = vectors[i] if len(vectors) > i else None
        found = [m.aspect for m in fixed_aspects(sentence, vector, prototypes, settings.prototype_threshold)]
        found += [a.key for a in discovered if a.matches(sentence)]
        s_score = float(sentence_scores[i])
        for key in dict.fromkeys(found):
            mentions.append({"aspect": key, "sentiment": polarity(s_score), "score": round(s_score, 4),
                             "sentence": sentence})  # fmt: skip
        remark = fit_remark(sentence)
        if remark and fit is None:
            fit, fit_sentence = remark, sentence
    label = polarity(score)
    clearly_positive = any(m["score"] >= 1 - CLEARLY for m in mentions)
    clearly_negative = any(m["score"] <= CLEARLY for m in mentions)
    if label != "mixed" and clearly_positive and clearly_negative and 0.1 < score < 0.95:
        label = "mixed"  # praise and complaint in one review, neither overwhelming
    return {"id": review.id, "product_id": review.product_id, "rating": review.rating, "date": review.date,
            "score": round(score, 4), "polarity": label, "model": model_kind, "aspects": mentions,
            "fit": fit, "fit_sentence": fit_sentence}  # fmt: skip
