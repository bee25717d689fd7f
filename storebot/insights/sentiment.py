"""Review sentiment: a calibrated classifier trained per store on its own star ratings, or the VADER lexicon.

A store's 1-2 star reviews are its negatives and its 4-5 star reviews its positives (3 stars are left out of
training). The features are the reviews' sentence embeddings (the same MiniLM vectors search uses, so nothing is
embedded twice), VADER's four scores, and TF-IDF weights of the store's own words and word pairs (in-domain
wording such as "runs small" or "see-through" that neither knows). A logistic regression is fitted with its
regularisation ``C`` chosen by cross-validation and balanced class weights, then calibrated with Platt scaling
fitted on out-of-fold decision values, so a score of 0.8 means about 80% of such reviews are positive.

Reviews are long and sentences short, and a model learned from whole reviews ranks short texts less well (it
leans on the many cues a paragraph has). So a store whose reviews have enough rated titles also gets a title
model, trained the same way on the titles alone (short texts labelled by their review's stars), and a sentence
or any other short text is scored with the mean of the two models' probabilities
(:meth:`SentimentModel.score_sentences`); whole reviews keep the review model's score.

Scores are P(positive) in [0, 1]. The VADER fallback maps its compound score from [-1, 1] to [0, 1].
A model is stored as JSON (coefficients, intercept, Platt's two numbers, TF-IDF vocabulary and IDF), never pickled.

Example:
    >>> model = SentimentModel.vader()
    >>> polarity(float(model.score(None, ["I love it, great jacket!"])[0]))
    'positive'
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

POSITIVE_AT = 0.65
NEGATIVE_AT = 0.35
FEATURES = ("embedding", "vader", "tfidf")
C_GRID = (0.1, 0.5, 2.0, 10.0)

_vader_lock = threading.Lock()
_vader: Any = None


def vader_analyzer() -> Any:
    """The VADER analyzer, built once per process (it reads its lexicon file)."""
    global _vader
    if _vader is None:
        with _vader_lock:
            if _vader is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _vader = SentimentIntensityAnalyzer()
    return _vader


def vader_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's (compound, positive, negative, neutral) per text."""
    analyzer = vader_analyzer()
    rows = []
    for text in texts:
        s = analyzer.polarity_scores(text)
        rows.append((s["compound"], s["pos"], s["neg"], s["neu"]))
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), 4)


def polarity(score: float) -> str:
    """``positive``, ``negative`` or ``mixed`` for a score in [0, 1]."""
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "mixed"


def featurize(vectors: np.ndarray | None, texts: Sequence[str], features: Sequence[str], *,
              vocabulary: Sequence[str] = (), idf: Sequence[float] = ()) -> Any:  # fmt: skip
    """The feature matrix a classifier with ``features`` reads (sparse when it has TF-IDF terms)."""
    parts: list[Any] = []
    if "embedding" in features:
        assert vectors is not None, "the embedding feature needs vectors"
        parts.append(np.asarray(vectors, dtype=np.float64))
    if "vader" in features:
        parts.append(vader_features(texts))
    if "tfidf" in features:
        from scipy import sparse

        parts = [sparse.csr_matrix(p) for p in parts] + [tfidf_matrix(texts, vocabulary, idf)]
        return sparse.hstack(parts).tocsr()
    return np.hstack(parts) if parts else np.zeros((len(texts), 0))


def tfidf_matrix(texts: Sequence[str], vocabulary: Sequence[str], idf: Sequence[float]) -> Any:
    """Sublinear TF-IDF of word unigrams and bigrams over a stored vocabulary, rows L2-normalised."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    counts = CountVectorizer(vocabulary=list(vocabulary), ngram_range=(1, 2)).transform(texts).astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)
    return normalize(counts.multiply(np.asarray(idf)).tocsr())


def fit_tfidf(texts: Sequence[str], max_terms: int = 50_000) -> tuple[list[str], list[float]]:
    """The vocabulary (terms in at least two texts) and IDF weights of ``texts``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=max_terms)
    try:
        vectorizer.fit(texts)
    except ValueError:  # no term occurs twice
        return [], []
    return [str(t) for t in vectorizer.get_feature_names_out()], [float(v) for v in vectorizer.idf_]


