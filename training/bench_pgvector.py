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

--layout both loads the same rows into a plain table and one partitioned by region
(PgVectorStore(partition_by_region=True)) and measures both; --regions us spreads rows over 51
regions with US state population shares instead of ten of 10% (the 2% filter then takes the
largest, about 12%, and a row for the smallest is added); --wide makes a fraction of rows
national bodies (the wide partition every region filter of their country also reads).
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
from matcher.index.pg_filters import NATIONAL, RowAttributes
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
# US states (and DC) by share of the 2020 census population, in per cent (rounded; a proxy for
# how organisations spread over states: the largest about 12%, the smallest 0.2%)
US_SHARES = {
    "ca": 11.9, "tx": 8.8, "fl": 6.5, "ny": 6.1, "pa": 3.9, "il": 3.9, "oh": 3.6, "ga": 3.3,
    "nc": 3.2, "mi": 3.0, "nj": 2.8, "va": 2.6, "wa": 2.3, "az": 2.2, "ma": 2.1, "tn": 2.1,
    "in": 2.0, "md": 1.9, "mo": 1.9, "wi": 1.8, "co": 1.7, "mn": 1.7, "sc": 1.6, "al": 1.5,
    "la": 1.4, "ky": 1.4, "or": 1.3, "ok": 1.2, "ct": 1.1, "ut": 1.0, "ia": 1.0, "nv": 0.9,
    "ar": 0.9, "ms": 0.9, "ks": 0.9, "nm": 0.6, "ne": 0.6, "id": 0.6, "wv": 0.5, "hi": 0.4,
    "nh": 0.4, "me": 0.4, "ri": 0.3, "mt": 0.3, "de": 0.3, "sd": 0.3, "nd": 0.2, "ak": 0.2,
    "dc": 0.2, "vt": 0.2, "wy": 0.2,
}  # fmt: skip


def region_names(shape: str) -> tuple[list[str], np.ndarray]:
    """(region keys, their shares): ten of 10% ('uniform') or 51 US-like ones ('us')."""
    if shape == "us":
        shares = np.asarray(list(US_SHARES.values()))
        return list(US_SHARES), shares / shares.sum()
    return [f"r{i}" for i in range(10)], np.full(10, 0.1)


