"""Reading a text and its parts in one pass: vectors of character spans pooled from the
text's own token states.

A request reads a need twice over: the whole text (the query vector) and its clauses (focus
evidence, required capabilities, the coalition's per-clause evidence). Embedding the clauses
as texts of their own costs a second model pass about as long as the first. Here the clauses
are read from the first: the exported graph (transformer, mean pooling, L2) also gives its
last hidden states, and a span's vector is the mean of the states of the tokens inside it,
L2-normalised: the model's own pooling restricted to the span, with the whole text as
context. The text's vector is the graph's pooled output, the same as `encode` gives.

`tokens_graph` derives that graph from an exported one by naming the pooling's input as a
second output (no weight changes: the pooled output is bit-for-bit the same), once, beside
the export.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matcher.atomic import atomic_write_bytes
from matcher.vectors import l2_normalise

logger = logging.getLogger(__name__)

TOKENS_FILE = "model-tokens.onnx"
TOKENS_OUTPUT = "token_states"
Span = tuple[int, int]  # [start, end) character offsets into the text


def _pooling_input(graph: object) -> tuple[str, str] | None:
    """(hidden-state tensor, its pooling Mul's mask input): the Mul by the attention mask
    whose output feeds the pooling ReduceSum."""
    nodes = list(graph.node)  # type: ignore[attr-defined]
    producers = {out: n for n in nodes for out in n.output}
    for node in nodes:
        if node.op_type != "ReduceSum":
            continue
        mul = producers.get(node.input[0])
        if mul is None or mul.op_type != "Mul" or len(mul.input) != 2:
            continue
        for hidden, mask in (mul.input, reversed(mul.input)):
            producer = producers.get(hidden)
            if producer is not None and producer.op_type == "LayerNormalization":
                return hidden, mask
    return None


def tokens_graph(model_file: Path) -> Path | None:
    """`model-tokens.onnx` beside `model_file`: the same graph with the last hidden states
    as a second output (made on first use); None when the graph's pooling is not the mean
    pooling this project exports (then spans are embedded as texts of their own)."""
    target = model_file.parent / TOKENS_FILE
    if target.is_file():
        return target
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return None
    model = onnx.load(str(model_file))
    found = _pooling_input(model.graph)
    if found is None:
        logger.info("no mean pooling found in %s: clauses are embedded on their own", model_file)
        return None
    hidden, _ = found
    model.graph.node.append(helper.make_node("Identity", [hidden], [TOKENS_OUTPUT]))
    out = helper.make_tensor_value_info(TOKENS_OUTPUT, TensorProto.FLOAT, ["batch", "tokens", None])
    model.graph.output.append(out)
    try:
        atomic_write_bytes(target, model.SerializeToString())
    except OSError as exc:  # a read-only export folder: the clauses are embedded on their own
        logger.warning("could not write %s (%s): clauses are embedded on their own", target, exc)
        return None
    return target


def locate(text: str, parts: Sequence[str]) -> list[Span]:
    """Where each part (a substring of `text`, in order, as sentence and clause splitters
    return them) lies in the text; a part not found from the previous one on is searched
    from the start, and (0, 0) when absent."""
    spans: list[Span] = []
    cursor = 0
    for part in parts:
        at = text.find(part, cursor)
        if at < 0:
            at = text.find(part)
        if at < 0:
            spans.append((0, 0))
            continue
        spans.append((at, at + len(part)))
        cursor = at + len(part)
    return spans


def pool_spans(
    states: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[Span]
) -> tuple[np.ndarray, list[int]]:
    """Each span's vector: the mean of the states (tokens x dimension) of the tokens whose
    characters lie inside it, L2-normalised. Special and padding tokens (offsets (0, 0)) are
    never inside. Returns the vectors and the indexes of spans no token lies in (truncated
    away, or empty): their rows are zero and the caller embeds them another way."""
    starts = np.fromiter((o[0] for o in offsets), np.int64, len(offsets))
    ends = np.fromiter((o[1] for o in offsets), np.int64, len(offsets))
    real = ends > starts
    out = np.zeros((len(spans), states.shape[1]), dtype=np.float32)
    empty: list[int] = []
    for i, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (ends <= end)
        if not inside.any():
            empty.append(i)
            continue
        out[i] = states[: len(offsets)][inside].mean(axis=0)
    done = [i for i in range(len(spans)) if i not in set(empty)]
    if done:
        out[done] = l2_normalise(out[done])
    return out, empty
