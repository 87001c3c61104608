"""The real all-MiniLM-L6-v2 model (loaded once per session by the `torch_embedder` fixture)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.embedding.base import Embedder
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


def test_similar_sentences_are_closer(torch_embedder: SentenceTransformerEmbedder) -> None:
    v = torch_embedder.encode(
        [
            "We run a food bank that feeds hungry families.",
            "Our pantry distributes groceries to households facing food insecurity.",
            "We install solar panels on commercial rooftops.",
        ]
    )
    assert isinstance(torch_embedder, Embedder)
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert v[0] @ v[1] > v[1] @ v[2] + 0.2


def test_order_preserved_with_mixed_lengths(torch_embedder: SentenceTransformerEmbedder) -> None:
    texts = [
        "short",
        "A much longer description of a nonprofit that runs after-school tutoring, "
        "mentoring, and summer coding camps for teenagers across three counties. " * 3,
        "medium length text about housing",
        "",
        "x",
    ]
    together = torch_embedder.encode(texts)
    one_by_one = np.vstack([torch_embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)
    assert torch_embedder.encode([]).shape == (0, 384)


def test_batches_smaller_than_input(torch_embedder: SentenceTransformerEmbedder) -> None:
    texts = [f"organisation number {i} offering {'help ' * (i % 7)}" for i in range(70)]
    small = SentenceTransformerEmbedder(batch_size=8)
    small._model = torch_embedder._model  # share the weights: load the model once per session
    np.testing.assert_allclose(
        small.encode(texts, progress=True), torch_embedder.encode(texts), atol=1e-4
    )
