"""Replicas that agree, measured: N uvicorn processes on one data directory (SQLite) or one
PostgreSQL database. Organisations are created through process 0 at random moments while every
process serves a read load (recommendations and GETs); in each other process a poller thread of
its own (all polling at the same time) asks until that process's index has the new row
(`GET /v1/organisations/{id}/matches` answers 200 only once the organisation is in the
process's in-memory index). Prints the lag from the write's answer to visibility in every
reader process, p50/p95/p99/max, the writes lost (not visible within 10 s) and the reads.

    python -m training.bench_replicas --writes 1000 [--workers 2] [--database-url URL]

Uses the model-free hashing embedder, the repository's sample organisations (200) and a
temporary data directory; with --database-url, a fresh database on that PostgreSQL server
(created and dropped; the URL's own database is not touched)."""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from matcher.domain import Organisation
from training.serve_support import ROOT, Uvicorn, uvicorn_server

SERVER_ENV = {
    "MATCHER_MODEL_NAME": "hashing-v1",
    "MATCHER_API_BOOTSTRAP_SAMPLE": "false",
    "MATCHER_API_KEY_PER_MINUTE": "1000000",
    "MATCHER_API_KEY_BURST": "100000",
    "MATCHER_API_ANONYMOUS_PER_MINUTE": "1000000",
    "MATCHER_API_ANONYMOUS_BURST": "100000",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
LOST_AFTER = 10.0  # seconds: a write not visible by then counts as lost
READ_TEXTS = ["food bank volunteers", "after-school tutoring", "housing for older residents"]


@contextmanager
def replicas(
    data_dir: Path, n: int, env: dict[str, str] | None = None
) -> Iterator[tuple[list[Uvicorn], str]]:
    """`n` processes on one data directory (and one database); the first makes the admin key,
    which is returned with them."""
    full_env = {**os.environ, "MATCHER_DATA_DIR": str(data_dir), **SERVER_ENV, **(env or {})}
    with ExitStack() as stack:
        servers = []
        for i in range(n):
            log_path = data_dir / f"uvicorn-{i}.log"
            servers.append(
                stack.enter_context(uvicorn_server(full_env, log_path=log_path, timeout=120))
            )
        yield servers, (data_dir / "admin-key.txt").read_text().strip()


def org_body(i: int) -> dict[str, object]:
    return {
        "id": f"replica-org-{i}",
        "name": f"Replica Test Org {i}",
        "sector": "nonprofit",
        "description": f"Coastal rescue volunteers number {i} train lighthouse keepers",
        "city": "Leeds",
        "country": "GB",
    }


def visible_in_index(client: httpx.Client, org_id: str, **params: int) -> int:
    r = client.get(f"/v1/organisations/{org_id}/matches", params={"limit": 1, **params})
    return r.status_code


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Poller(threading.Thread):
    """Follows the writes in one reader process: for each, polls until it is visible there."""

    def __init__(self, base_url: str, key: str, poll_s: float, lost_after_s: float) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60)
        self.todo: queue.Queue[tuple[str, float] | None] = queue.Queue()
        self.poll_s, self.lost_after_s = poll_s, lost_after_s
        self.lags: list[float] = []
        self.lost: list[str] = []

    def run(self) -> None:
        while (item := self.todo.get()) is not None:
            org_id, done = item
            while visible_in_index(self.client, org_id) != 200:
                if time.perf_counter() > done + self.lost_after_s:
                    self.lost.append(org_id)
                    break
                time.sleep(self.poll_s)
            else:
                self.lags.append(time.perf_counter() - done)
        self.client.close()


