"""The benchmarks' caching embedder: the engine rows read needs as a server would."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.onnx import SMALL_INPUT
from training.benchmarks.embeddings import EmbeddingStore, text_hash
from training.benchmarks.engine_runner import BenchEmbedder


class ServingModel:
    """A model whose vectors mark where they came from (a server's call, a packed row)."""

    packed = True
    packs = True

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.calls: list[list[str]] = []
        self.packed_calls: list[tuple[list[str], bool]] = []

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts)

    def encode_packed(self, texts: Sequence[str], *, wide: bool = False) -> np.ndarray:
        self.packed_calls.append((list(texts), wide))
        return -self.inner.encode(texts)


def _bench(tmp_path: Path, model: ServingModel, *, serve: bool) -> BenchEmbedder:
    store = EmbeddingStore(tmp_path / "cache", "m")
    cached = np.ones((1, 384), np.float32) / np.sqrt(384)
    store.put([text_hash("a need")], cached)  # what the cache says, unlike the model
    return BenchEmbedder(
        store, lambda: model.encode, model_name="m", span_model=model, serve_queries=serve
    )


def test_serving_queries_reads_a_requests_texts_through_the_model(tmp_path: Path) -> None:
    """With serve_queries a request's few texts come from the model as a server reads them,
    never from the cache (whose vectors were embedded beside other texts); large inputs (a
    build's profiles) still use the cache."""
    model = ServingModel()
    served = _bench(tmp_path, model, serve=True).encode(["a need"])
    np.testing.assert_array_equal(served, HashingEmbedder().encode(["a need"]))
    assert model.calls == [["a need"]]
    cached = _bench(tmp_path, ServingModel(), serve=False).encode(["a need"])
    np.testing.assert_allclose(cached, np.ones((1, 384)) / np.sqrt(384), rtol=1e-6)
    big = [f"profile {i}" for i in range(SMALL_INPUT + 1)]
    model.calls.clear()
    bench = _bench(tmp_path, model, serve=True)
    bench.encode(big)
    bench.encode(big)  # the second time from the cache
    assert model.calls == [big]


def test_the_engine_packs_a_need_in_a_benchmark_as_its_settings_say(tmp_path: Path) -> None:
    """The benchmark embedder packs when the engine's model does (before, it had no
    `encode_packed`, so T4 measured unpacked reading whatever the setting)."""
    model = ServingModel()
    bench = _bench(tmp_path, model, serve=False)
    assert bench.packed and bench.packs
    got = bench.encode_packed(["a", "b"], wide=True)
    np.testing.assert_array_equal(got, -HashingEmbedder().encode(["a", "b"]))
    assert model.packed_calls == [(["a", "b"], True)]
    plain = BenchEmbedder(EmbeddingStore(tmp_path / "c2", "m"), lambda: model.encode)
    assert not plain.packed and not plain.packs
