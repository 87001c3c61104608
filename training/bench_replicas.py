"""Replicas that agree, measured: N uvicorn processes on one data directory (SQLite) or one
PostgreSQL database; organisations are created through process 0 and the others are polled
until each one's index has the new row (`GET /v1/organisations/{id}/matches` answers 200 only
once the organisation is in that process's in-memory index). Prints the lag from the write's
answer to visibility, p50/p95/max, and checks that none is lost.

    python -m training.bench_replicas --writes 200 [--workers 2] [--database-url URL]

Uses the model-free hashing embedder and a temporary data directory (nothing is kept)."""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
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


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    data_dir: Path, name: str, env: dict[str, str] | None = None, *, timeout: float = 120.0
) -> Iterator[Server]:
    """One uvicorn process on a free 127.0.0.1 port serving `data_dir`, ready when yielded."""
    port = free_port()
    full_env = {**os.environ, "MATCHER_DATA_DIR": str(data_dir), **SERVER_ENV, **(env or {})}
    log_path = data_dir / f"uvicorn-{name}.log"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"uvicorn exited: {log_path.read_text(errors='replace')}")
                try:
                    if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not ready: {log_path.read_text(errors='replace')}")
                time.sleep(0.1)
            yield Server(base, proc, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def replicas(
    data_dir: Path, n: int, env: dict[str, str] | None = None
) -> Iterator[tuple[list[Server], str]]:
    """`n` processes on one data directory (and one database); the first makes the admin key,
    which is returned with them."""
    with ExitStack() as stack:
        first = stack.enter_context(server(data_dir, "0", env))
        key = (data_dir / "admin-key.txt").read_text().strip()
        rest = [stack.enter_context(server(data_dir, str(i), env)) for i in range(1, n)]
        yield [first, *rest], key


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


def measure(servers: list[Server], key: str, writes: int) -> list[float]:
    """Seconds from each write's answer (process 0) to visibility in every other process."""
    headers = {"X-API-Key": key}
    lags: list[float] = []
    with ExitStack() as stack:
        writer = stack.enter_context(
            httpx.Client(base_url=servers[0].base_url, headers=headers, timeout=60)
        )
        readers = [
            stack.enter_context(httpx.Client(base_url=s.base_url, headers=headers, timeout=60))
            for s in servers[1:]
        ]
        rng = random.Random(11)
        for i in range(-1, writes):  # -1: warm-up (the first write loads the gazetteer)
            # at a random moment: right after a poll, every write would wait a full interval
            time.sleep(rng.uniform(0.0, 0.3))
            r = writer.post("/v1/organisations", json=org_body(i))
            if r.status_code != 201:
                raise RuntimeError(f"write {i}: {r.status_code} {r.text}")
            done = time.perf_counter()
            for reader in readers:
                deadline = done + (60.0 if i < 0 else 10.0)
                while visible_in_index(reader, f"replica-org-{i}") != 200:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"write {i} not visible after 10 s: lost")
                    time.sleep(0.002)
                if i >= 0:
                    lags.append(time.perf_counter() - done)
    return lags


def seed(data_dir: Path, database_url: str | None) -> None:
    from matcher.engine import Engine
    from matcher.settings import Settings

    settings = Settings(data_dir=data_dir, model_name="hashing-v1", database_url=database_url)
    engine = Engine.open(settings, load=False)
    try:
        engine.build()
    finally:
        engine.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.bench_replicas")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--interval-ms", type=float, default=None, help="follow_interval_ms")
    args = parser.parse_args(argv)
    env: dict[str, str] = {}
    if args.database_url:
        env["MATCHER_DATABASE_URL"] = args.database_url
    if args.interval_ms is not None:
        env["MATCHER_API_FOLLOW_INTERVAL_MS"] = str(args.interval_ms)
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        data_dir = Path(tmp)
        seed(data_dir, args.database_url)
        with replicas(data_dir, args.workers, env) as (servers, key):
            lags = measure(servers, key, args.writes)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    ms = [x * 1000 for x in lags]
    print(
        f"{backend}, {args.workers} processes, {args.writes} writes: lag write -> visible "
        f"p50 {pct(ms, 0.5):.0f} ms, p95 {pct(ms, 0.95):.0f} ms, p99 {pct(ms, 0.99):.0f} ms, "
        f"max {max(ms):.0f} ms, "
        f"mean {statistics.fmean(ms):.0f} ms; lost 0"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
