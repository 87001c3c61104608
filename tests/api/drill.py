"""`make drill`: kill -9 rounds with fixed seeds, printing tried/passed/failed (issue 9).

- ingest: `matcher ingest` of a generated CSV is killed at a seeded moment; the store must
  reopen, and the retried ingest must leave every row stored.
- api-writes: uvicorn takes a stream of `POST /v1/organisations` and is killed at a seeded
  moment; after a restart every write it acknowledged (201) must be readable (target: 0 lost).

Throwaway data dirs under a temporary directory; the model-free hashing embedder.
Run: `python tests/api/drill.py [--rounds N] [--seed S]`. Exit status 1 if a round failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_support import N_ORGS, ROOT, free_port, make_settings, seed  # noqa: E402

from matcher.engine import Engine  # noqa: E402

ENV = {
    "MATCHER_MODEL_NAME": "hashing-v1",
    "MATCHER_API_BOOTSTRAP_SAMPLE": "false",
    "MATCHER_API_KEY_PER_MINUTE": "100000",
    "MATCHER_API_KEY_BURST": "10000",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **ENV,
        "MATCHER_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


_ROWS = 20_000


def _count(data_dir: Path) -> int:
    """Organisations stored beyond the seeded sample."""
    engine = Engine.open(make_settings(data_dir), load=False)
    try:
        return engine.store.count_organisations() - N_ORGS
    finally:
        engine.close()


def ingest_round(root: Path, rng: random.Random, n: int) -> tuple[bool, str]:
    data_dir = root / f"ingest-{n}"
    data_dir.mkdir()
    seed(data_dir).close()
    prefix = f"drill-{n}-"
    csv = root / f"ingest-{n}.csv"
    lines = ["id,name,sector,description"]
    lines += [f"{prefix}{i},Drill org {i},business,Row {i} of the drill." for i in range(_ROWS)]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "matcher.cli", "ingest", str(csv)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(data_dir), stdout=subprocess.DEVNULL)
    time.sleep(rng.uniform(1.5, 4.0))  # a whole ingest takes about 4 s
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        after_kill = _count(data_dir)
    except Exception as exc:  # the store must reopen after a kill
        return False, f"store did not reopen: {exc}"
    retry = subprocess.run(cmd, cwd=ROOT, env=_env(data_dir), capture_output=True, check=False)
    if retry.returncode != 0:
        return False, f"retried ingest failed: {retry.stderr.decode(errors='replace')[-300:]}"
    final = _count(data_dir)
    note = f"killed={killed} rows after kill={after_kill} after retry={final}/{_ROWS}"
    return final == _ROWS, note


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-access-log"]
    log = (data_dir / "uvicorn.log").open("ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(data_dir), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("uvicorn exited")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn not ready")


def api_round(root: Path, rng: random.Random, n: int) -> tuple[bool, str]:
    data_dir = root / f"api-{n}"
    data_dir.mkdir()
    seed(data_dir).close()
    proc, base = _start(data_dir)
    key = (data_dir / "admin-key.txt").read_text().strip()
    acked: list[str] = []
    statuses: dict[int, int] = {}
    stop = threading.Event()
    first = threading.Event()  # the first write can be slow (warm-up): the clock starts after it

    def writer() -> None:
        with httpx.Client(base_url=base, timeout=5, headers={"X-API-Key": key}) as client:
            i = 0
            while not stop.is_set():
                body = {"name": f"Drill {n}-{i}", "sector": "business", "description": "Drill."}
                try:
                    r = client.post("/v1/organisations", json=body)
                except httpx.HTTPError:
                    return
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                first.set()
                if r.status_code == 201:
                    acked.append(r.json()["id"])
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    first.wait(60)
    time.sleep(rng.uniform(0.2, 2.0))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stop.set()
    thread.join()
    proc, base = _start(data_dir)
    try:
        with httpx.Client(base_url=base, timeout=10, headers={"X-API-Key": key}) as client:
            lost = [i for i in acked if client.get(f"/v1/organisations/{i}").status_code != 200]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    note = f"acknowledged={len(acked)} lost={len(lost)} answers={statuses}"
    return not lost and bool(acked), note


DRILLS: dict[str, Callable[[Path, random.Random, int], tuple[bool, str]]] = {
    "ingest": ingest_round,
    "api-writes": api_round,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    failed_any = False
    with tempfile.TemporaryDirectory(prefix="matcher-drill-") as tmp:
        for name, drill in DRILLS.items():
            rng = random.Random(f"{args.seed}-{name}")
            passed = failed = 0
            for n in range(args.rounds):
                try:
                    ok, note = drill(Path(tmp), rng, n)
                except Exception as exc:
                    ok, note = False, f"error: {exc}"
                passed += ok
                failed += not ok
                print(f"  {name} round {n}: {'pass' if ok else 'FAIL'} ({note})", flush=True)
            print(f"{name}: tried {args.rounds}, passed {passed}, failed {failed}", flush=True)
            failed_any |= failed > 0
    return 1 if failed_any else 0


if __name__ == "__main__":
    sys.exit(main())