@dataclass
class SentimentModel:
    """A sentiment scorer stored as plain numbers: a calibrated linear classifier, or VADER.

    Example:
        >>> m = SentimentModel(kind="classifier", features=["vader"], coef=[4.0, 0, 0, 0], intercept=0.0)
        >>> round(float(m.score(None, ["This is terrible."])[0]), 2) < 0.5
        True
        >>> SentimentModel.from_dict(json.loads(json.dumps(m.to_dict()))) == m
        True
    """

    kind: str  # "classifier" or "vader"
    features: list[str] = field(default_factory=list)
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    platt: list[float] = field(default_factory=lambda: [1.0, 0.0])  # P = sigmoid(a * decision + b)
    C: float = 0.0
    embedding_model: str = ""
    trained: dict[str, int] = field(default_factory=dict)  # {"positive": n, "negative": n}
    validation: dict[str, float] = field(default_factory=dict)  # out-of-fold accuracy and macro-F1
    fingerprint: str = ""  # which reviews it was trained on
    reason: str = ""  # why VADER is used, when it is
    vocabulary: list[str] = field(default_factory=list)  # TF-IDF terms, when "tfidf" is a feature
    idf: list[float] = field(default_factory=list)
    titles: SentimentModel | None = None  # the title model that scores sentences with this one, when trained

    @classmethod
    def vader(cls, reason: str = "", fingerprint: str = "") -> SentimentModel:
        return cls(kind="vader", reason=reason, fingerprint=fingerprint)

    @property
    def needs_vectors(self) -> bool:
        return self.kind == "classifier" and "embedding" in self.features

    def score(self, vectors: np.ndarray | None, texts: Sequence[str]) -> np.ndarray:
        """P(positive) in [0, 1] per text (``vectors`` are the texts' embeddings, row for row)."""
        if not len(texts):
            return np.zeros(0)
        if self.kind == "vader":
            return (vader_features(texts)[:, 0] + 1.0) / 2.0
        return _sigmoid(self.platt[0] * self.decision(vectors, texts) + self.platt[1])

    def score_sentences(self, vectors: np.ndarray | None, texts: Sequence[str]) -> np.ndarray:
        """P(positive) per sentence (or other short text): the mean of the review and the title model."""
        scores = self.score(vectors, texts)
        if self.titles is None or not len(texts):
            return scores
        return (scores + self.titles.score(vectors, texts)) / 2.0

    def decision(self, vectors: np.ndarray | None, texts: Sequence[str]) -> np.ndarray:
        """The linear classifier's raw decision value (0 is its class-balanced boundary)."""
        x = featurize(vectors, texts, self.features, vocabulary=self.vocabulary, idf=self.idf)
        return np.asarray(x @ np.asarray(self.coef)).ravel() + self.intercept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentimentModel:
        titles = data.get("titles")
        return cls(**{**data, "titles": cls.from_dict(titles) if titles else None})


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def training_labels(ratings: Sequence[int]) -> np.ndarray:
    """1 for 4-5 stars, 0 for 1-2 stars, -1 (left out) for 3 stars or no rating."""
    return np.asarray([1 if r >= 4 else 0 if 1 <= r <= 2 else -1 for r in ratings], dtype=np.int64)


def training_fingerprint(items: Sequence[tuple[str, int, str]]) -> str:
    """A hash of (review id, rating, text hash) triples: the model is retrained only when it changes."""
    digest = hashlib.blake2b(digest_size=12)
    for item in sorted(items):
        digest.update(json.dumps(item).encode())
    return digest.hexdigest()


