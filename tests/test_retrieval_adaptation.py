"""Domain adaptation: catalog pairs, and a real (tiny) fine-tune of the bundled model that loads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from storebot.retrieval.adaptation import adapt_embedding_model, catalog_pairs


def test_catalog_pairs_skip_empty_and_repeated_titles() -> None:
    pairs = catalog_pairs(
        ["Rain shell", "rain shell ", "Mug", "Tent"],
        ["Waterproof and light.", "A copy.", "", " ".join(["word"] * 100)],
        max_words=5,
    )
    assert pairs == [("Rain shell", "Waterproof and light."), ("Tent", "word word word word word")]


def test_too_few_pairs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least two"):
        adapt_embedding_model([("a", "b")], "all-MiniLM-L6-v2", tmp_path)


@pytest.mark.slow
def test_adapted_model_saves_and_embeds(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    pairs = [(f"Product {i}", f"A description of product number {i}.") for i in range(8)]
    out = adapt_embedding_model([*pairs, "a plain text"], "all-MiniLM-L6-v2", tmp_path / "m", batch_size=4,
                                max_seconds=60)  # fmt: skip
    model = SentenceTransformer(str(out), device="cpu")
    vectors = model.encode(["rain shell"], normalize_embeddings=True)
    assert vectors.shape == (1, 384)
    assert model.max_seq_length == 256  # the training window is not saved as the model's
