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
