"""The optional onnxruntime backend agrees with torch (skipped without onnxruntime and onnx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.base import Embedder
from matcher.embedding.sentence_transformer import SentenceTransformerEmbedder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from matcher.embedding.onnx import INT8_SUFFIX, OnnxEmbedder  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = [
    "Community food bank distributing groceries to families.",
    "We install solar panels on schools and offer energy audits for small businesses. " * 4,
    "",
    "Mentoring for teenagers",
    "City housing authority funding affordable housing and emergency shelters.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.parametrize(("quantize", "min_cosine"), [(False, 0.999), (True, 0.97)])
def test_onnx_matches_torch(
    torch_embedder: SentenceTransformerEmbedder, cache_dir: Path, quantize: bool, min_cosine: float
) -> None:
    onnx = OnnxEmbedder(cache_dir, quantize=quantize, batch_size=2, threads=1)
    assert isinstance(onnx, Embedder)
    assert onnx.model_name.endswith(INT8_SUFFIX) == quantize
    got = onnx.encode(TEXTS)
    want = torch_embedder.encode(TEXTS)
    assert got.shape == (5, 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    cosines = (got * want).sum(axis=1)
    print(f"\nonnx {'int8' if quantize else 'fp32'} cosine to torch: {cosines.round(4)}")
    assert cosines.min() > min_cosine
    assert onnx.encode([]).shape == (0, 384)
    assert (cache_dir / next(p.name for p in cache_dir.iterdir()) / "model.onnx").is_file()


def test_small_inputs_run_on_one_thread_with_the_same_vectors(cache_dir: Path) -> None:
    """With no thread count configured, a request's few texts run on a one-thread session (a
    second spinning thread doubled a query's CPU) and larger inputs on the all-cores one: the
    vectors are the same either way."""
    from matcher.embedding import onnx as onnx_module

    onnx = OnnxEmbedder(cache_dir, quantize=True).load()
    small, large = onnx._small_session, onnx._session
    assert small is not large
    assert small.get_session_options().intra_op_num_threads == 1
    assert large.get_session_options().intra_op_num_threads != 1
    texts = [t for t in TEXTS if t] * 3
    on_small = onnx.encode(texts)
    assert len(texts) <= onnx_module.SMALL_INPUT
    calls: list[object] = []
    real_run = large.run

    class Spy:
        def run(self, *args: object) -> object:
            calls.append(args)
            return real_run(*args)

    onnx._session = Spy()
    try:
        original = onnx_module.SMALL_INPUT
        onnx_module.SMALL_INPUT = 0
        on_large = onnx.encode(texts)
    finally:
        onnx_module.SMALL_INPUT = original
        onnx._session = large
    assert calls, "a large input must run on the all-cores session"
    np.testing.assert_array_equal(on_small, on_large)
    configured = OnnxEmbedder(cache_dir, quantize=True, threads=2).load()
    assert configured._small_session is configured._session
