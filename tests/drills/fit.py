"""kill -9 during `matcher train fit`, at a seeded point (after a checkpoint chunk, or while
the new version's folder is written) plus a seeded delay: the published model is unchanged and
still loads, the registry is consistent, and the same fit run again succeeds (resuming from the
checkpoint) and leaves no checkpoint behind."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from pathlib import Path

from tests.drills.common import ROOT, Backend, Result, child_env, cli, kill9
from tests.drills.registry import _consistent, _loads, _manifest
from training.fit import RUNS_DIR
from training.registry import PAUSE_ENV, Registry

FIT = ["train", "fit", "--json", "--max-test", "6", "--chunk-queries", "5"]
POINTS = ["fit-chunk-0", "fit-chunk-1", "fit-chunk-2", "fit-chunk-3", "version-dir"]


def _template(root: Path) -> Path:
    """The bundled sample with a synthetic partnership history (30 sources), made once per run."""
    template = root / "fit-template"
    if not (template / "matcher.db").exists():
        from tests.training.ranker_history import add_history, sample_engine

        engine = sample_engine(template)
        add_history(engine, n_sources=30)
        engine.close()
    return template


def _checkpoints(data_dir: Path) -> list[str]:
    runs = data_dir / RUNS_DIR
    return sorted(p.name for p in runs.rglob("*") if p.is_file()) if runs.exists() else []


def run_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    data_dir = root / f"fit-{n}"
    shutil.copytree(_template(root), data_dir)
    reg = Registry(data_dir)
    reg.create(_manifest(0.5))
    reg.publish("v0001")
    point = rng.choice(POINTS)
    pause, delay = rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.5)
    env = child_env(data_dir, None, **{PAUSE_ENV: f"{point}:{pause:.3f}"})
    proc = subprocess.Popen(cli(*FIT), cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    time.sleep(delay)
    killed = kill9(proc)
    proc.stdout.close()
    if f"paused at {point}" not in line:
        return Result(False, f"the fit never reached {point}: {line[:200]!r}")
    try:
        current = reg.current()
        problem = _consistent(reg)
        loads = current is not None and _loads(data_dir, current)
    except Exception as exc:
        return Result(False, f"killed={killed} at {point}: registry unreadable: {exc}")
    versions = reg.versions()
    saved = len(_checkpoints(data_dir))
    rerun = subprocess.run(
        cli(*FIT), cwd=ROOT, env=child_env(data_dir, None), capture_output=True, text=True
    )
    try:
        out = json.loads(rerun.stdout)
    except ValueError:
        out = {}
    note = (
        f"killed={killed} at {point}+{delay:.2f}s (pause {pause:.2f}s): published={current}"
        f" loads={loads} versions={versions} checkpoint files={saved};"
        f" rerun rc={rerun.returncode} version={out.get('version')}"
        f" reused queries={out.get('reused_queries')} published after={reg.current()}"
    )
    if problem:
        note += f" inconsistent: {problem}"
    if rerun.returncode != 0:
        note += f" stderr={rerun.stderr[-300:]!r}"
    ok = (
        current == "v0001"
        and loads
        and problem is None
        and rerun.returncode == 0
        and out.get("version") in reg.versions()
        and reg.current() == "v0001"
        and not _checkpoints(data_dir)
    )
    return Result(bool(ok), note)
