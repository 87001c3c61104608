"""Static int8 quantisation of the MiniLM export, measured against today's dynamic int8.

Issue 12 asked whether a model with fixed activation scales would let a need and its clauses
(or several requests' needs) share one call into the model with the vectors each has alone.
This prints, for the sample's need texts and their clauses (texts not used to calibrate):
the cosine to the fp32 export, how far a vector read in a batch is from the one read alone,
and the CPU of reading a need (the need alone, then its clauses as one batch; one thread).

    .venv/bin/python scripts/try_static_int8.py [--keep-ffn-output-fp32] [--percentile]

Figures and the verdict: README, "A statically quantised model".
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SAMPLE = Path(__file__).resolve().parent.parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-ffn-output-fp32",
        action="store_true",
        help="leave each layer's second feed-forward MatMul unquantised",
    )
    parser.add_argument(
        "--percentile",
        action="store_true",
        help="calibrate at the 99.999th percentile rather than min-max",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "static-int8"
    )
    args = parser.parse_args()

    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from tokenizers import Tokenizer

    from matcher import evidence
    from matcher.embedding.onnx import export_onnx
    from matcher.settings import Settings

    model = Settings().resolved_model_path()
    fp32 = export_onnx(model, args.cache_dir, quantize=False)
    dynamic = export_onnx(model, args.cache_dir, quantize=True)
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.enable_truncation(max_length=128)

    def feed(texts: list[str], length: int | None = None) -> dict[str, np.ndarray]:
        tok.enable_padding(pad_id=0, pad_token="[PAD]", length=length)
        enc = tok.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in enc], np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], np.int64),
        }

    orgs = [json.loads(line) for line in (SAMPLE / "organisations.jsonl").open()]
    needs = [json.loads(line)["text"] for line in (SAMPLE / "needs.jsonl").open()]
    picked = np.random.default_rng(0).choice(len(orgs), 200, replace=False)
    calib = [f"{orgs[i]['name']} {orgs[i].get('mission') or ''}"[:1000] for i in picked]
    for text in needs[:60]:
        calib += [text, *evidence.clauses(text)]
    test = needs[60:160]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:  # fixed length: the percentile method needs one shape
            self.feeds = iter([feed([t], 128) for t in calib])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    name = "static-" + ("pct" if args.percentile else "minmax")
    name += "-ffnfp32" if args.keep_ffn_output_fp32 else ""
    static = args.cache_dir / f"{name}.onnx"
    if not static.exists():
        graph = onnx.load(str(fp32))
        weights = {i.name for i in graph.graph.initializer}
        matmuls = [n for n in graph.graph.node if n.op_type == "MatMul"]
        # attention's two MatMuls multiply activations by activations: left in fp32
        exclude = [n.name for n in matmuls if not any(i in weights for i in n.input)]
        if args.keep_ffn_output_fp32:
            exclude += [
                n.name
                for n in matmuls
                if n.name.endswith("/output/dense/MatMul") and "attention" not in n.name
            ]
        logging.getLogger().setLevel(logging.ERROR)
        quantize_static(
            str(fp32),
            str(static),
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=exclude,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile
            if args.percentile
            else CalibrationMethod.MinMax,
            extra_options={"CalibPercentile": 99.999},
        )

    def session(path: Path) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(s: Any, texts: list[str]) -> np.ndarray:
        out = s.run(None, feed(texts))[0]
        return np.asarray(out / np.linalg.norm(out, axis=1, keepdims=True))

    texts = [t for need in test for t in [need, *evidence.clauses(need)]]
    sessions = {"fp32": session(fp32), "dynamic int8": session(dynamic), name: session(static)}
    ref = np.vstack([encode(sessions["fp32"], [t]) for t in texts])
    for label, s in sessions.items():
        cos = (np.vstack([encode(s, [t]) for t in texts]) * ref).sum(axis=1)
        apart = []
        for need in test:
            clauses = evidence.clauses(need)
            if len(clauses) >= 2:
                alone = np.vstack([encode(s, [c]) for c in clauses])
                apart.append(float(np.abs(encode(s, clauses) - alone).max()))
        start = time.process_time()
        for _ in range(3):
            for need in test:
                encode(s, [need])
                if len(clauses := evidence.clauses(need)) >= 2:
                    encode(s, clauses)
        cpu = (time.process_time() - start) / (3 * len(test)) * 1000
        print(
            f"{label:>24}: cosine to fp32 mean {cos.mean():.4f} min {cos.min():.4f}; "
            f"batched vs alone, largest difference median {np.median(apart):.1e}; "
            f"CPU a need {cpu:.1f} ms"
        )


if __name__ == "__main__":
    main()
