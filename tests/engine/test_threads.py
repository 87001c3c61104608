"""BLAS thread limit applied when an engine opens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from matcher import threads
from matcher.engine import Engine
from matcher.settings import Settings


def _blas_threads() -> set[int]:
    return {int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}


def test_engine_open_limits_blas_threads(tmp_path: Path) -> None:
    np.ones((4, 4)) @ np.ones(4)  # make sure numpy's BLAS is loaded
    with threadpool_limits(limits=2, user_api="blas"):
        threads._applied = None
        engine = Engine.open(
            Settings(data_dir=tmp_path / "var", model_name="hashing-v1", blas_threads=1),
            load=False,
        )
        engine.close()
        assert _blas_threads() == {1}
    threads._applied = None


def test_none_leaves_blas_alone(tmp_path: Path) -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        threads._applied = None
        before = _blas_threads()
        threads.limit_blas_threads(None)
        assert _blas_threads() == before
