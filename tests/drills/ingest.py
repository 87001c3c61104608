"""kill -9 during `matcher ingest` of 20,000 rows: the store reopens, and the same ingest run
again leaves every row stored (rows missing after it count as lost).

Two kinds of round: `run_round` kills at a seeded moment (mostly while the file is read and
checked), `write_round` waits until the database write is under way (SQLite: the write-ahead
log grows; PostgreSQL: the ingest's session is inside a transaction inserting organisations)
and kills at a seeded moment inside it. The ingest is one transaction, so a kill leaves either
none of its rows or all of them, never a part."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.drills.common import ROOT, Backend, Result, child_env, cli, count_orgs, kill9, seed

ROWS = 20_000
WAL_GROWTH = 256 * 1024  # bytes the ingest's transaction has spilled into SQLite's WAL
_IN_WRITE = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    " AND query ILIKE '%organisations%' AND (query ILIKE 'insert%' OR query ILIKE 'update%')"
)


def write_csv(path: Path, prefix: str, rows: int = ROWS) -> None:
    lines = ["id,name,sector,description"]
    lines += [f"{prefix}{i},Drill org {i},business,Row {i} of the drill." for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _writing(data_dir: Path, url: str | None) -> tuple[Callable[[], bool], Callable[[], None]]:
    """A probe that says when the ingest's database write is under way, and its closer."""
    if url is None:
        wal = data_dir / "matcher.db-wal"
        base = wal.stat().st_size if wal.exists() else 0
        return (lambda: wal.exists() and wal.stat().st_size > base + WAL_GROWTH), lambda: None
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    conn = engine.connect()

    def probe() -> bool:
        return bool(conn.execute(_IN_WRITE).scalar())

    def close() -> None:
        conn.close()
        engine.dispose()

    return probe, close


def _round(root: Path, rng: random.Random, n: int, backend: Backend, in_write: bool) -> Result:
    kind = "write" if in_write else "ingest"
    data_dir = root / f"{kind}-{backend.name}-{n}"
    with backend.database(f"{kind}_{n}") as url:
        seed(data_dir, url).close()
        csv = root / f"{kind}-{backend.name}-{n}.csv"
        write_csv(csv, f"drill-{n}-")
        cmd = cli("ingest", str(csv))
        env = child_env(data_dir, url)
        probe, close = _writing(data_dir, url) if in_write else (None, None)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        try:
            if probe is None:
                time.sleep(rng.uniform(1.5, 4.0))  # a whole ingest takes about 4 s
                seen_write = None
            else:
                deadline = time.monotonic() + 120
                while not (seen_write := probe()) and proc.poll() is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.3))
        finally:
            if close is not None:
                close()
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
    phase = "" if seen_write is None else f" in write={seen_write}"
    note = f"killed={killed}{phase} rows after kill={after_kill} after retry={final}/{ROWS}"
    whole = after_kill in (0, ROWS)  # one transaction: none or all, never a part
    return Result(whole and final == ROWS, note, lost=max(0, ROWS - final))


def run_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    return _round(root, rng, n, backend, in_write=False)


def write_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    return _round(root, rng, n, backend, in_write=True)
