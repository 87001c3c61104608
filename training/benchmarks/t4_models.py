"""Registered embedding models in the T4 runner (issue 13): the engine rows with a version of
the work dir's model registry, its held-out states, and the query-embedding latency and size
of each model as the engine runs it (int8 ONNX), measured side by side in one process."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from matcher.embedding.published import MODELS_DIR

ENV = ("MATCHER_MODEL_PATH", "MATCHER_MODEL_NAME")
LATENCY_ROUNDS = 5


def version_manifest(work_dir: Path, version: str) -> dict[str, Any]:
    """The registry manifest of an embedding version of `work_dir` (a clear error otherwise)."""
    path = Path(work_dir) / MODELS_DIR / version / "manifest.json"
    if not path.is_file():
        raise SystemExit(
            f"no embedding version {version} in {path.parent.parent}: register the model with "
            f"`MATCHER_DATA_DIR={work_dir} matcher models register-embed DIR`"
        )
    man: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if man.get("kind") != "embedding":
        raise SystemExit(f"{version} in {path.parent.parent} is not an embedding model")
    return man


def model_folder(work_dir: Path, man: dict[str, Any]) -> Path:
    return Path(work_dir) / MODELS_DIR / str(man["version"]) / str(man["model_dir"])


def held_out_states(work_dir: Path, version: str) -> list[str]:
    """The states the version's fine-tune never trained on (its finetune manifest)."""
    ft = version_manifest(work_dir, version).get("finetune") or {}
    return [str(s) for s in ft.get("hold_out_states") or []]


@contextmanager
def registered_model(work_dir: Path, version: str) -> Iterator[tuple[str, int]]:
    """Within: the engine's settings name the version's model (MATCHER_MODEL_PATH and _NAME,
    as the published pointer would); yields (model name, size in bytes of its weights)."""
    man = version_manifest(work_dir, version)
    env = {ENV[0]: str(model_folder(work_dir, man)), ENV[1]: str(man["model_name"])}
    with mock.patch.dict(os.environ, env):
        yield str(man["model_name"]), int(man.get("size_bytes") or 0)


def onnx_size(embedder: Any) -> int:
    from matcher.embedding.onnx import export_onnx

    return export_onnx(embedder.model_path, embedder.cache_dir, quantize=True).stat().st_size


def query_latency(
    embedders: dict[str, Any], texts: Sequence[str], rounds: int = LATENCY_ROUNDS
) -> dict[str, dict[str, float]]:
    """Per model: median and 90th-percentile milliseconds to embed one query text (the
    serving path: one text per call, one intra-op thread), the models interleaved round by
    round so the machine's load falls on all alike."""
    for e in embedders.values():
        e.encode(list(texts[:2]))  # load and warm up
    times: dict[str, list[float]] = {k: [] for k in embedders}
    for _ in range(rounds):
        for text in texts:
            for label, e in embedders.items():
                t0 = time.perf_counter()
                e.encode([text])
                times[label].append((time.perf_counter() - t0) * 1000)
    out: dict[str, dict[str, float]] = {}
    for label, ms in times.items():
        ms.sort()
        out[label] = {
            "median_ms": round(statistics.median(ms), 2),
            "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 2),
            "calls": len(ms),
        }
    return out


def print_latency(work_dir: Path, versions: Sequence[str], needs_path: Path) -> None:
    from matcher.embedding.onnx import OnnxEmbedder
    from matcher.settings import Settings

    cache = Path(work_dir) / MODELS_DIR / "onnx"
    base = Settings(data_dir=work_dir)
    embedders: dict[str, Any] = {
        "base": OnnxEmbedder(cache, base.resolved_model_path(), base.model_name)
    }
    for v in versions:
        man = version_manifest(work_dir, v)
        embedders[v] = OnnxEmbedder(cache, model_folder(work_dir, man), str(man["model_name"]))
    texts = [json.loads(line)["text"] for line in needs_path.read_text().splitlines() if line]
    figures = query_latency(embedders, texts)
    print(f"query-embedding latency, int8 ONNX, one text per call ({len(texts)} T4 needs):")
    for label, f in figures.items():
        size = onnx_size(embedders[label]) / 1e6
        print(
            f"  {label}: median {f['median_ms']} ms, p90 {f['p90_ms']} ms over {f['calls']} "
            f"calls; int8 ONNX {size:.1f} MB (load {os.getloadavg()[0]:.1f})"
        )
