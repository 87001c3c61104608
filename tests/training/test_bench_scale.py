"""`make bench-scale`'s replicas part in real processes (two uvicorn servers on one SQLite data
directory, hashing embedder): a handful of writes under a read load are all seen by the other
process, and a process that does not follow the change log shows up as lost writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from training.bench_replicas import run
from training.serve_support import ROOT


def test_bench_scale_quick_replicas_sees_every_write(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MATCHER_TEST_POSTGRES_URL", None)  # SQLite only: seconds, not minutes
    cmd = [sys.executable, "-m", "training.bench_scale", "--quick", "--parts", "replicas"]
    cmd += ["--writes", "6", "--database-url", "", "--json", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| replicas | SQLite, 2 processes, 6 writes |" in done.stdout
    (result,) = json.loads(out.read_text())["replicas"]
    assert (result["backend"], result["processes"], result["writes"]) == ("SQLite", 2, 6)
    assert result["lost"] == 0 and result["visible"] == 6
    assert result["reads"] > 0 and result["read_errors"] == 0
    assert 0 < result["lag_ms"]["p50"] <= result["lag_ms"]["max"] < 10_000


def test_a_process_not_following_the_log_loses_the_writes() -> None:
    result = run(
        2,
        2,
        max_gap_s=0.0,
        lost_after_s=0.5,
        warmup_s=2.0,
        server_env={"MATCHER_API_FOLLOW_CHANGES": "false"},
    )
    assert (result.lost, result.visible) == (2, 0)
