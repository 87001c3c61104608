"""`make bench-scale`: issue 11's measured figures, each part runnable alone, one summary.

    bash scripts/with-postgres.sh python -m training.bench_scale \\
        [--parts replicas,pgvector,embed,switch] [--writes 1000] [--n 100000] [--quick]

Parts (PostgreSQL from --database-url, else MATCHER_TEST_POSTGRES_URL, as
scripts/with-postgres.sh sets it; parts that need it say "skipped" without it):
- replicas: 1,000 writes through process 0 while every process serves reads, write -> visible
  lag in every other process (one poller each, all at once): SQLite 2 processes, PostgreSQL 2
  and 4 (training/bench_replicas.py; a fresh database per run).
- pgvector: recall@10 and retrieval latency under filters at --pgvector-size (100,000), and at
  1,000,000 with --pgvector-1m (training/bench_pgvector.py; prints its own table); the table
  plain and partitioned by region in one run (--pgvector-layout both, the default).
- embed: `matcher embed --executor local` against `--executor ray` on --n profiles, the real
  nonprofits padded with recombined ones past 54,399 (training/bench_embed.py): texts/s and
  CPU ms per text of each, max abs difference of the vectors.
- switch: a uvicorn process keeps answering while `matcher embed --switch` runs on its data
  directory: errors and the longest time without an answer.
--quick: sizes for a smoke test (seconds to a few minutes), not figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

PARTS = ("replicas", "pgvector", "embed", "switch")
Row = tuple[str, str, str, str]  # part, setting, figures, load average


def _load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def replicas_part(args: argparse.Namespace, url: str | None) -> list[Row]:
    from training.bench_replicas import run

    max_gap = 0.05 if args.quick else 0.3
    runs: list[tuple[int, str | None]] = [(2, None)]
    if not args.quick:
        runs += [(2, url), (4, url)] if url else []
    elif url:
        runs.append((2, url))
    rows: list[Row] = []
    for workers, db in runs:
        load = _load()
        r = run(args.writes, workers, db, max_gap_s=max_gap)
        print(r.line(), flush=True)
        lag = r.lag_ms
        rows.append(
            (
                "replicas",
                f"{r.backend}, {workers} processes, {r.writes} writes",
                f"visible p50 {lag['p50']:.0f} / p95 {lag['p95']:.0f} / p99 {lag['p99']:.0f} / "
                f"max {lag['max']:.0f} ms; lost {r.lost}; {r.reads} reads, "
                f"{r.read_errors} errors",
                f"{load} -> {_load()}",
            )
        )
        args.results.setdefault("replicas", []).append(asdict(r))
        if r.lost:
            args.failed = True
    if not url:
        rows.append(("replicas", "PostgreSQL", "skipped: no PostgreSQL URL", _load()))
    return rows


def pgvector_part(args: argparse.Namespace, url: str | None) -> list[Row]:
    if not url:
        return [("pgvector", "", "skipped: no PostgreSQL URL", _load())]
    from matcher.errors import MatcherError
    from training import bench_pgvector

    sizes = [2_000] if args.quick else [args.pgvector_size]
    if args.pgvector_1m and not args.quick:
        sizes.append(1_000_000)
    rows: list[Row] = []
    for size in sizes:
        load = _load()
        argv = ["--url", url, "--size", str(size), "--layout", args.pgvector_layout]
        if args.quick:
            argv += ["--queries", "10", "--vectors", "random", "--dim", "32"]
        elif size >= 1_000_000:
            argv += ["--queries", "50", "--build-memory", "3GB"]
        t0 = time.perf_counter()
        try:
            bench_pgvector.main(argv)
        except MatcherError as exc:  # pgvector missing: one clear error, reported
            rows.append(("pgvector", f"{size:,} vectors", f"skipped: {exc}", load))
            continue
        seconds = time.perf_counter() - t0
        rows.append(
            (
                "pgvector",
                f"{size:,} vectors",
                f"recall and latency per filter: table above ({seconds:.0f} s)",
                f"{load} -> {_load()}",
            )
        )
    return rows


def embed_parts(args: argparse.Namespace, parts: set[str]) -> list[Row]:
    from training import bench_embed

    shared: Path = args.shared_data
    if not (shared / "us_nonprofits_dev.csv.gz").exists():
        return [("embed", "", f"skipped: {shared} has no us_nonprofits_dev.csv.gz", _load())]
    n = 200 if args.quick else args.n
    load = _load()
    which = frozenset("executors" if x == "embed" else x for x in parts)
    out = bench_embed.run(shared, args.work_dir, n, args.workers, which)
    args.results["embed"] = out
    print(json.dumps(out, indent=2, default=str), flush=True)
    rows: list[Row] = []
    if "embed" in parts:
        local, ray = out["local"], out["ray"]
        rows.append(
            (
                "embed",
                f"{out['profiles']:,} profiles ({out['real']:,} real, {out['padded']:,} "
                f"padded), {out['workers']} workers",
                f"local {local['texts_per_second']} texts/s ({local['embed_seconds']:.0f} s, "
                f"{local['cpu_ms_per_text']} ms CPU/text), ray {ray['texts_per_second']} texts/s "
                f"({ray['embed_seconds']:.0f} s, {ray['cpu_ms_per_text']} ms CPU/text); max abs "
                f"difference {out['max_abs_difference']}",
                f"{load} -> {local['load_average_after']:.1f} / {ray['load_average_after']:.1f}",
            )
        )
    if "switch" in parts:
        s = out["switch"]
        if s["errors"]:
            args.failed = True
        rows.append(
            (
                "switch",
                f"{out['profiles']:,} profiles, served by uvicorn",
                f"{s['answers_during_job']} answers during the {s['switch_job_s']:.0f} s job, "
                f"{s['errors']} errors, longest without an answer {s['longest_gap_ms']:.0f} ms, "
                f"p99 {s['p99_ms']} ms; reopen on the new model {s['reopen_on_new_model_s']} s",
                "{:.1f} -> {:.1f}".format(*s["load_average"]),
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated of {PARTS}")
    p.add_argument("--quick", action="store_true", help="smoke-test sizes, not figures")
    p.add_argument("--writes", type=int, default=None, help="replicas: writes (1000)")
    p.add_argument("--database-url", default=os.environ.get("MATCHER_TEST_POSTGRES_URL"))
    p.add_argument("--pgvector-size", type=int, default=100_000)
    p.add_argument("--pgvector-1m", action="store_true", help="pgvector also at 1,000,000")
    p.add_argument(
        "--pgvector-layout",
        choices=["plain", "region", "both"],
        default="both",
        help="pgvector: one table, partitioned by region, or both compared in one run",
    )
    p.add_argument(
        "--n", type=int, default=100_000, help="embed/switch: profiles (real, then padded)"
    )
    p.add_argument("--workers", type=int, default=2, help="embed: Ray actors / local threads")
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--work-dir", type=Path, default=Path("var/bench-scale"))
    p.add_argument("--json", type=Path, help="also write every figure here")
    args = p.parse_args(argv)
    parts = {x.strip() for x in args.parts.split(",") if x.strip()}
    if not parts or parts - set(PARTS):
        p.error(f"--parts: a comma-separated subset of {','.join(PARTS)}")
    if args.writes is None:
        args.writes = 10 if args.quick else 1000
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args.results, args.failed = {}, False
    url = args.database_url if (args.database_url or "").startswith("postgresql") else None
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("replicas", lambda: replicas_part(args, url)),
        ("pgvector", lambda: pgvector_part(args, url)),
        ("embed", lambda: embed_parts(args, parts & {"embed", "switch"})),
    ]
    rows: list[Row] = []
    for name, step in steps:
        if name in parts or (name == "embed" and "switch" in parts):
            print(f"== bench-scale: {name} (load average {_load()})", flush=True)
            rows += step()
    print("\n| part | setting | figures | load average (1, 5, 15 min) |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.json:
        summary: dict[str, Any] = {"rows": rows, **args.results}
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 1 if args.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
