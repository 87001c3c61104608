"""A need and its clauses in one packed call: each text read as on its own (the real-model
tests are slow: they export the packed graph with torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.packed import PACK_LIMIT, packed_feed, pool_segments

NEED = (
    "Families on the east side are skipping meals at the end of the month; we need a weekly "
    "fresh food distribution and volunteers to run it."
)
CLAUSES = [
    "Families on the east side are skipping meals at the end of the month",
    "we need a weekly fresh food distribution",
    "volunteers to run it",
]


def test_packed_feed_lays_texts_end_to_end_with_their_own_positions() -> None:
    feed, segments = packed_feed([[101, 7, 102], [101, 102]], [[0, 0, 0], [0, 0]])
    assert feed["input_ids"].tolist() == [[101, 7, 102, 101, 102]]
    assert feed["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert feed["segment_ids"].tolist() == [[0, 0, 0, 1, 1]] == [segments.tolist()]
    assert all(v.dtype == np.int64 for v in feed.values())


def test_pool_segments_means_each_texts_tokens() -> None:
    states = np.array([[2, 0], [0, 0], [0, 3], [0, 1]], dtype=np.float32)
    got = pool_segments(states, np.array([0, 0, 1, 1]), 2)
    np.testing.assert_allclose(got, [[1, 0], [0, 1]])


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    pytest.importorskip("torch")
    return tmp_path_factory.mktemp("onnx-packed")


@pytest.mark.slow
def test_fp32_packed_vectors_are_each_texts_own(cache_dir: Path) -> None:
    """In fp32 a packed text's vector is the one it has embedded alone (to 1e-6): no text
    attends to another. Measured 1.3e-7 on the sample needs."""
    from matcher.embedding.onnx import OnnxEmbedder

    onnx = OnnxEmbedder(cache_dir, quantize=False, packed=True)
    assert onnx.packs
    texts = [NEED, *CLAUSES, "x"]
    got = onnx.encode_packed(texts)
    assert got is not None and got.shape == (5, 384)
    alone = np.concatenate([onnx.encode([t]) for t in texts])
    np.testing.assert_allclose(got, alone, atol=1e-6)


@pytest.mark.slow
def test_int8_packed_vectors_are_within_quantisation_noise(cache_dir: Path) -> None:
    """int8 activations are quantised per call, so a vector moves with what shares its call,
    in `encode`'s batches as here: cosine to the two calls of before at least 0.98."""
    from matcher.embedding.onnx import OnnxEmbedder

    onnx = OnnxEmbedder(cache_dir, quantize=True, packed=True)
    got = onnx.encode_packed([NEED, *CLAUSES])
    assert got is not None
    before = np.concatenate([onnx.encode([NEED]), onnx.encode(CLAUSES)])
    assert (got * before).sum(axis=1).min() > 0.98


@pytest.mark.slow
def test_a_packed_need_on_two_threads_has_the_same_int8_vectors(cache_dir: Path) -> None:
    """The one request in flight reads its packed need on two threads (`wide`): the same
    vectors, bit for bit, as on one thread, so a server's answer does not depend on whether
    another request was running."""
    from matcher.embedding.onnx import OnnxEmbedder

    onnx = OnnxEmbedder(cache_dir, quantize=True, packed=True)
    texts = [NEED, *CLAUSES]
    narrow = onnx.encode_packed(texts)
    wide = onnx.encode_packed(texts, wide=True)
    assert narrow is not None and wide is not None
    np.testing.assert_array_equal(wide, narrow)
    assert onnx._packed_wide is not onnx._packed_session  # a session of its own


@pytest.mark.slow
def test_packing_declines_a_long_row_and_an_embedder_not_asked_to_pack(cache_dir: Path) -> None:
    from matcher.embedding.onnx import OnnxEmbedder

    onnx = OnnxEmbedder(cache_dir, quantize=True, packed=True)
    long = " ".join(["volunteers"] * (PACK_LIMIT // 2))
    assert onnx.encode_packed([long, long, long]) is None  # over the limit: two calls
    with pytest.raises(TypeError):
        onnx.encode_packed(NEED)  # type: ignore[arg-type]
    plain = OnnxEmbedder(cache_dir, quantize=True)
    assert not plain.packs and plain.encode_packed([NEED, *CLAUSES]) is None
