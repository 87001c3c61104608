"""The engine a benchmark builds keys its vectors as `matcher` would: a server opened on a
benchmark's engine directory finds them (it re-embedded all 55k T4 profiles before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.embedding.factory import create_embedder
from matcher.embedding.identity import model_identity
from matcher.settings import Settings
from training.bench_quality import engine_embedder, torch_pair


@pytest.mark.parametrize("backend", ["onnx-int8", "onnx"])
def test_the_benchmark_embedder_has_the_engines_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setenv("MATCHER_EMBED_BACKEND", backend)
    bench = engine_embedder(*torch_pair(tmp_path), tmp_path)
    served = create_embedder(Settings(data_dir=tmp_path / "served"))
    assert "@" in model_identity(served)  # a model read from files: name and digest
    assert model_identity(bench) == model_identity(served)
