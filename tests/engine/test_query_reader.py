"""The reading stage: a need's clauses are embedded one by one, each cached by its text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

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


def test_the_clauses_of_a_need_and_its_topic_take_one_pass(tmp_path: Path) -> None:
    """A need with place words is read twice (its topic, without them, and as written, whose
    clauses are quoted back): their clauses now go through the model in one call, a clause
    both share once. Each call costs 1-2 ms of CPU whatever its length."""
    embedder = RecordingEmbedder(HashingEmbedder())
    reader = _reader(embedder, tmp_path)
    topic = f"We need {VOLUNTEERS}, {TRUCKS}"
    written = f"We need {VOLUNTEERS} in Hartford, {TRUCKS}"
    topic_vecs, written_vecs = reader.clause_vectors_of([topic, written])
    assert embedder.calls == [
        [f"We need {VOLUNTEERS}", TRUCKS, f"We need {VOLUNTEERS} in Hartford"]
    ]
    assert topic_vecs.shape == written_vecs.shape == (2, 384)
    np.testing.assert_array_equal(topic_vecs[1], written_vecs[1])  # the shared clause
    np.testing.assert_array_equal(reader.clause_vectors(topic), topic_vecs)  # cached
    assert len(embedder.calls) == 1
    alone = _reader(RecordingEmbedder(HashingEmbedder()), tmp_path).clause_vectors(written)
    np.testing.assert_allclose(alone, written_vecs, atol=1e-6)


def test_an_engine_reads_a_need_with_place_words_in_two_passes(tmp_path: Path) -> None:
    from matcher.domain import Need
    from matcher.engine import Engine, topic_text

    settings = Settings(data_dir=tmp_path, model_name="hashing-v1")
    embedder = RecordingEmbedder(HashingEmbedder())
    embedder.model_name = "recording-v1"  # not the hashing model's name: asks read by meaning
    from tests.engine.conftest import small_corpus

    engine = Engine.open(settings, embedder=embedder, load=False)  # type: ignore[arg-type]
    engine.store.upsert_organisations(small_corpus())
    engine.build()
    assert engine.meaning is not None  # the asks are read from the clauses by meaning
    need = Need(id="n", text=f"Families in Hartford, Connecticut need {VOLUNTEERS}, {TRUCKS}")
    assert "Hartford" not in topic_text(need)  # read as a place, not as topic
    embedder.calls.clear()
    engine.read_need(need)
    assert len(embedder.calls) == 2, embedder.calls  # the query, then every clause (was 3)
    engine.close()


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