def attributes(
    n: int, rng: np.random.Generator, shape: str = "uniform", wide: float = 0.0
) -> list[RowAttributes]:
    """Synthetic filter columns: a sector of five and a country of ten exactly evenly, a region
    by `shape`'s shares; a `wide` fraction of rows national bodies (they keep their region, and
    every region filter of their country admits them)."""
    r = rng.permutation(n)
    names, shares = region_names(shape)
    if shape == "uniform":  # exact shares, as before the region shapes
        regions = [names[(v // 5) % 10] for v in r.tolist()]
    else:
        regions = [names[i] for i in rng.choice(len(names), size=n, p=shares).tolist()]
    national = rng.random(n) < wide
    return [
        RowAttributes(
            org_id=f"b{i}",
            sector=int(v % 5),
            region=regions[i],
            country=COUNTRIES[(v // 50) % 10],
            level=NATIONAL if national[i] else 0,
        )
        for i, v in enumerate(r.tolist())
    ]


def filters_for(shape: str) -> list[tuple[str, Filters | None]]:
    """Filters keeping 100%, 20%, 2% and 0.2% of rows (uniform regions); with US-like regions
    the largest region stands for r0 (2.4% and 0.24%) and the smallest adds a row."""
    names, _ = region_names(shape)
    rows: list[tuple[str, Filters | None]] = [
        ("100%", None),
        ("20%", Filters(sectors=[SECTORS[0]])),
        ("2%", Filters(sectors=[SECTORS[0]], region=names[0])),
        ("0.2%", Filters(sectors=[SECTORS[0]], region=names[0], country="US")),
    ]
    if shape == "us":
        rows.append(("small", Filters(sectors=[SECTORS[0]], region=names[-1])))
    return rows


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


LAYOUTS = {"plain": False, "region": True}


def load_store(
    args: argparse.Namespace,
    dim: int,
    table: str,
    partitioned: bool,
    vectors: np.ndarray,
    attrs: list[RowAttributes],
) -> PgVectorStore:
    def open_store() -> PgVectorStore:
        return PgVectorStore(
            args.url,
            dim,
            table=table,
            hnsw_m=args.m,
            ef_construction=args.ef_construction,
            ef_search=args.ef_search,
            build_memory=args.build_memory,
            partition_by_region=partitioned,
        )

    if not args.reuse:  # a fresh table, whatever was there (another dimension included)
        admin = create_engine(sqlalchemy_url(args.url))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        admin.dispose()
    store = open_store()
    if len(store) != args.size:
        store.drop()
        store = open_store()
        store.drop_ann_index()
        t0 = time.perf_counter()
        ids = np.arange(1, args.size + 1, dtype=np.int64)
        for start in range(0, args.size, 20_000):
            sl = slice(start, start + 20_000)
            store.upsert(ids[sl], vectors[sl], attrs[sl])
        t1 = time.perf_counter()
        store.create_ann_index()
        t2 = time.perf_counter()
        parts = f", {len(store.partitions())} partitions" if partitioned else ""
        print(
            f"{table}: load {t1 - t0:.1f} s, HNSW build (m={args.m}, ef_construction="
            f"{args.ef_construction}) {t2 - t1:.1f} s{parts}",
            flush=True,
        )
    return store


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
        "--layout",
        choices=["plain", "region", "both"],
        default="plain",
        help="one table (plain), partitioned by region (region), or both in one run",
    )
    p.add_argument(
        "--regions",
        choices=["uniform", "us"],
        default="uniform",
        help="ten regions of 10%% each, or 51 with US state population shares",
    )
    p.add_argument("--wide", type=float, default=0.0, help="fraction of national bodies")
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
    attrs = attributes(args.size, rng, args.regions, args.wide)
    print(
        f"vectors: {source}; {args.queries} queries; dimension {dim}; regions {args.regions}; "
        f"national bodies {args.wide:.0%}",
        flush=True,
    )
    layouts = list(LAYOUTS) if args.layout == "both" else [args.layout]
    stores = {
        name: load_store(
            args,
            dim,
            args.table if name == "plain" else f"{args.table}_region",
            LAYOUTS[name],
            vectors,
            attrs,
        )
        for name in layouts
    }
    print(
        f"exact threshold {args.exact_threshold} admitted rows; ef_search {args.ef_search}; "
        f"k={K}; latency in ms per query (count + search + fallback)"
    )
    print(
        f"{'layout':<6} {'filter':>6} {'admitted':>9}  {'path':<15} {'recall@10':>9} "
        f"{'p50':>8} {'p95':>8}  methods"
    )
    for label, f in filters_for(args.regions):
        truths: dict[str, list[set[int]]] = {}
        for name, store in stores.items():
            n = store.count_upto(f)
            truth = truths[name] = [set(store.exact(q, K, f)[0].tolist()) for q in queries]
            for path, threshold, given in [
                ("engine, counted", args.exact_threshold, None),  # count_upto in PostgreSQL
                ("engine, known", args.exact_threshold, n),  # the count from the engine's mask
                ("hnsw forced", 0, n),
                ("exact forced", args.size + 1, n),
            ]:
                r = run(store, queries, f, threshold, truth, given)
                print(
                    f"{name:<6} {label:>6} {n:>9}  {path:<15} {r['recall']:>9.3f} "
                    f"{r['p50']:>8.2f} {r['p95']:>8.2f}  {r['methods']}",
                    flush=True,
                )
        if len(truths) == 2 and truths["plain"] != truths["region"]:
            print(f"{label}: exact top {K} differ between layouts (ties at equal scores?)")
    for store in stores.values():
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
