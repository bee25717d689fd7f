"""Data for bench/sentiment.py: the clothing reviews with stars and the UCI labelled sentences.

Read from ``../shared/data/sentiment`` (never copied into the repository); vectors are cached on disk under
``.storebot/bench-cache/`` keyed by content hash, so reruns embed nothing.
"""

from __future__ import annotations

import csv
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "sentiment"
CACHE = ROOT / ".storebot" / "bench-cache" / "sentiment-embeddings.sqlite"


@dataclass
class Labelled:
    """Texts with a binary label (1 positive, 0 negative) and, for reviews, the star rating."""

    texts: list[str]
    labels: list[int]
    stars: list[int]
    titles: list[str] = field(default_factory=list)  # each review's own title ("" when it has none)


def review_text(title: str, body: str) -> str:
    """The text storebot embeds for a review (its search passage: title, then body)."""
    from storebot.catalog.models import Review
    from storebot.retrieval.documents import review_passage

    return review_passage(Review(id="x", product_id="x", rating=0, title=title.strip(), body=body.strip()))


def load_clothing(limit: int = 0) -> Labelled:
    """The women's clothing reviews with text and 1-2 or 4-5 stars, in file order (3 stars left out)."""
    csv.field_size_limit(sys.maxsize)
    texts, labels, stars, titles = [], [], [], []
    with (DATA / "womens_clothing_reviews" / "womens_clothing_ecommerce_reviews.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            body, rating = (row.get("Review Text") or "").strip(), int(row["Rating"])
            if not body or rating == 3:
                continue
            texts.append(review_text(row.get("Title") or "", body))
            labels.append(1 if rating >= 4 else 0)
            stars.append(rating)
            titles.append((row.get("Title") or "").strip())
    if limit:
        texts, labels, stars, titles = texts[:limit], labels[:limit], stars[:limit], titles[:limit]
    return Labelled(texts, labels, stars, titles)


def load_uci(name: str) -> Labelled:
    """One UCI file (``amazon_cells``, ``yelp`` or ``imdb``): sentence<TAB>label."""
    texts, labels = [], []
    with (DATA / "uci_sentences" / f"{name}_labelled.txt").open(encoding="utf-8") as fh:
        for line in fh:
            sentence, _, label = line.rstrip("\n").rpartition("\t")
            if sentence.strip() and label.strip() in {"0", "1"}:
                texts.append(sentence.strip())
                labels.append(int(label))
    return Labelled(texts, labels, [])


def split(n: int, seed: int = 6, test: float = 0.2, validation: float = 0.1) -> tuple[list[int], list[int], list[int]]:
    """A deterministic (train, validation, test) split of ``range(n)``."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_test, n_val = int(n * test), int(n * validation)
    return sorted(order[n_test + n_val :]), sorted(order[n_test : n_test + n_val]), sorted(order[:n_test])


def embedder():  # type: ignore[no-untyped-def]
    """storebot's MiniLM embedder over the on-disk cache."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT / "bench"))
    from common import SqliteEmbeddingCache

    from storebot.retrieval.embeddings import SentenceTransformerEmbeddings

    return SentenceTransformerEmbeddings(cache=SqliteEmbeddingCache(CACHE))


if __name__ == "__main__":  # warm the cache: python bench/sentiment_data.py
    emb = embedder()
    emb.show_progress = True
    for data in (load_uci("amazon_cells"), load_uci("yelp"), load_clothing()):
        emb.encode(data.texts)
        emb.encode([t for t in data.titles if t])
    print("cached:", CACHE)
