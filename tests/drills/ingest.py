"""kill -9 during `matcher ingest` of 20,000 rows, at a seeded moment: the store reopens, and
the same ingest run again leaves every row stored (rows missing after it count as lost)."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

from tests.drills.common import ROOT, Backend, Result, child_env, cli, count_orgs, kill9, seed

ROWS = 20_000


def write_csv(path: Path, prefix: str, rows: int = ROWS) -> None:
    lines = ["id,name,sector,description"]
    lines += [f"{prefix}{i},Drill org {i},business,Row {i} of the drill." for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    data_dir = root / f"ingest-{backend.name}-{n}"
    with backend.database(f"ingest_{n}") as url:
        seed(data_dir, url).close()
        csv = root / f"ingest-{backend.name}-{n}.csv"
        write_csv(csv, f"drill-{n}-")
        cmd = cli("ingest", str(csv))
        env = child_env(data_dir, url)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 4.0))  # a whole ingest takes about 4 s
        killed = kill9(proc)
        try:
            after_kill = count_orgs(data_dir, url)
        except Exception as exc:  # the store must reopen after a kill
            return Result(False, f"store did not reopen: {exc}")
        retry = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
        if retry.returncode != 0:
            err = retry.stderr.decode(errors="replace")[-300:]
            return Result(False, f"retried ingest failed: {err}")
        final = count_orgs(data_dir, url)
    note = f"killed={killed} rows after kill={after_kill} after retry={final}/{ROWS}"
    return Result(final == ROWS, note, lost=max(0, ROWS - final))
