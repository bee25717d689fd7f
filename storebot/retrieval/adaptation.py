"""Adapt the embedding model to a store's own catalog, without relevance labels.

A short contrastive fine-tune with in-batch negatives
(``MultipleNegativesRankingLoss``): each product's title is pulled towards its
own description and pushed away from the other products' descriptions in the
batch. Shoppers type title-like queries, so this teaches the model the
catalog's vocabulary (brands, product types, jargon) in the direction search
uses it. Plain texts with no pair become ``(text, text)`` pairs, where dropout
is the only augmentation (SimCSE).

It runs on CPU within a time budget (``max_seconds``) and writes a normal
sentence-transformers model directory that ``SentenceTransformerEmbeddings``
loads by path. Run it off the request path (a Celery task), then re-embed the
catalog with the new model: the embedding cache is keyed by model id, so old
and new vectors never mix.

Opt-in, and measure before switching: on the labelled CrowdFlower product set
(``bench/search.py --adapt-seconds 420``) six to seven minutes of it on two
cores *lowered* nDCG@10, vector-only and hybrid alike, both with
title <-> description pairs and with title-crop <-> product-text pairs.
all-MiniLM-L6-v2 already matches short product queries well; a few hundred
steps of in-batch contrastive training on one catalog mostly pulls it away.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path

from storebot.retrieval.embeddings import resolve_model_path

log = logging.getLogger(__name__)

Pair = tuple[str, str]


def catalog_pairs(titles: Sequence[str], descriptions: Sequence[str], *, max_words: int = 48) -> list[Pair]:
    """``(title, first words of its description)`` per product with both; repeated titles dropped.

    The positive leaves the title out: with it, the pair is matched by copying
    words and the model learns nothing.

    Example:
        >>> catalog_pairs(["Rain shell", "Mug"], ["Waterproof and light.", ""])
        [('Rain shell', 'Waterproof and light.')]
    """
    seen: set[str] = set()
    pairs: list[Pair] = []
    for title, description in zip(titles, descriptions, strict=True):
        words = description.split()
        key = title.strip().casefold()
        if not words or not key or key in seen:
            continue
        seen.add(key)
        pairs.append((title, " ".join(words[:max_words])))
    return pairs


def _as_pairs(texts_or_pairs: Sequence[str | Pair]) -> list[Pair]:
    pairs: list[Pair] = []
    for item in texts_or_pairs:
        if isinstance(item, str):
            if item.strip():
                pairs.append((item, item))
        elif item[0].strip() and item[1].strip():
            pairs.append((item[0], item[1]))
    return pairs


def adapt_embedding_model(
    texts_or_pairs: Sequence[str | Pair],
    base_model_path: str | Path,
    output_dir: str | Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    max_seconds: float = 300.0,
    learning_rate: float = 2e-5,
    max_seq_length: int = 64,
    seed: int = 7,
) -> Path:
    """Fine-tune a sentence-transformers model contrastively on catalog text and save it.

    Args:
        texts_or_pairs: ``(anchor, positive)`` pairs such as :func:`catalog_pairs`, or plain texts.
        base_model_path: A model name known to ``resolve_model_path`` or a model directory.
        output_dir: Where the adapted model is written (created if missing).
        epochs: Passes over the pairs; training stops earlier when ``max_seconds`` runs out.
        batch_size: Pairs per step; each pair's negatives are the batch's other positives.
        max_seconds: Wall-clock budget for the training loop (loading and saving excluded).
        learning_rate: AdamW learning rate, with a 10% linear warm-up.
        max_seq_length: Token window while training, shorter than the model's for speed.
        seed: Shuffling and initialisation seed.

    Returns:
        ``output_dir`` as a ``Path``, holding the adapted model.

    Raises:
        ValueError: When fewer than two usable pairs are given.
    """
    pairs = _as_pairs(texts_or_pairs)
    if len(pairs) < 2:
        raise ValueError("adapt_embedding_model needs at least two non-empty texts or pairs from the catalog")
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 moved the losses
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:  # pragma: no cover - older releases
        from sentence_transformers.losses import MultipleNegativesRankingLoss

    random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(resolve_model_path(str(base_model_path)), device="cpu")
    window = model.max_seq_length
    model.max_seq_length = min(max_seq_length, window)
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    steps_per_epoch = max(1, len(pairs) // batch_size)
    total = steps_per_epoch * max(1, epochs)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    # sentence-transformers 5.x renamed tokenize() to preprocess(); accept both.
    encode = getattr(model, "preprocess", None) or model.tokenize
    model.train()
    start, step = time.monotonic(), 0
    for epoch in range(max(1, epochs)):
        random.shuffle(pairs)
        for first in range(0, steps_per_epoch * batch_size, batch_size):
            if time.monotonic() - start > max_seconds:
                break
            batch = pairs[first : first + batch_size]
            features = [encode([a for a, _ in batch]), encode([b for _, b in batch])]
            loss = loss_fn(features, None)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            if step % 20 == 0:
                log.info("adapt epoch %d step %d/%d loss %.4f %.0fs", epoch, step, total, loss.item(),
                         time.monotonic() - start)  # fmt: skip
    log.info("adapted %s for %d steps in %.0fs", base_model_path, step, time.monotonic() - start)
    model.eval()
    model.max_seq_length = window
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    return out
