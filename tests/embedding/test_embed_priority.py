"""`matcher embed` runs below the serving processes of its machine (matcher/priority.py): the
switch-over's slow answers were a served query waiting for a CPU the job's build held."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.embed_job import for_ray_workers, run_embed
from matcher.settings import Settings
from tests.embedding.embed_support import fill_store

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=ENV, cwd=ROOT, capture_output=True, text=True
    )


def _embed_cli(data_dir: Path, *args: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "matcher.cli", "--data-dir", str(data_dir), "--model"]
    cmd += ["hashing-v1", "embed", "--json", "--quiet", *args]
    done = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, object] = json.loads(done.stdout)
    return out


@pytest.mark.skipif(os.getpriority(os.PRIO_PROCESS, 0) >= 10, reason="already at nice >= 10")
def test_the_job_runs_at_nice_10_and_io_best_effort_7_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(settings, n_orgs=12, n_needs=2)
    report = _embed_cli(settings.data_dir, "--switch")
    assert report["extra"] == {"priority": {"nice": 10, "io": "best-effort 7"}}  # type: ignore[comparator-overlap]
    assert report["switched"] is not None
    again = _embed_cli(settings.data_dir, "--nice", "0")
    assert again["extra"]["priority"]["nice"] == os.getpriority(os.PRIO_PROCESS, 0)  # type: ignore[index]


def test_lower_priority_never_raises_it_and_children_inherit_it() -> None:
    code = (
        "import os, subprocess, sys\n"
        "from matcher.priority import lower_priority\n"
        "os.setpriority(os.PRIO_PROCESS, 0, 15)\n"
        "p = lower_priority(10)\n"
        "ask = 'import os; print(os.getpriority(os.PRIO_PROCESS, 0))'\n"
        "child = subprocess.run([sys.executable, '-c', ask], capture_output=True, text=True)\n"
        "print(p.nice, child.stdout.strip())\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["15", "15"]


def test_a_nice_outside_0_to_19_is_refused(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "matcher.cli", "--data-dir", str(tmp_path), "--model"]
    cmd += ["hashing-v1", "embed", "--nice", "25"]
    done = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--nice: 0 to 19, not 25" in done.stderr


def test_ray_workers_get_absolute_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ray worker runs in Ray's folder, not the job's: a relative --data-dir would name
    another folder there (without the model files)."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("var"), model_name="hashing-v1", model_path=Path("m"))
    fill_store(settings, n_orgs=5, n_needs=0)
    seen = []

    def fake_run_ray(order, factory, **kw):  # type: ignore[no-untyped-def]
        seen.append(factory.args[0])
        for start in range(0, len(order), 4):
            batch = order[start : start + 4]
            kw["write"]([h for h, _ in batch], factory().encode([t for _, t in batch]))

    import matcher.embed_ray

    monkeypatch.setattr(matcher.embed_ray, "run_ray", fake_run_ray)
    run_embed(settings, executor="ray", workers=1)
    assert seen[0].data_dir == tmp_path / "var" and seen[0].model_path == tmp_path / "m"
    assert for_ray_workers(settings).data_dir.is_absolute()
