"""Clauses read from the need's own pass: span pooling, the token-states graph, and the
engine's one pass per request (the real-model tests are slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.spans import TOKENS_OUTPUT, locate, pool_spans, tokens_graph
from matcher.evidence import clauses

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def test_locate_finds_each_part_in_order_and_repeats_from_the_cursor() -> None:
    text = "food and food, then more food"
    assert locate(text, ["food", "food", "then more food"]) == [(0, 4), (9, 13), (15, 29)]
    assert locate(text, ["more food", "food"]) == [(20, 29), (0, 4)]  # searched again from 0
    assert locate(text, ["absent"]) == [(0, 0)]


def test_pool_spans_means_the_tokens_inside_each_span() -> None:
    states = np.array([[9, 9], [1, 0], [3, 0], [0, 2], [9, 9], [5, 5]], dtype=np.float32)
    offsets = [(0, 0), (0, 4), (5, 8), (9, 12), (0, 0), (0, 0)]  # CLS, 3 words, SEP, pad
    vecs, empty = pool_spans(states, offsets, [(0, 8), (9, 12), (20, 30), (5, 12)])
    assert empty == [2]  # beyond the tokens (cut by the length limit)
    np.testing.assert_allclose(vecs[0], [1, 0])  # mean (2, 0), normalised; CLS left out
    np.testing.assert_allclose(vecs[1], [0, 1])
    np.testing.assert_allclose(vecs[2], [0, 0])
    np.testing.assert_allclose(vecs[3], np.array([3, 2]) / np.hypot(3, 2), rtol=1e-6)


def _mean_pooling_graph(path: Path, *, pooled: bool = True) -> None:
    """hidden = LayerNorm(x); out = sum(hidden * mask) (the shape of the exported pooling),
    or, with `pooled` False, a graph with no such pooling."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 4])
    mask = helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["b", "t", 1])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", 4])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [4], [0.0, 0.5, 0.0, -0.5])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["hidden"], axis=-1),
        helper.make_node("Mul", ["hidden", "mask"], ["masked"]),
        helper.make_node("ReduceSum" if pooled else "ReduceMax", ["masked", "axes"], ["out"]),
    ]
    if not pooled:
        nodes[-1] = helper.make_node("ReduceMax", ["masked"], ["out"], axes=[1], keepdims=0)
    else:
        nodes[-1].attribute.append(helper.make_attribute("keepdims", 0))
    graph = helper.make_graph(nodes, "pool", [x, mask], [out], [scale, bias, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def test_tokens_graph_adds_the_hidden_states_and_keeps_the_pooled_output(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    _mean_pooling_graph(source)
    derived = tokens_graph(source)
    assert derived is not None and derived.name == "model-tokens.onnx"
    assert tokens_graph(source) == derived  # made once
    rng = np.random.default_rng(0)
    feed = {
        "x": rng.normal(size=(2, 5, 4)).astype(np.float32),
        "mask": np.ones((2, 5, 1), np.float32),
    }
    before = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(str(derived), providers=["CPUExecutionProvider"])
    pooled, states = after.run(["out", TOKENS_OUTPUT], feed)
    np.testing.assert_array_equal(pooled, before.run(["out"], feed)[0])
    x = feed["x"]
    norm = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(states, norm * [1, 2, 3, 4] + [0, 0.5, 0, -0.5], atol=1e-5)


def test_an_export_folder_that_cannot_be_written_gives_no_tokens_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher.embedding import spans

    source = tmp_path / "model.onnx"
    _mean_pooling_graph(source)

    def refuse(path: object, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(spans, "atomic_write_bytes", refuse)
    assert tokens_graph(source) is None  # the embedder then reads clauses as texts
    assert not (tmp_path / "model-tokens.onnx").exists()


def test_a_graph_without_mean_pooling_gives_no_tokens_graph(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    _mean_pooling_graph(source, pooled=False)
    assert tokens_graph(source) is None
    assert not (tmp_path / "model-tokens.onnx").exists()


NEED = (
    "Our food pantry in Burlington needs refrigerated trucks for deliveries, volunteers for "
    "Saturday distributions and funding for a walk-in freezer."
)


@pytest.mark.slow
def test_onnx_encode_spans_one_pass_same_text_vector(tmp_path: Path) -> None:
    from matcher.embedding.onnx import OnnxEmbedder

    model = OnnxEmbedder(tmp_path, quantize=True)
    assert model.pools_spans
    parts = clauses(NEED)
    vec, pooled = model.encode_spans([NEED], [locate(NEED, parts)])
    np.testing.assert_allclose(vec, model.encode([NEED]), atol=1e-6)  # the pooled output
    assert pooled[0].shape == (len(parts), 384)
    np.testing.assert_allclose(np.linalg.norm(pooled[0], axis=1), 1.0, rtol=1e-5)
    own = model.encode(parts)
    cosines = (pooled[0] * own).sum(axis=1)
    # the same clause read in context: near its own vector, not equal (and not always
    # nearest it: "funding for a walk-in freezer" read in this need is nearest the trucks
    # clause, which is why clause spans are off by default)
    assert cosines.min() > 0.3 and cosines.max() < 0.99


class CountingEmbedder:
    """The real ONNX embedder, counting its passes through the model."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_name = inner.model_name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.passes: list[str] = []

    @property
    def pools_spans(self) -> bool:
        return bool(self.inner.pools_spans)  # type: ignore[attr-defined]

    def encode(self, texts: list[str], **kw: object) -> np.ndarray:
        self.passes.append(f"encode {len(texts)}")
        return self.inner.encode(texts, **kw)  # type: ignore[attr-defined,no-any-return]

    def encode_spans(self, texts: list[str], spans: object) -> object:
        self.passes.append(f"spans {len(texts)}")
        return self.inner.encode_spans(texts, spans)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_engine_reads_a_need_in_one_pass(tmp_path: Path) -> None:
    """With clause spans the engine runs the model once per need (the clauses come from the
    need's token states) and the query vector is the one the two-pass reading gives."""
    from matcher.domain import Need
    from matcher.embedding.factory import create_embedder
    from matcher.engine import Engine
    from matcher.settings import Settings

    readings = {}
    for spans_on in (False, True):
        settings = Settings(data_dir=tmp_path / str(spans_on), clause_spans=spans_on)
        counting = CountingEmbedder(create_embedder(settings))
        engine = Engine.open(settings, embedder=counting, load=False)  # type: ignore[arg-type]
        counting.passes.clear()
        readings[spans_on] = engine.read_need(Need(id="n", text=NEED))
        want = ["spans 1"] if spans_on else ["encode 1", f"encode {len(clauses(NEED))}"]
        assert sorted(counting.passes) == sorted(want)  # two passes may run at once
        engine.read_need(Need(id="n", text=NEED))
        assert sorted(counting.passes) == sorted(want)  # read again: from the cache
        engine.close()
    np.testing.assert_array_equal(readings[True].query, readings[False].query)
    assert readings[True].clauses.shape == readings[False].clauses.shape
