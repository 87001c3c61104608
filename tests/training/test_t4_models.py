"""The T4 runner's registered-model helpers: the engine's settings name a version's model only
inside the context, its held-out states, and the query latency measured side by side."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from training.benchmarks.t4_models import (
    held_out_states,
    query_latency,
    registered_model,
    version_manifest,
)


def version(root: Path, kind: str = "embedding") -> Path:
    folder = root / "models" / "v0003"
    (folder / "model-v0003").mkdir(parents=True)
    man = {
        "kind": kind,
        "version": "v0003",
        "model_name": "all-MiniLM-L6-v2-ft-x-12345678",
        "model_dir": "model-v0003",
        "size_bytes": 1234,
        "finetune": {"hold_out_states": ["HI", "MT"]},
    }
    (folder / "manifest.json").write_text(json.dumps(man))
    return folder / "model-v0003"


def test_the_model_is_named_inside_the_context_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = version(tmp_path)
    monkeypatch.setenv("MATCHER_MODEL_NAME", "before")
    monkeypatch.delenv("MATCHER_MODEL_PATH", raising=False)
    with registered_model(tmp_path, "v0003") as (name, size):
        assert name == "all-MiniLM-L6-v2-ft-x-12345678" and size == 1234
        assert os.environ["MATCHER_MODEL_PATH"] == str(folder)
        assert os.environ["MATCHER_MODEL_NAME"] == name
    assert os.environ["MATCHER_MODEL_NAME"] == "before"
    assert "MATCHER_MODEL_PATH" not in os.environ
    assert held_out_states(tmp_path, "v0003") == ["HI", "MT"]


def test_a_missing_or_other_version_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no embedding version v0009.*register-embed"):
        version_manifest(tmp_path, "v0009")
    version(tmp_path, kind="weights")
    with pytest.raises(SystemExit, match="not an embedding model"):
        version_manifest(tmp_path, "v0003")


class Slow:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import time

        self.calls += 1
        time.sleep(self.seconds)
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_query_latency_times_one_text_a_call_for_each_model() -> None:
    fast, slow = Slow(0.0), Slow(0.004)
    figures = query_latency({"fast": fast, "slow": slow}, ["a", "b", "c"], rounds=2)
    assert figures["fast"]["calls"] == figures["slow"]["calls"] == 6
    assert slow.calls == 7  # one warm-up call with two texts, then one a text per round
    assert figures["slow"]["median_ms"] >= 4.0 > figures["fast"]["median_ms"]
    assert figures["slow"]["p90_ms"] >= figures["slow"]["median_ms"]
