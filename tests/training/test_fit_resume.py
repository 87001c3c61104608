"""`matcher train fit` checkpoints its feature rows: an interrupted fit resumes where it stopped
and gives the weights of an uninterrupted run; a kill -9 during the fit or its registration
leaves the published version serving and the registry consistent."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ranker_history import add_history, sample_engine

from matcher.cli import main
from matcher.settings import Settings
from training.fit import RUNS_DIR, FitOptions, run_fit
from training.registry import PAUSE_ENV, Registry

REPO = Path(__file__).resolve().parents[2]


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("fit-history") / "var"
    engine = sample_engine(data)
    add_history(engine, n_sources=30)
    engine.close()
    return data


def _copy(src: Path, dst: Path) -> Settings:
    shutil.copytree(src, dst)
    return Settings(data_dir=dst, model_name="hashing-v1")


def _run_files(data: Path) -> list[str]:
    root = data / RUNS_DIR
    return sorted(p.name for p in root.rglob("*")) if root.exists() else []


def test_the_same_data_fitted_later_gives_the_same_weights(
    history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Freshness is measured against the newest label, not the wall clock: a fit run a month
    later on the same data gives the same feature rows and weights (CI once failed the resume
    test by 0.0001 on one weight because the two runs read the clock at different instants)."""
    import matcher.engine

    options = FitOptions(max_test=6, chunk_queries=5)
    first = run_fit(_copy(history_dir, tmp_path / "first"), options)
    later = datetime.now(UTC) + timedelta(days=30)
    monkeypatch.setattr(matcher.engine, "utcnow", lambda: later)
    second = run_fit(_copy(history_dir, tmp_path / "second"), options)
    assert second.weights == first.weights
    assert second.feature_rows == first.feature_rows
    assert second.manifest["as_of"] == first.manifest["as_of"]


def test_interrupted_fit_resumes_with_the_weights_of_an_uninterrupted_run(
    history_dir: Path, tmp_path: Path
) -> None:
    options = FitOptions(max_test=6, chunk_queries=5)
    whole = run_fit(_copy(history_dir, tmp_path / "whole"), options)
    assert whole.reused_queries == 0 and whole.computed_queries == whole.train_queries

    settings = _copy(history_dir, tmp_path / "resumed")
    seen: list[tuple[str, int, int]] = []

    def stop_after_12(stage: str, done: int, total: int) -> None:
        seen.append((stage, done, total))
        if stage == "features" and done == 12:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_fit(settings, options, progress=stop_after_12)
    assert [f for f in _run_files(settings.data_dir) if f.startswith("chunk-")] == [
        "chunk-00000.npz",
        "chunk-00001.npz",
    ]
    assert Registry(settings.data_dir).versions() == []

    seen.clear()
    resumed = run_fit(settings, options, progress=lambda s, d, t: seen.append((s, d, t)))
    assert resumed.reused_queries == 10  # two finished chunks of 5
    assert resumed.computed_queries == whole.train_queries - 10
    first_features = next(x for x in seen if x[0] == "features")
    assert first_features == ("features", 10, whole.train_queries)
    assert resumed.manifest["resumed"]["reused_queries"] == 10
    assert resumed.weights == whole.weights
    assert resumed.feature_rows == whole.feature_rows
    assert resumed.metrics == whole.metrics
    assert _run_files(settings.data_dir) == []  # removed once registered


def test_no_resume_starts_afresh(history_dir: Path, tmp_path: Path) -> None:
    settings = _copy(history_dir, tmp_path / "var")
    options = FitOptions(max_test=6, chunk_queries=5)

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "features" and done == 7:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_fit(settings, options, progress=stop)
    fresh = run_fit(settings, FitOptions(max_test=6, chunk_queries=5, resume=False))
    assert fresh.reused_queries == 0 and fresh.computed_queries == fresh.train_queries
    assert _run_files(settings.data_dir) == []
    # other options make another run: nothing is reused from a different run's checkpoint
    with pytest.raises(Interrupted):
        run_fit(settings, options, progress=stop)
    other = run_fit(settings, FitOptions(max_test=6, chunk_queries=5, negatives=3))
    assert other.reused_queries == 0


