"""What `matcher train fit` and `train evaluate` say while they run: each stage, how far it has
got and the time, on stderr, with `--json` too (stdout stays one JSON document)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ranker_history import add_history, sample_engine

from matcher.cli import main


def test_stage_lines_say_how_far_a_stage_is_its_rate_and_time_left() -> None:
    """Off a terminal `train fit` said "features: started (3000 to do)" and, minutes later,
    "features: done": nothing of how far it was in between (real data walk)."""
    from training.progress import StageProgress

    now = [100.0]
    lines: list[str] = []
    progress = StageProgress("train fit", clock=lambda: now[0], say=lines.append)

    def at(t: float, stage: str, done: int, total: int) -> None:
        now[0] = 100.0 + t
        progress(stage, done, total)

    at(0.0, "opening the engine and its model", 0, 1)
    at(2.0, "opening the engine and its model", 1, 1)  # a step: its end is the next line's time
    at(2.0, "features", 0, 300)
    at(4.0, "features", 10, 300)  # within 5 s of the last line: nothing
    at(7.5, "features", 60, 300)  # 60 in 5.5 s
    at(12.5, "features", 150, 300)  # 90 in 5 s: 18/s, 150 to go
    at(14.0, "features", 300, 300)
    at(14.0, "features", 300, 300)  # said once
    at(14.5, "default", 0, 6)
    at(15.0, "default", 6, 6)
    assert lines == [
        "train fit: opening the engine and its model [0.0 s]",
        "train fit: candidate features of the training queries: 0/300 queries [2.0 s]",
        "train fit: candidate features of the training queries: 60/300 queries "
        "(10.9/s, about 22 s left) [7.5 s]",
        "train fit: candidate features of the training queries: 150/300 queries "
        "(18.0/s, about 8 s left) [12.5 s]",
        "train fit: candidate features of the training queries: 300/300 queries, done in "
        "12.0 s [14.0 s]",
        "train fit: held-out evaluation of the default weights: 0/6 queries [14.5 s]",
        "train fit: held-out evaluation of the default weights: 6/6 queries, done in 0.5 s "
        "[15.0 s]",
    ]
    quiet: list[str] = []
    StageProgress("train fit", enabled=False, say=quiet.append)("features", 0, 3)
    assert quiet == []


def test_fit_and_evaluate_show_their_stages_on_stderr_and_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train fit --json` said nothing at all until it ended; now its stages and counts go to
    stderr while stdout is the JSON document alone (`--quiet`: no lines)."""
    data = tmp_path / "var"
    engine = sample_engine(data)
    add_history(engine, n_sources=30)
    engine.close()
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    capsys.readouterr()

    assert main([*base, "train", "fit", "--json", "--max-test", "6"]) == 0
    out, err = capsys.readouterr()
    fit = json.loads(out)  # the whole of stdout
    assert fit["version"] == "v0001"
    lines = err.splitlines()
    assert all(line.startswith("train fit: ") and line.endswith(" s]") for line in lines), lines
    said = "\n".join(lines)
    for stage in (
        "opening the engine and its model",
        "reading partnership history and feedback",
        "candidate features of the training queries: 0/",
        "fitting the ranker",
        "held-out evaluation of the candidate weights: 6/6 queries, done in",
        "held-out evaluation of the default weights: 6/6 queries, done in",
    ):
        assert f"train fit: {stage}" in said, stage
    assert any(
        "candidate features of the training queries: " in line and ", done in " in line
        for line in lines
    )

    assert main([*base, "train", "evaluate", "v0001", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["version"] == "v0001"
    assert "train evaluate: held-out evaluation of the candidate weights: 0/6 queries" in err

    assert main([*base, "train", "evaluate", "v0001", "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["version"] == "v0001" and err == ""