class ReadLoad(threading.Thread):
    """Reads from one process until stopped: a recommendation, a list, one organisation."""

    def __init__(self, base_url: str, key: str, pause_s: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60)
        self.pause_s, self.rng = pause_s, random.Random(seed)
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                if i % 3 == 0:
                    text = f"{READ_TEXTS[i % len(READ_TEXTS)]} {self.rng.randrange(10**6)}"
                    r = self.client.post("/v1/recommendations", json={"text": text, "limit": 10})
                elif i % 3 == 1:
                    r = self.client.get("/v1/organisations", params={"page_size": 20})
                else:
                    r = self.client.get(f"/v1/organisations/org-{self.rng.randint(1, 200):05d}")
                self.errors += r.status_code != 200
            except httpx.HTTPError:
                self.errors += 1
            self.latencies.append(time.perf_counter() - t0)
            i += 1
            self.stop.wait(self.pause_s)
        self.client.close()


@dataclass
class ReplicaResult:
    backend: str
    processes: int
    writes: int
    lag_ms: dict[str, float]  # over every reader process: p50, p95, p99, max, mean
    per_reader_p99_ms: list[float]
    visible: int  # (write, reader) pairs seen: writes x readers when none is lost
    lost: int
    reads: int
    read_errors: int
    read_p50_ms: float
    read_p95_ms: float
    seconds: float
    load_average: list[float] = field(default_factory=list)  # 1-minute: before, after

    def line(self) -> str:
        lag = self.lag_ms
        readers = self.processes - 1
        return (
            f"{self.backend}, {self.processes} processes, {self.writes} writes x {readers} "
            f"reader(s): write -> visible p50 {lag['p50']:.0f} ms, p95 {lag['p95']:.0f} ms, "
            f"p99 {lag['p99']:.0f} ms, max {lag['max']:.0f} ms; lost {self.lost}; reads "
            f"{self.reads} ({self.read_errors} errors, p50 {self.read_p50_ms:.0f} ms, p95 "
            f"{self.read_p95_ms:.0f} ms); {self.seconds:.0f} s; load "
            f"{self.load_average[0]:.1f} -> {self.load_average[1]:.1f}"
        )


def measure(
    servers: list[Uvicorn],
    key: str,
    writes: int,
    *,
    max_gap_s: float = 0.3,
    poll_s: float = 0.002,
    read_pause_s: float = 0.05,
    lost_after_s: float = LOST_AFTER,
    warmup_s: float = 60.0,
) -> tuple[list[Poller], list[ReadLoad], float]:
    """Writes through process 0 at random moments (0..max_gap_s apart) while every process
    serves reads; one poller per other process. Returns the pollers, the read loads and the
    seconds the writes took."""
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=servers[0].base_url, headers=headers, timeout=60) as writer:
        # warm-up (the first write loads the gazetteer), visible everywhere before timing;
        # not visible within warmup_s: measured anyway (the writes will show as lost)
        r = writer.post("/v1/organisations", json=org_body(-1))
        if r.status_code != 201:
            raise RuntimeError(f"warm-up write: {r.status_code} {r.text}")
        deadline = time.perf_counter() + warmup_s
        for s in servers[1:]:
            with httpx.Client(base_url=s.base_url, headers=headers, timeout=60) as c:
                while visible_in_index(c, "replica-org--1") != 200:
                    if time.perf_counter() > deadline:
                        break
                    time.sleep(0.05)
        pollers = [Poller(s.base_url, key, poll_s, lost_after_s) for s in servers[1:]]
        loads = [ReadLoad(s.base_url, key, read_pause_s, i) for i, s in enumerate(servers)]
        for t in [*pollers, *loads]:
            t.start()
        rng = random.Random(11)
        start = time.perf_counter()
        try:
            for i in range(writes):
                # at a random moment: right after a poll, every write would wait an interval
                time.sleep(rng.uniform(0.0, max_gap_s))
                r = writer.post("/v1/organisations", json=org_body(i))
                if r.status_code != 201:
                    raise RuntimeError(f"write {i}: {r.status_code} {r.text}")
                done = time.perf_counter()
                for p in pollers:
                    p.todo.put((f"replica-org-{i}", done))
        finally:
            for p in pollers:
                p.todo.put(None)
            for p in pollers:
                p.join()
            for load in loads:
                load.stop.set()
            for load in loads:
                load.join()
    return pollers, loads, time.perf_counter() - start


