"""`make bench-api COMPARE=1`: this service beside the afternoon baseline (and txtai), one run.

    python scripts/bench_side_by_side.py --data-dir var
    python scripts/bench_side_by_side.py --data-dir /tmp/bl-100k --rounds 2 --requests 120

Starts each system on 127.0.0.1 over the same data directory, one after the other (so their
start-ups do not compete): this service (`api.main:app`), `training.baseline_app` (torch query
encoder, faiss flat index, a filter mask) and, when txtai imports, `training.txtai_app`
(`--systems ...,baseline-1t` adds the baseline with one torch thread: with torch's default of
one thread per core, its idle threads spin and burn CPU on a busy machine). Then,
for each round and each concurrency (1, 4, 16 by default), every system gets the same
`--requests` need texts (unique per request and per cell, so no query cache helps) from
scripts/bench_api.py's load generator, in an order rotated each cell, so a change in the
machine's load hits all systems. Per system and concurrency it prints requests/s, p50/p95/p99
over the pooled latencies, the server's CPU ms per request (process tree) and the errors, with
the load average seen during the run. Our server writes (API key, recommendation records): give
it a data directory it may write to.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# variants of this service, to measure a serving choice in the same run as the default
OURS_VARIANTS: dict[str, dict[str, Any]] = {
    "ours": {},
    # two uvicorn workers (`make run WORKERS=2`), each with its default compute slots (one a
    # core): no GIL shared by the two cores' rankings. One process of two slots runs its
    # rankings' Python one thread at a time and left a third of a core idle at 16 clients.
    "ours-2w": {"workers": 2},
    # two workers of one compute slot each: a worker holds the connections the kernel gave
    # it, so with one slot the busier worker queues while the other idles
    "ours-2w1": {"workers": 2, "extra_env": {"MATCHER_API_COMPUTE_SLOTS": "1"}},
    # the pure-Python HTTP parser and asyncio's own loop (uvicorn's choice without
    # httptools and uvloop)
    "ours-h11": {"uvicorn_args": ["--loop", "asyncio", "--http", "h11"]},
    # a need's clauses (and its text) packed in one row of the model (MATCHER_PACKED_QUERY_PASS)
    "ours-clauses": {"extra_env": {"MATCHER_PACKED_QUERY_PASS": "clauses"}},
    "ours-one": {"extra_env": {"MATCHER_PACKED_QUERY_PASS": "one"}},
    "ours-off": {"extra_env": {"MATCHER_PACKED_QUERY_PASS": "off"}},
}
SYSTEMS = (*OURS_VARIANTS, "baseline", "txtai", "baseline-1t")
DEFAULT_SYSTEMS = "ours,ours-2w,baseline,txtai"  # ours-2w: `make run WORKERS=2`


def _bench_api() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_api", ROOT / "scripts/bench_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_api", module)
    spec.loader.exec_module(module)
    return module


def start_system(bench: ModuleType, name: str, args: argparse.Namespace) -> tuple[Any, str, str]:
    """(process, url, API key) of one system, ready."""
    if name in OURS_VARIANTS:
        sys.path.insert(0, str(ROOT))
        from api.keys import create_api_key
        from matcher.settings import Settings

        key = create_api_key(Settings(data_dir=args.data_dir), "bench_side_by_side", "reader")
        proc, url = bench.start_server(
            args.data_dir,
            None,
            args.ready_timeout,
            embed_backend=args.embed_backend,
            build_at_start=args.build_at_start,
            **OURS_VARIANTS[name],
        )
        return proc, url, key
    env = {"BASELINE_DATA_DIR": str(args.data_dir), "BASELINE_VECTORS": args.baseline_vectors}
    if name == "baseline-1t":  # the baseline with one torch (OpenMP) thread per request
        env |= {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    app = f"training.{name.removesuffix('-1t')}_app:create_app"
    proc, url = bench.start_server(
        args.data_dir, None, args.ready_timeout, app=app, factory=True, extra_env=env
    )
    return proc, url, ""


def aggregate(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from the cells of one system at one concurrency."""
    bench = sys.modules.get("bench_api") or _bench_api()
    lat = sorted(x for c in cells for x in c["latencies_ms"])
    n = sum(c["requests"] for c in cells)
    seconds = sum(c["seconds"] for c in cells)
    cpu = [c["server_cpu_s"] for c in cells if c.get("server_cpu_s") is not None]
    return {
        "requests": n,
        "errors": sum(c["errors"] for c in cells),
        "requests_per_second": round(n / seconds, 1) if seconds else 0.0,
        "p50_ms": round(bench.percentile(lat, 0.50), 1),
        "p95_ms": round(bench.percentile(lat, 0.95), 1),
        "p99_ms": round(bench.percentile(lat, 0.99), 1),
        "server_cpu_ms_per_request": round(sum(cpu) / n * 1000, 1) if cpu and n else None,
        "load_average": [
            round(min(c["load_average"] for c in cells), 1),
            round(max(c["load_average"] for c in cells), 1),
        ],
    }


