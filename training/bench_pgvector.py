"""pgvector back end: recall@10 against exact search and retrieval latency under hard filters.

    MATCHER_PG_PORT=55433 bash scripts/with-postgres.sh \\
        python -m training.bench_pgvector --size 100000 [--vectors-from DIR | --vectors random]

Vectors: real text embeddings read at run time from an embedding cache folder of
`*-vectors.npy` shards (the benchmarks' cache, `$MATCHER_BENCH_DIR/bench-cache` or
`var/bench-cache`; the folder with the most vectors), padded to --size with noisy copies as
`make bench` pads profiles; queries are cached vectors left out of the table. Without a cache,
or with `--vectors random`, Gaussian random unit vectors (the hard case for HNSW).

Filter columns are synthetic and independent of the vectors, so a filter keeps an exact
fraction: 100% (none), 20% (one sector of five), 2% (sector and one region of ten), 0.2%
(sector, region and one country of ten). For each: the engine's choice (filtered_top_k: exact
up to --exact-threshold admitted rows, else HNSW with iterative scans and an exact fallback),
HNSW forced, and exact forced; recall@10 is measured against the exact top 10, latency is the
whole retrieval step as seen by the caller: search and fallback, plus the count in PostgreSQL
on the "counted" row ("known": the engine passes the count its catalog mask already gives).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine

from matcher.domain import SECTORS, Filters
from matcher.index.filtered import FilteredDense, filtered_top_k
from matcher.index.pg_filters import RowAttributes
from matcher.index.pg_store import PgVectorStore, sqlalchemy_url

K = 10


def cache_folders(explicit: Path | None) -> list[Path]:
    if explicit is not None:
        return [explicit]
    roots = (
        [Path(os.environ["MATCHER_BENCH_DIR"]) / "bench-cache"]
        if "MATCHER_BENCH_DIR" in os.environ
        else []
    )
    roots.append(Path("var/bench-cache"))
    return [d for r in roots if r.is_dir() for d in r.iterdir() if d.is_dir()]


def cached_vectors(folder: Path) -> np.ndarray:
    shards = [np.load(f, allow_pickle=False) for f in sorted(folder.glob("*-vectors.npy"))]
    if not shards:
        return np.zeros((0, 0), np.float32)
    vecs = np.vstack(shards).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def load_vectors(
    args: argparse.Namespace, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, str]:
    """(table vectors, query vectors, where they came from)."""
    if args.vectors != "random":
        found = [(cached_vectors(f), f) for f in cache_folders(args.vectors_from)]
        found = [(v, f) for v, f in found if v.shape[0] > args.queries]
        if found:
            vecs, folder = max(found, key=lambda x: x[0].shape[0])
            order = rng.permutation(vecs.shape[0])
            queries, real = vecs[order[: args.queries]], vecs[order[args.queries :]]
            real = real[: args.size]
            if real.shape[0] < args.size:  # pad with noisy copies, as `make bench` does
                rows = rng.integers(0, real.shape[0], args.size - real.shape[0])
                noise = rng.normal(0, 0.02, (rows.size, real.shape[1])).astype(np.float32)
                pad = real[rows] + noise
                real = np.vstack([real, pad / np.linalg.norm(pad, axis=1, keepdims=True)])
            n_real = min(args.size, vecs.shape[0] - args.queries)
            return real, queries, f"{n_real} real embeddings from {folder}, padded to {args.size}"
        if args.vectors == "real":
            raise SystemExit(
                "no embedding cache found: pass --vectors-from DIR or --vectors random"
            )
    x = rng.standard_normal((args.size + args.queries, args.dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x[args.queries :], x[: args.queries], f"{args.size} random unit vectors"


COUNTRIES = ["US", "CA", "GB", "FR", "DE", "MX", "JP", "AU", "IN", "BR"]


def attributes(n: int, rng: np.random.Generator) -> list[RowAttributes]:
    r = rng.permutation(n)
    return [
        RowAttributes(
            org_id=f"b{i}",
            sector=int(v % 5),
            region=f"r{(v // 5) % 10}",
            country=COUNTRIES[(v // 50) % 10],
        )
        for i, v in enumerate(r.tolist())
    ]


FILTERS: list[tuple[str, Filters | None]] = [
    ("100%", None),
    ("20%", Filters(sectors=[SECTORS[0]])),
    ("2%", Filters(sectors=[SECTORS[0]], region="r0")),
    ("0.2%", Filters(sectors=[SECTORS[0]], region="r0", country="US")),
]


def run(
    store: FilteredDense,
    queries: np.ndarray,
    f: Filters | None,
    threshold: int,
    truth: list[set[int]],
    admitted: int | None = None,
) -> dict[str, object]:
    times: list[float] = []
    recalls: list[float] = []
    methods: Counter[str] = Counter()
    for q, want in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        hits = filtered_top_k(store, q, K, f, exact_threshold=threshold, admitted=admitted)
        times.append((time.perf_counter() - t0) * 1000)
        recalls.append(len(set(hits.ids.tolist()) & want) / max(1, min(K, len(want))))
        methods[hits.method] += 1
    return {
        "recall": float(np.mean(recalls)),
        "p50": float(np.percentile(times, 50)),
        "p95": float(np.percentile(times, 95)),
        "methods": dict(methods),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--url", default=os.environ.get("MATCHER_TEST_POSTGRES_URL"))
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--vectors", choices=["auto", "real", "random"], default="auto")
    p.add_argument("--vectors-from", type=Path, help="a folder of *-vectors.npy shards")
    p.add_argument("--dim", type=int, default=384, help="dimension of random vectors")
    p.add_argument("--exact-threshold", type=int, default=5_000)
    p.add_argument("--ef-search", type=int, default=100)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--table", default="bench_vectors")
    p.add_argument("--build-memory", default="512MB", help="maintenance_work_mem for the build")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep a loaded table of the same size (same vectors: same seed and source)",
    )
    args = p.parse_args(argv)
    if not args.url:
        raise SystemExit("no PostgreSQL URL: pass --url or run under scripts/with-postgres.sh")
    rng = np.random.default_rng(0)
    vectors, queries, source = load_vectors(args, rng)
    dim = vectors.shape[1]
    print(f"vectors: {source}; {args.queries} queries; dimension {dim}", flush=True)

    def open_store() -> PgVectorStore:
        return PgVectorStore(
            args.url,
            dim,
            table=args.table,
            hnsw_m=args.m,
            ef_construction=args.ef_construction,
            ef_search=args.ef_search,
            build_memory=args.build_memory,
        )

    if not args.reuse:  # a fresh table, whatever was there (another dimension included)
        admin = create_engine(sqlalchemy_url(args.url))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {args.table}")
        admin.dispose()
    store = open_store()
    if len(store) != args.size:
        store.drop()
        store = open_store()
        store.drop_ann_index()
        t0 = time.perf_counter()
        ids = np.arange(1, args.size + 1, dtype=np.int64)
        attrs = attributes(args.size, rng)
        for start in range(0, args.size, 20_000):
            sl = slice(start, start + 20_000)
            store.upsert(ids[sl], vectors[sl], attrs[sl])
        t1 = time.perf_counter()
        store.create_ann_index()
        t2 = time.perf_counter()
        print(
            f"load {t1 - t0:.1f} s, HNSW build (m={args.m}, ef_construction="
            f"{args.ef_construction}) {t2 - t1:.1f} s",
            flush=True,
        )
    print(
        f"exact threshold {args.exact_threshold} admitted rows; ef_search {args.ef_search}; "
        f"k={K}; latency in ms per query (count + search + fallback)"
    )
    print(
        f"{'filter':>6} {'admitted':>9}  {'path':<15} {'recall@10':>9} {'p50':>8} {'p95':>8}"
        "  methods"
    )
    for label, f in FILTERS:
        n = store.count_upto(f)
        truth = [set(store.exact(q, K, f)[0].tolist()) for q in queries]
        for path, threshold, given in [
            ("engine, counted", args.exact_threshold, None),  # count_upto in PostgreSQL
            ("engine, known", args.exact_threshold, n),  # the count from the engine's mask
            ("hnsw forced", 0, n),
            ("exact forced", args.size + 1, n),
        ]:
            r = run(store, queries, f, threshold, truth, given)
            print(
                f"{label:>6} {n:>9}  {path:<15} {r['recall']:>9.3f} {r['p50']:>8.2f} "
                f"{r['p95']:>8.2f}  {r['methods']}",
                flush=True,
            )
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
