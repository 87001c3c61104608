"""The reading stage: a need's clauses are embedded one by one, each cached by its text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.hashing import HashingEmbedder
from matcher.query_reader import QueryReader
from matcher.settings import Settings

VOLUNTEERS = "volunteers for Saturday distributions"
TRUCKS = "refrigerated trucks for deliveries"
FREEZER = "funding for a walk-in freezer with room for a month of donated produce"


class RecordingEmbedder:
    """An embedder that records every text it is asked to embed."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_name = inner.model_name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], **kw: object) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts, **kw)  # type: ignore[attr-defined,no-any-return]


def _reader(embedder: object, tmp_path: Path, **settings: object) -> QueryReader:
    return QueryReader(
        embedder,  # type: ignore[arg-type]
        Settings(data_dir=tmp_path, **settings),  # type: ignore[arg-type]
        lambda: None,
    )


def test_a_clause_two_texts_share_is_embedded_once(tmp_path: Path) -> None:
    """A need and its topic (the need without place words) share most clauses: only the
    clauses that differ are embedded again (before, every clause of both texts was)."""
    embedder = RecordingEmbedder(HashingEmbedder())
    reader = _reader(embedder, tmp_path)
    first = reader.clause_vectors(f"We need {VOLUNTEERS}, {TRUCKS}")
    second = reader.clause_vectors(f"We need {VOLUNTEERS}, {FREEZER}")
    embedded = [text for call in embedder.calls for text in call]
    assert embedded == [f"We need {VOLUNTEERS}", TRUCKS, FREEZER]
    assert all(len(call) == 1 for call in embedder.calls)
    np.testing.assert_array_equal(first[0], second[0])
    assert first.shape == second.shape == (2, 384)


def test_with_no_cache_nothing_is_kept(tmp_path: Path) -> None:
    embedder = RecordingEmbedder(HashingEmbedder())
    reader = _reader(embedder, tmp_path, query_cache_size=0)
    text = f"We need {VOLUNTEERS}, {TRUCKS}"
    once = reader.clause_vectors(text)
    reader.vector(text)
    calls = len(embedder.calls)
    np.testing.assert_array_equal(reader.clause_vectors(text), once)
    reader.vector(text)
    assert len(embedder.calls) == 2 * calls  # embedded again: the benchmarks measure this


def test_the_cache_keeps_at_most_its_size(tmp_path: Path) -> None:
    reader = _reader(HashingEmbedder(), tmp_path, query_cache_size=3)
    for i in range(10):
        reader.vector(f"need number {i} about food")
    assert len(reader._cache) == 3


@pytest.mark.slow
def test_a_clause_reads_the_same_beside_any_other_clauses(tmp_path: Path) -> None:
    """The int8 model quantises a call's activations together, and a batch pads its texts to
    the longest: a clause embedded beside others moved with them (cosine 0.98-0.99). Each
    clause now has one vector, whatever the need around it."""
    pytest.importorskip("onnxruntime")
    from matcher.embedding.factory import create_embedder

    settings = Settings(data_dir=tmp_path)
    embedder = create_embedder(settings)
    beside_trucks = QueryReader(embedder, settings, lambda: None)
    beside_freezer = QueryReader(embedder, settings, lambda: None)  # its own cache
    a = beside_trucks.clause_vectors(f"We need {VOLUNTEERS}, {TRUCKS}")
    b = beside_freezer.clause_vectors(f"We need {VOLUNTEERS}, {FREEZER} and a van")
    np.testing.assert_array_equal(a[0], b[0])
    alone = QueryReader(embedder, settings, lambda: None).vector(f"We need {VOLUNTEERS}")
    assert float(a[0] @ alone) > 0.999  # the clause as a query of its own: the same text
