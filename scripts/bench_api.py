"""Bounded load check of POST /v1/recommendations against 127.0.0.1 only.

    python scripts/bench_api.py --data-dir var                 # starts uvicorn on a free port
    python scripts/bench_api.py --url http://127.0.0.1:8000 --key pm_...   # a running server
    python scripts/bench_api.py --data-dir /tmp/speed-100000 --workers 2 --embed-backend onnx-int8

16 concurrent httpx asyncio clients (`--concurrency`; the server sheds rankings beyond
MATCHER_API_MAX_INFLIGHT, default 32, with 503) send a fixed number of requests (capped in time)
and the script prints requests/s, p50/p95/p99 latency and the error count. Need texts are made
unique per request by default, and a server the script starts keeps no query vectors
(MATCHER_QUERY_CACHE_SIZE=0: the varied texts share their other clauses), so the engine's
query cache does not flatter the numbers (`--repeat-texts` measures it with the cache).
When it starts the server it also reports the server's CPU time per request (all worker
processes) and the load generator's own, since both share the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from training.serve_support import (  # noqa: E402
    ServerNotReady,
    process_tree_cpu_seconds,
    start_uvicorn,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def load_needs(path: Path) -> list[dict[str, Any]]:
    keep = ("text", "city", "region", "country", "lat", "lon", "radius_km", "wanted_sectors")
    needs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                needs.append({k: row[k] for k in keep if row.get(k) not in (None, [], "")})
    if not needs:
        raise SystemExit(f"no needs in {path}")
    return needs


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[idx]


async def run_load(
    url: str,
    key: str,
    needs: list[dict[str, Any]],
    *,
    concurrency: int,
    total: int,
    max_seconds: float,
    unique: bool,
    limit: int,
    warmup: int,
    text_offset: int = 0,
    keep_latencies: bool = False,
) -> dict[str, Any]:
    """`total` requests from `concurrency` clients; unique texts end in "(request i)" with
    i from `text_offset` on (so runs that must not share texts use distinct offsets, and
    runs that must send the same texts use the same one)."""
    headers = {"X-API-Key": key} if key else {}
    # Idle connections expire on the client well before the server's keep-alive timeout, so
    # the client never reuses one the server is closing (a ReadError, not a server fault).
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=10
    )
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        for i in range(warmup):
            await http.post("/v1/recommendations", json={**needs[i % len(needs)], "limit": limit})
        latencies: list[float] = []
        statuses: Counter[str] = Counter()
        counter = iter(range(total))
        deadline = time.perf_counter() + max_seconds

        async def client() -> None:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                body = {**needs[i % len(needs)], "limit": limit}
                if unique:
                    body["text"] = f"{body['text']} (request {text_offset + i})"
                t0 = time.perf_counter()
                try:
                    r = await http.post("/v1/recommendations", json=body)
                    statuses[str(r.status_code)] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    done = sum(statuses.values())
    errors = done - statuses.get("200", 0)
    extra = {"latencies_ms": [x * 1000 for x in latencies]} if keep_latencies else {}
    return {
        **extra,
        "requests": done,
        "errors": errors,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "concurrency": concurrency,
        "unique_texts": unique,
    }


# texts a started server may embed while it opens (a sample directory's first build); beyond
# this the run stops and says how to build first, with progress, instead of waiting silently
START_EMBED_LIMIT = 5000


def start_up_work(data_dir: Path, model_name: str | None, embed_backend: str | None) -> str | None:
    """Why serving `data_dir` as a started server would (model, embedding backend) first build
    a large index, or None. A `make bench` directory is built with torch vectors and the server
    embeds with onnx-int8 by default: it refused that index and re-embedded about 98,000
    profiles inside its start-up, 20 to 80 minutes with no word of it."""
    from matcher.engine import Engine
    from matcher.index_status import index_status
    from matcher.settings import Settings

    overrides: dict[str, Any] = {"data_dir": data_dir}
    if model_name:
        overrides["model_name"] = model_name
    if embed_backend:
        overrides["embed_backend"] = embed_backend
    settings = Settings(**overrides)
    engine = Engine.open(settings, load=False)
    try:
        status = index_status(engine)
    finally:
        engine.close()
    if status.to_embed <= START_EMBED_LIMIT:
        return None
    backend = settings.embed_backend
    return (
        f"{data_dir}: {status.describe()}. A server started on it would embed about "
        f"{status.to_embed} texts with {backend} before it answers. Build it first (it shows "
        f"its progress): MATCHER_EMBED_BACKEND={backend} matcher --data-dir {data_dir} build; "
        "or serve it with the backend it was built with (--embed-backend torch, through make: "
        'BENCH_API_ARGS="--embed-backend torch", for a '
        "`make bench` directory); or pass --build-at-start to wait for it."
    )


def start_server(
    data_dir: Path,
    model_name: str | None,
    ready_timeout: float,
    *,
    workers: int = 1,
    embed_backend: str | None = None,
    wrap: list[str] | None = None,
    app: str = "api.main:app",
    factory: bool = False,
    extra_env: dict[str, str] | None = None,
    query_cache: bool = False,
    uvicorn_args: list[str] | None = None,
    build_at_start: bool = False,
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn on a free port of 127.0.0.1, once /readyz answers 200; with `wrap`, run as the
    child of that command (e.g. `py-spy record ...`, given without its "--"). `app` (an app
    factory with `factory`) and `extra_env` serve another app, e.g. a baseline to compare.
    This service is not started on a directory it would first re-embed (`start_up_work`)
    unless `build_at_start`."""
    if app == "api.main:app" and not build_at_start:
        problem = start_up_work(data_dir, model_name, embed_backend)
        if problem is not None:
            raise SystemExit(problem)
    env = {
        **os.environ,
        "MATCHER_DATA_DIR": str(data_dir),
        "MATCHER_API_KEY_PER_MINUTE": "10000000",
        "MATCHER_API_KEY_BURST": "100000",
        "MATCHER_API_BOOTSTRAP_ADMIN_KEY": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "MATCHER_QUERY_CACHE_SIZE": os.environ.get("MATCHER_QUERY_CACHE_SIZE", "4096")
        if query_cache
        else "0",
        **(extra_env or {}),
    }
    if model_name:
        env["MATCHER_MODEL_NAME"] = model_name
    if embed_backend:
        env["MATCHER_EMBED_BACKEND"] = embed_backend
    if workers > 1:  # one engine per process; keep each to one intra-op thread
        env.setdefault("MATCHER_TORCH_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
    args = ["--no-access-log", "--log-level", "warning", "--workers", str(workers)]
    args += ["--timeout-keep-alive", "30", *(["--factory"] if factory else [])]
    args += uvicorn_args or []
    try:
        server = start_uvicorn(
            env, args=args, wrap=wrap, timeout=ready_timeout, poll_seconds=0.5, app=app
        )
    except ServerNotReady as exc:
        raise SystemExit(str(exc)) from None
    return server.process, server.base_url


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="a running server on 127.0.0.1 (else one is started)")
    p.add_argument("--key", help="API key for --url (reader or above)")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MATCHER_DATA_DIR", "var")))
    p.add_argument("--model-name", help="override MATCHER_MODEL_NAME for the started server")
    p.add_argument("--needs", type=Path, default=ROOT / "data" / "needs.jsonl")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--limit", type=int, default=10)
    p.add_argument(
        "--repeat-texts",
        action="store_true",
        help="reuse need texts (lets the query-embedding cache hit)",
    )
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument(
        "--embed-backend", choices=["torch", "onnx", "onnx-int8"], help="MATCHER_EMBED_BACKEND"
    )
    p.add_argument("--ready-timeout", type=float, default=1800.0)
    p.add_argument(
        "--build-at-start",
        action="store_true",
        help="start the server even when it must first embed many texts (see start_up_work)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = p.parse_args(argv)
    if not 1 <= args.concurrency <= 500 or not 1 <= args.requests <= 1_000_000:
        raise SystemExit("concurrency must be 1..500 and requests 1..1,000,000")
    needs = load_needs(args.needs)
    proc = None
    if args.url:
        host = urlsplit(args.url).hostname or ""
        if host not in LOOPBACK:
            raise SystemExit("refusing to load-test anything but 127.0.0.1")
        if not args.key:
            raise SystemExit("--url needs --key")
        url, key = args.url.rstrip("/"), args.key
    else:
        from api.keys import create_api_key
        from matcher.settings import Settings

        settings = Settings(data_dir=args.data_dir)
        if args.model_name:
            settings = Settings(data_dir=args.data_dir, model_name=args.model_name)
        key = create_api_key(settings, "bench_api", "reader")
        t0 = time.perf_counter()
        proc, url = start_server(
            args.data_dir,
            args.model_name,
            args.ready_timeout,
            workers=args.workers,
            embed_backend=args.embed_backend,
            query_cache=args.repeat_texts,
            build_at_start=args.build_at_start,
        )
        ready_seconds = time.perf_counter() - t0
    try:
        ready = httpx.get(url + "/readyz", timeout=5).json()
        if proc is not None and args.workers > 1:
            # each worker loads its own engine: wait until fresh connections all say ready
            deadline = time.monotonic() + args.ready_timeout
            while time.monotonic() < deadline:
                codes = [httpx.get(url + "/readyz", timeout=30).status_code for _ in range(20)]
                if all(c == 200 for c in codes):
                    break
                time.sleep(0.5)
        server_cpu0 = process_tree_cpu_seconds(proc.pid) if proc is not None else None
        client_cpu0 = time.process_time()
        load0 = os.getloadavg()
        result = asyncio.run(
            run_load(
                url,
                key,
                needs,
                concurrency=args.concurrency,
                total=args.requests,
                max_seconds=args.max_seconds,
                unique=not args.repeat_texts,
                limit=args.limit,
                warmup=args.warmup,
            )
        )
        client_cpu = time.process_time() - client_cpu0
        n = max(1, result["requests"] + args.warmup)
        result["client_cpu_ms_per_request"] = round(client_cpu / n * 1000, 2)
        if proc is not None and server_cpu0 is not None:
            server_cpu = process_tree_cpu_seconds(proc.pid) - server_cpu0
            result["server_cpu_ms_per_request"] = round(server_cpu / n * 1000, 2)
            result["server_ready_seconds"] = round(ready_seconds, 1)
        result["load_average_before"] = [round(x, 2) for x in load0]
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        result["workers"] = args.workers
        result["embed_backend"] = args.embed_backend or os.environ.get("MATCHER_EMBED_BACKEND")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    result["organisations"] = ready.get("organisations")
    result["model_version"] = ready.get("model_version")
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"POST /v1/recommendations  {result['organisations']} organisations, "
            f"model {result['model_version']}"
        )
        print(
            f"  {result['requests']} requests in {result['seconds']} s at concurrency "
            f"{result['concurrency']}: {result['requests_per_second']} requests/s"
        )
        print(
            f"  latency p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  "
            f"p99 {result['p99_ms']} ms"
        )
        print(f"  errors {result['errors']}  statuses {result['statuses']}")
        print(
            f"  CPU per request: server {result.get('server_cpu_ms_per_request')} ms "
            f"({result['workers']} worker(s)), load generator "
            f"{result['client_cpu_ms_per_request']} ms; load average "
            f"{result['load_average_before']} -> {result['load_average_after']}"
        )
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
