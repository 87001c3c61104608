"""kill -9 during `matcher models publish` and `matcher models rollback`, at a seeded moment
around the write of CURRENT: exactly one of the old and the new model is current, it loads
(strictly) into an engine, the registry is consistent, and the command run again completes."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

from matcher.engine import Engine
from tests.drills.common import ROOT, Backend, Result, child_env, cli, kill9, settings
from training.registry import PAUSE_ENV, Registry, load_published


def _manifest(value: float) -> dict[str, object]:
    return {
        "weights": {"fit": value, "proximity": 1.0 - value},
        "metrics": {"primary": "ndcg@10", "ndcg@10": value},
    }


def _consistent(reg: Registry) -> str | None:
    """Why the registry is inconsistent, or None."""
    versions = reg.versions()
    for v in versions:
        if reg.manifest(v)["version"] != v:
            return f"manifest of {v} names another version"
    pointer = reg.pointer()
    if pointer["version"] is not None and pointer["version"] not in versions:
        return f"CURRENT names {pointer['version']}, not a complete version"
    if any(h is not None and h not in versions for h in pointer["history"]):
        return f"history names a missing version: {pointer['history']}"
    return None


def _loads(data_dir: Path, version: str) -> bool:
    engine = Engine.open(settings(data_dir, None), load=False)
    try:
        return load_published(engine, data_dir, strict=True).endswith(f"@{version}")
    finally:
        engine.close()


def _round(root: Path, rng: random.Random, n: int, action: str) -> Result:
    data_dir = root / f"{action}-{n}"
    data_dir.mkdir(parents=True)
    reg = Registry(data_dir)
    reg.create(_manifest(0.5))
    reg.create(_manifest(0.8))
    reg.publish("v0001")
    if action == "publish":
        old, new, args = "v0001", "v0002", ["models", "publish", "v0002"]
    else:
        reg.publish("v0002")
        old, new, args = "v0002", "v0001", ["models", "rollback"]
    pause = rng.uniform(0.01, 0.05)
    delay = rng.uniform(0.0, 2 * pause)  # about half the kills land before the write
    env = child_env(data_dir, None, **{PAUSE_ENV: f"before-current:{pause:.4f}"})
    proc = subprocess.Popen(cli(*args), cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the child reached the point before CURRENT is written
    time.sleep(delay)  # it sleeps `pause`, then writes: the kill lands before or after
    killed = kill9(proc)
    proc.stdout.close()
    if "paused at before-current" not in line:
        return Result(False, f"the command never reached the write: {line!r}")
    try:
        current = reg.current()
        problem = _consistent(reg)
        loads = current is not None and _loads(data_dir, current)
    except Exception as exc:
        return Result(False, f"killed={killed}: registry unreadable: {exc}")
    retried = None
    if current == old:  # not done yet: the same command again completes it
        retry = subprocess.run(
            cli(*args), cwd=ROOT, env=child_env(data_dir, None), capture_output=True, check=False
        )
        retried = retry.returncode
    final = reg.current()
    note = (
        f"killed={killed} after {delay:.3f}s (pause {pause:.3f}s): current={current}"
        f" ({'old' if current == old else 'new' if current == new else 'NEITHER'})"
        f" loads={loads} retry rc={retried} final={final}"
    )
    if problem:
        note += f" inconsistent: {problem}"
    ok = current in (old, new) and loads and problem is None and retried in (None, 0)
    return Result(bool(ok and final == new), note)


def publish_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    return _round(root, rng, n, "publish")


def rollback_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    return _round(root, rng, n, "rollback")