def sample_organisations(n: int) -> list[Organisation]:
    out: list[Organisation] = []
    with (ROOT / "data" / "organisations.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Organisation.model_validate(json.loads(line)))
    return out


def seed(data_dir: Path, database_url: str | None, orgs: int = 0) -> None:
    """Builds the index (hashing embedder) over the first `orgs` sample organisations."""
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=data_dir, model_name="hashing-v1", database_url=database_url)
    engine = Engine.open(settings, load=False)
    try:
        sample = sample_organisations(orgs)
        if sample:
            engine.store.upsert_organisations(sample)
        engine.build()
    finally:
        engine.close()


@contextmanager
def fresh_database(server_url: str, label: str) -> Iterator[str]:
    """A new empty database on the PostgreSQL server of `server_url`, dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text

    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(
    writes: int,
    workers: int,
    database_url: str | None = None,
    *,
    interval_ms: float | None = None,
    max_gap_s: float = 0.3,
    read_pause_s: float = 0.05,
    lost_after_s: float = LOST_AFTER,
    warmup_s: float = 60.0,
    server_env: dict[str, str] | None = None,
) -> ReplicaResult:
    """One measurement in a temporary data directory (and a fresh database); `server_env` is
    added to the serving processes' environment."""
    if workers < 2:
        raise ValueError("--workers must be at least 2 (one writer, one reader)")
    env: dict[str, str] = dict(server_env or {})
    if interval_ms is not None:
        env["MATCHER_API_FOLLOW_INTERVAL_MS"] = str(interval_ms)
    load0 = os.getloadavg()[0]
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-rep-")))
        url = None
        if database_url:
            url = stack.enter_context(fresh_database(database_url, f"replicas{workers}"))
            env["MATCHER_DATABASE_URL"] = url
        seed(data_dir, url, orgs=200)
        servers, key = stack.enter_context(replicas(data_dir, workers, env))
        pollers, loads, seconds = measure(
            servers,
            key,
            writes,
            max_gap_s=max_gap_s,
            read_pause_s=read_pause_s,
            lost_after_s=lost_after_s,
            warmup_s=warmup_s,
        )
    ms = [x * 1000 for p in pollers for x in p.lags] or [float("nan")]
    reads = [x * 1000 for load in loads for x in load.latencies] or [float("nan")]
    return ReplicaResult(
        backend="PostgreSQL" if database_url else "SQLite",
        processes=workers,
        writes=writes,
        lag_ms={
            "p50": pct(ms, 0.5),
            "p95": pct(ms, 0.95),
            "p99": pct(ms, 0.99),
            "max": max(ms),
            "mean": statistics.fmean(ms),
        },
        per_reader_p99_ms=[round(pct([x * 1000 for x in p.lags], 0.99), 1) for p in pollers],
        visible=sum(len(p.lags) for p in pollers),
        lost=sum(len(p.lost) for p in pollers),
        reads=len(reads),
        read_errors=sum(load.errors for load in loads),
        read_p50_ms=pct(reads, 0.5),
        read_p95_ms=pct(reads, 0.95),
        seconds=seconds,
        load_average=[load0, os.getloadavg()[0]],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.bench_replicas")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--interval-ms", type=float, default=None, help="follow_interval_ms")
    parser.add_argument("--max-gap", type=float, default=0.3, help="seconds between writes, max")
    parser.add_argument("--read-pause", type=float, default=0.05, help="seconds between reads")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(
        args.writes,
        args.workers,
        args.database_url,
        interval_ms=args.interval_ms,
        max_gap_s=args.max_gap,
        read_pause_s=args.read_pause,
    )
    print(json.dumps(asdict(result)) if args.json else result.line())
    return 0 if result.lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