def train_sentiment_model(
    vectors: np.ndarray | None,
    texts: Sequence[str],
    ratings: Sequence[int],
    *,
    min_rated: int = 60,
    min_per_class: int = 15,
    features: Sequence[str] = FEATURES,
    embedding_model: str = "",
    folds: int = 5,
    seed: int = 0,
    titles: Sequence[str] = (),
    title_vectors: np.ndarray | None = None,
    title_ratings: Sequence[int] = (),
) -> SentimentModel:
    """A calibrated classifier from star-rated texts, or VADER when there are too few of either class.

    With ``titles`` (the reviews' titles, their vectors and their reviews' stars) it also trains the title model
    that :meth:`SentimentModel.score_sentences` averages in, when there are enough rated titles.
    """
    model = _train_one(vectors, texts, ratings, min_rated=min_rated, min_per_class=min_per_class,
                       features=features, embedding_model=embedding_model, folds=folds, seed=seed)  # fmt: skip
    if model.kind == "classifier" and len(titles):
        title_model = _train_one(title_vectors, titles, title_ratings, min_rated=min_rated,
                                 min_per_class=min_per_class, features=features, embedding_model=embedding_model,
                                 folds=folds, seed=seed)  # fmt: skip
        model.titles = title_model if title_model.kind == "classifier" else None
    return model


def _train_one(vectors: np.ndarray | None, texts: Sequence[str], ratings: Sequence[int], *, min_rated: int,
               min_per_class: int, features: Sequence[str], embedding_model: str, folds: int,
               seed: int) -> SentimentModel:  # fmt: skip
    labels = training_labels(ratings)
    keep = labels >= 0
    y = labels[keep]
    positives, negatives = int(y.sum()), int((y == 0).sum())
    counts = {"positive": positives, "negative": negatives}
    if positives + negatives < min_rated or min(positives, negatives) < max(min_per_class, folds):
        reason = (f"{positives + negatives} rated reviews ({positives} positive, {negatives} negative); "
                  f"the classifier needs {min_rated}, with {min_per_class} of each")  # fmt: skip
        model = SentimentModel.vader(reason=reason)
        model.trained = counts
        return model

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    kept = [t for t, k in zip(texts, keep, strict=True) if k]
    vocabulary, idf = fit_tfidf(kept) if "tfidf" in features else ([], [])
    x = featurize(vectors[keep] if vectors is not None else None, kept, features, vocabulary=vocabulary, idf=idf)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    best_c, best_loss, best_oof = C_GRID[0], math.inf, np.zeros(len(y))
    for c in C_GRID:
        clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)
        oof = cross_val_predict(clf, x, y, cv=cv, method="decision_function")
        loss = _log_loss(y, _platt_probabilities(oof, y))
        if loss < best_loss:
            best_c, best_loss, best_oof = c, loss, oof
    clf = LogisticRegression(C=best_c, class_weight="balanced", solver="liblinear", max_iter=1000).fit(x, y)
    a, b = _fit_platt(best_oof, y)
    predicted = (_sigmoid(a * best_oof + b) >= 0.5).astype(int)
    return SentimentModel(
        kind="classifier", features=list(features), coef=[float(v) for v in clf.coef_[0]],
        intercept=float(clf.intercept_[0]), platt=[a, b], C=best_c, embedding_model=embedding_model,
        trained=counts, validation={"accuracy": round(float((predicted == y).mean()), 4),
                                    "macro_f1": round(macro_f1(y, predicted), 4)},
        vocabulary=vocabulary, idf=idf,
    )  # fmt: skip


def _fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a one-feature logistic regression on decision values."""
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e6, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return float(platt.coef_[0][0]), float(platt.intercept_[0])


def _platt_probabilities(decision: np.ndarray, y: np.ndarray) -> np.ndarray:
    a, b = _fit_platt(decision, y)
    return _sigmoid(a * decision + b)


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def macro_f1(y: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray) -> float:
    """The mean of the positive and the negative class's F1."""
    y, predicted = np.asarray(y), np.asarray(predicted)
    scores = []
    for cls in (0, 1):
        tp = float(((predicted == cls) & (y == cls)).sum())
        fp = float(((predicted == cls) & (y != cls)).sum())
        fn = float(((predicted != cls) & (y == cls)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))
