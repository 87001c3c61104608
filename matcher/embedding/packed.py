"""Several short texts in one model pass, each read as if on its own: a need and its clauses.

A request embeds a need's text (its query vector) and its clauses (focus evidence, offerings,
asks). As two calls into the model that cost two fixed overheads (about 1.5 ms of CPU each,
whatever the length) and the clause batch is padded to its longest clause. Here the texts are
laid end to end in ONE row of tokens, each with its own positions (0, 1, ... again) and an
attention limited to its own tokens (a block-diagonal mask built in the graph from a segment
id per token): no padding, one call. Each text's vector is the mean of its own token states,
L2-normalised, as `encode` pools it.

In fp32 a text's vector is the one `encode` gives on its own (to 1e-6: only the summation
order differs). In int8 the activations are quantised per call over the whole input, so a
vector depends slightly on what shares its call, as in `encode`'s batches already (cosine to
the fp32 vector 0.9918 packed against 0.9917 in today's two calls, over the sample needs).

The graph is exported from the model folder by torch (transformer only, the extended mask
from `segment_ids`, token states out), int8-quantised like `export_onnx`, once, into the
export cache; without torch it is not made and needs are read in two calls as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from matcher.atomic import atomic_directory
from matcher.vectors import l2_normalise

logger = logging.getLogger(__name__)

PACKED_FILE = "model-packed.onnx"
PACKED_INPUTS = ("input_ids", "segment_ids", "position_ids", "token_type_ids")
PACKED_OUTPUT = "token_states"
RECIPE = "packed-v1-eager-blockmask"
# A row longer than this is not packed: the attention of one row grows with its length
# squared (most of it masked), two calls cost less beyond (a need and its clauses: 60-150)
PACK_LIMIT = 384


def packed_folder(cache_dir: Path, export_name: str) -> Path:
    """The folder of the packed graph of the export named `export_name` (`export_key`)."""
    digest = hashlib.sha256(RECIPE.encode()).hexdigest()[:8]
    return Path(cache_dir) / f"{export_name}-packed-{digest}"


def _torch_export_packed(model_path: Path, out_file: Path, opset: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(
        str(model_path), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Packed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(
            self, input_ids: Any, segment_ids: Any, position_ids: Any, token_type_ids: Any
        ) -> Any:
            same = segment_ids.unsqueeze(2) == segment_ids.unsqueeze(1)  # (rows, L, L)
            blocked = (~same).to(torch.float32) * torch.finfo(torch.float32).min
            return self.base(
                input_ids=input_ids,
                attention_mask=blocked.unsqueeze(1),  # additive, as eager attention reads it
                position_ids=position_ids,
                token_type_ids=token_type_ids,
            ).last_hidden_state

    dummy = (
        torch.ones(1, 8, dtype=torch.long),
        torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1]]),
        torch.tensor([[0, 1, 2, 3, 0, 1, 2, 3]]),
        torch.zeros(1, 8, dtype=torch.long),
    )
    axes = {name: {0: "rows", 1: "tokens"} for name in (*PACKED_INPUTS, PACKED_OUTPUT)}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about this (static) graph, not errors
        torch.onnx.export(
            Packed(),
            dummy,
            str(out_file),
            input_names=list(PACKED_INPUTS),
            output_names=[PACKED_OUTPUT],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )


def export_packed(
    model_path: Path, cache_dir: Path, export_name: str, *, quantize: bool, opset: int
) -> Path | None:
    """Path of the packed graph of this model (exported first if missing); None when it
    cannot be made here (no torch, a read-only cache): then texts are embedded as before."""
    folder = packed_folder(cache_dir, export_name)
    target = folder / PACKED_FILE
    if target.is_file():
        return target
    try:
        with atomic_directory(folder) as tmp:
            fp32 = tmp / "fp32.onnx"
            _torch_export_packed(model_path, fp32, opset)
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                root = logging.getLogger()
                level = root.level
                root.setLevel(logging.ERROR)  # its "consider pre-processing" advice is noise
                try:  # the recipe of export_onnx: per-channel, reduced-range int8 weights
                    quantize_dynamic(
                        str(fp32),
                        str(tmp / PACKED_FILE),
                        weight_type=QuantType.QInt8,
                        per_channel=True,
                        reduce_range=True,
                    )
                finally:
                    root.setLevel(level)
                fp32.unlink()
            else:
                fp32.rename(tmp / PACKED_FILE)
    except (ImportError, OSError, RuntimeError) as exc:
        logger.warning("no packed graph for %s (%s): needs read in two calls", model_path, exc)
        return None
    logger.info("exported the packed graph of %s to %s", model_path, target)
    return target


def packed_feed(
    ids: list[list[int]], type_ids: list[list[int]]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The one-row feed of these token sequences (unpadded) and each token's sequence."""
    segments = np.concatenate([np.full(len(s), i, np.int64) for i, s in enumerate(ids)])
    feed = {
        "input_ids": np.concatenate([np.asarray(s, np.int64) for s in ids])[None, :],
        "segment_ids": segments[None, :],
        "position_ids": np.concatenate([np.arange(len(s), dtype=np.int64) for s in ids])[None],
        "token_type_ids": np.concatenate([np.asarray(t, np.int64) for t in type_ids])[None, :],
    }
    return feed, segments


def pool_segments(states: np.ndarray, segments: np.ndarray, n: int) -> np.ndarray:
    """Per segment, the mean of its token states, L2-normalised: (n, dimension)."""
    member = (segments[None, :] == np.arange(n)[:, None]).astype(np.float32)
    sums = member @ states.astype(np.float32)
    return l2_normalise(sums / member.sum(axis=1, keepdims=True))