def _fit_process(data: Path, pause: str) -> subprocess.Popen[str]:
    env = {**os.environ, PAUSE_ENV: f"{pause}:60", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "matcher.cli", "--data-dir", str(data), "--model", "hashing-v1"]
    cmd += ["train", "fit", "--json", "--max-test", "6", "--chunk-queries", "5"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child reaches the hook
    assert line.strip() == f"paused at {pause}", line
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    if proc.stdout is not None:
        proc.stdout.close()


def _check_registry(
    data: Path, capsys: pytest.CaptureFixture[str], versions: list[str], current: str
) -> None:
    reg = Registry(data)
    assert main(["--data-dir", str(data), "--model", "hashing-v1", "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["current"] == current
    assert [v["version"] for v in listed["versions"]] == versions == reg.versions()
    for v in reg.versions():
        assert reg.manifest(v)["version"] == v
    assert all(not p.name.startswith("v") or p.name in versions for p in reg.root.iterdir())


def test_kill_9_during_fit_and_registration_keeps_the_published_version(
    history_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _copy(history_dir, tmp_path / "var")
    data = settings.data_dir
    reg = Registry(data)
    reg.create({"weights": {"fit": 1.0}, "metrics": {"primary": "ndcg@10", "ndcg@10": 0.1}})
    reg.publish("v0001")

    # killed in the middle of the features step (after its second chunk was saved)
    _kill(_fit_process(data, "fit-chunk-1"))
    _check_registry(data, capsys, ["v0001"], "v0001")
    assert [f for f in _run_files(data) if f.startswith("chunk-")] == [
        "chunk-00000.npz",
        "chunk-00001.npz",
    ]

    # killed while the new version's folder is being written
    _kill(_fit_process(data, "version-dir"))
    _check_registry(data, capsys, ["v0001"], "v0001")

    # the same command again resumes, registers v0002 and leaves v0001 published
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    assert main([*base, "train", "fit", "--json", "--max-test", "6", "--chunk-queries", "5"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert fit["version"] == "v0002" and fit["reused_queries"] > 0
    _check_registry(data, capsys, ["v0001", "v0002"], "v0001")
    assert _run_files(data) == []
    assert not [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]


def test_fit_registers_a_history_model_learned_without_the_held_out_queries(
    history_dir: Path, tmp_path: Path
) -> None:
    from matcher.engine import Engine
    from training.history import store_partnerships
    from training.partnership import Partnership
    from training.registry import HISTORY_DIR

    settings = _copy(history_dir, tmp_path / "var")
    engine = Engine.open(settings)
    givers = [o.id for _pk, o in engine.store.organisations()][:2]
    topics = ["community food pantry meals", "theatre and music workshops for youth"]
    store_partnerships(
        engine.store,
        [
            Partnership(
                id=f"g{k}-{i}",
                source_id=giver,
                partner_id=f"recipient-{k}-{i}",
                description=f"{topic} number {i}",
                outcome="funded",
            )
            for k, (giver, topic) in enumerate(zip(givers, topics, strict=True))
            for i in range(25)
        ],
    )
    engine.close()
    with_model = run_fit(settings, FitOptions(max_test=6))
    folder = settings.data_dir / "models" / with_model.version / HISTORY_DIR
    assert folder.is_dir()
    counts = Registry(settings.data_dir).manifest(with_model.version)["history_model"]["counts"]
    assert set(counts) == set(givers)
    without = run_fit(settings, FitOptions(max_test=6, history_model=False))
    assert not (settings.data_dir / "models" / without.version / HISTORY_DIR).exists()


def test_benchmarks_are_skipped_with_a_reason_without_shared_data(tmp_path: Path) -> None:
    from training.benchmarks.models import benchmark_models
    from training.report import render_html

    out = benchmark_models(
        tmp_path / "nothing", {"default": None}, work_dir=tmp_path, cache_dir=tmp_path
    )
    assert "not found" in out["skipped"]
    html = render_html({"comparison": {"benchmarks": out}})
    assert "skipped" in html
    fake = {
        "T1": {"engine [candidate]": {"P@10": 0.33}, "dense baseline": {"P@10": 0.27}},
        "T2": {"engine [candidate]": {"Hit@1": 0.96}},
        "primary": {"T1": "P@10", "T2": "Hit@1"},
        "violations": {"engine [candidate]": 0},
    }
    html = render_html({"comparison": {"benchmarks": fake}})
    assert "T1: each model" in html and "0.33" in html and "outside the query" in html