def run(
    bench: ModuleType,
    servers: dict[str, tuple[Any, str, str]],
    needs: list[dict[str, Any]],
    *,
    concurrencies: list[int],
    rounds: int,
    requests: int,
    limit: int,
    max_seconds: float,
    warmup: int,
) -> list[dict[str, Any]]:
    """Interleaved load over every system; one row per (system, concurrency)."""
    names = list(servers)
    for _, url, key in servers.values():  # warm each up (non-unique texts)
        asyncio.run(
            bench.run_load(
                url,
                key,
                needs,
                concurrency=1,
                total=warmup,
                max_seconds=60,
                unique=False,
                limit=limit,
                warmup=0,
            )
        )
    cells: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    cell = 0
    for _ in range(rounds):
        for c in concurrencies:
            order = names[cell % len(names) :] + names[: cell % len(names)]
            for name in order:
                proc, url, key = servers[name]
                cpu0 = bench.process_tree_cpu_seconds(proc.pid) if proc is not None else None
                result = bench.run_load(
                    url,
                    key,
                    needs,
                    concurrency=c,
                    total=requests,
                    max_seconds=max_seconds,
                    unique=True,
                    limit=limit,
                    warmup=0,
                    text_offset=cell * requests,
                    keep_latencies=True,
                )
                result = asyncio.run(result)
                if cpu0 is not None:
                    result["server_cpu_s"] = bench.process_tree_cpu_seconds(proc.pid) - cpu0
                result["load_average"] = os.getloadavg()[0]
                cells[(name, c)].append(result)
            cell += 1
    return [
        {
            "system": name,
            "concurrency": c,
            **aggregate(cells[(name, c)]),
            "cells": [  # each round's figures, for reading the noise
                {
                    "requests_per_second": x["requests_per_second"],
                    "p50_ms": x["p50_ms"],
                    "server_cpu_ms_per_request": round(x["server_cpu_s"] / x["requests"] * 1000, 1)
                    if x.get("server_cpu_s") is not None and x["requests"]
                    else None,
                    "load_average": round(x["load_average"], 1),
                }
                for x in cells[(name, c)]
            ],
        }
        for c in concurrencies
        for name in names
    ]


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| system | clients | requests/s | p50 / p95 / p99 ms | server CPU ms/request "
        "| errors | load avg |\n|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['concurrency']} | {r['requests_per_second']} | "
            f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} / {r['p99_ms']:.0f} | "
            f"{r['server_cpu_ms_per_request']} | {r['errors']} | "
            f"{r['load_average'][0]}-{r['load_average'][1]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MATCHER_DATA_DIR", "var")))
    p.add_argument("--needs", type=Path, default=ROOT / "data" / "needs.jsonl")
    p.add_argument(
        "--systems",
        default=DEFAULT_SYSTEMS,
        help=f"of {', '.join(SYSTEMS)} (baseline-1t: the baseline with OMP_NUM_THREADS=1; "
        "ours-2w: two uvicorn workers; ours-2w1: two of one compute slot each; ours-h11: uvicorn's "
        "pure-Python HTTP parser and asyncio loop; ours-clauses, ours-one, ours-off: "
        "MATCHER_PACKED_QUERY_PASS=clauses (the default), one or off)",
    )
    p.add_argument("--concurrency", default="1,4,16", help="comma-separated client counts")
    p.add_argument("--rounds", type=int, default=2, help="interleaved passes over everything")
    p.add_argument("--requests", type=int, default=100, help="per system, concurrency, round")
    p.add_argument("--max-seconds", type=float, default=90.0, help="cap of one cell")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--embed-backend", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--baseline-vectors", default="auto", choices=["auto", "cache", "embed"])
    p.add_argument("--ready-timeout", type=float, default=1800.0)
    p.add_argument(
        "--build-at-start",
        action="store_true",
        help="start this service even when it must first embed many texts",
    )
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    if unknown := set(systems) - set(SYSTEMS):
        raise SystemExit(f"unknown systems {sorted(unknown)}; known: {', '.join(SYSTEMS)}")
    if "txtai" in systems and importlib.util.find_spec("txtai") is None:
        print("txtai: skipped, not installed (pip install txtai)", flush=True)
        systems.remove("txtai")
    concurrencies = [int(c) for c in args.concurrency.split(",") if c]
    bench = _bench_api()
    needs = bench.load_needs(args.needs)
    servers: dict[str, tuple[Any, str, str]] = {}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        for name in systems:
            t0 = time.perf_counter()
            servers[name] = start_system(bench, name, args)
            ready = httpx.get(servers[name][1] + "/readyz", timeout=10).json()
            print(
                f"{name}: ready in {time.perf_counter() - t0:.0f} s, "
                f"{ready.get('organisations')} organisations"
                + (f", vectors {ready['vectors']}" if "vectors" in ready else ""),
                flush=True,
            )
        rows = run(
            bench,
            servers,
            needs,
            concurrencies=concurrencies,
            rounds=args.rounds,
            requests=args.requests,
            limit=args.limit,
            max_seconds=args.max_seconds,
            warmup=args.warmup,
        )
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=60)
    print(f"\n{started}, {args.data_dir}, {args.rounds} round(s) x {args.requests} requests")
    print(table(rows))
    for c in concurrencies:
        by = {r["system"]: r for r in rows if r["concurrency"] == c}
        base = by.get("baseline", {}).get("requests_per_second")
        for ours in (name for name in OURS_VARIANTS if name in by and base):
            ratio = by[ours]["requests_per_second"] / base
            print(f"  {c} client(s): {ours} / baseline throughput {ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"started": started, "rows": rows}, indent=1))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
