"""`make bench`: speed at 10k and 100k profiles.

Prints, per corpus size: embedding throughput (profiles/s and tokens/s: ours on torch, plain
sentence-transformers `encode` on torch, and ours on onnxruntime int8), index build time with
where it goes, memory, and p50/p95/p99 of one `Engine.recommend` call including query embedding
(query cache cleared before every call), unfiltered and filtered, with the query embedded by
torch and by onnx-int8.

Corpus: the real nonprofits of ../shared/data/us_nonprofits_dev.csv.gz (read at run time, never
copied). Real profiles are used when their vector is in the benchmark cache var/bench-cache
(shared with `make bench-quality`, keyed by the sha256 of the profile text); if fewer than
`--min-real` are cached the missing ones are embedded (torch) and cached. Sizes beyond the real
profiles are padded with generated profiles whose text recombines a real name, mission and place
and whose vector is the real vector of that mission plus small noise (re-normalised): they cost
the index, the lexical index and the filters what real profiles cost, without hours of embedding.
Padded profiles rotate over the five sectors; real ones are nonprofits.

Timings share the CPU with whatever else runs: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import psutil

from matcher.domain import Filters, Need, Organisation, Sector

logger = logging.getLogger(__name__)
SAMPLE_NEEDS = Path(__file__).resolve().parents[1] / "data" / "needs.jsonl"
SAMPLE_CAUSES = SAMPLE_NEEDS.with_name("causes.jsonl")
# the key under which training.benchmarks.embeddings.minilm_encoder caches torch fp32 vectors
BENCH_CACHE_KEY = "all-MiniLM-L6-v2-torch-fp32"
TokenCounter = Callable[[Sequence[str]], int]


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def real_nonprofits(shared: Path) -> list[Organisation]:
    df = pd.read_csv(shared / "us_nonprofits_dev.csv.gz", dtype=str).fillna("")
    orgs = []
    for r in df.to_dict("records"):
        name, mission = str(r["name"]).strip(), str(r["mission"]).strip()
        desc = mission or f"{name.title()} is a nonprofit in {r['city']}."
        orgs.append(
            Organisation(
                id=f"ein-{r['ein']}",
                name=name or str(r["ein"]),
                sector=Sector.nonprofit,
                description=desc[:20_000],
                city=str(r["city"]) or None,
                region=str(r["state"]) or None,
                postcode=str(r["zip"]) or None,
                country="US",
            )
        )
    return orgs


def recombined(
    i: int, src: Organisation, place: Organisation, sector: Sector, suffix: str = ""
) -> Organisation:
    """Padding profile number i: `src`'s mission in `place`'s city, under a name made of both."""
    return Organisation(
        id=f"pad-{i:06d}",
        name=f"{place.name.split()[0].title()} {src.name.title()}{suffix}",
        sector=sector,
        description=src.description,
        city=place.city,
        region=place.region,
        postcode=place.postcode,
        country="US",
    )


def padded(
    real: list[Organisation], vectors: np.ndarray, n: int, seed: int = 0
) -> tuple[list[Organisation], np.ndarray]:
    """Real profiles first, then recombined ones up to n (text and vector, see module doc)."""
    if n <= len(real):
        return real[:n], vectors[:n]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    sectors = list(Sector)
    extra = []
    picks = [(rng.randrange(len(real)), rng.randrange(len(real))) for _ in range(n - len(real))]
    for i, (a, b) in enumerate(picks):
        extra.append(recombined(i, real[a], real[b], sectors[i % len(sectors)]))
    rows = np.asarray([a for a, _ in picks], dtype=np.int64)
    noisy = vectors[rows] + nrng.normal(0, 0.02, (rows.size, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return real + extra, np.vstack([vectors, noisy.astype(np.float32)])


# embedding throughput ----------------------------------------------------------------------
def tokenizer_counter(model_path: Path, max_length: int = 256) -> TokenCounter:
    """Tokens the model sees per text (its own tokenizer, truncated as the model truncates)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()

    def count(texts: Sequence[str]) -> int:
        return sum(len(e.ids) for e in tok.encode_batch(list(texts)))

    return count


def throughput(
    texts: Sequence[str],
    encoders: dict[str, Callable[[Sequence[str]], Any]],
    count_tokens: TokenCounter,
    *,
    repeats: int = 2,
) -> dict[str, dict[str, float]]:
    """profiles/s and tokens/s of each encoder on `texts`: a warm-up call, then `repeats`
    interleaved timed runs of which the fastest counts (the CPU is shared)."""
    texts = list(texts)
    n_tokens = count_tokens(texts)
    best: dict[str, float] = {}
    for enc in encoders.values():
        enc(texts[:16])
    for _ in range(repeats):
        for label, enc in encoders.items():
            t0 = time.perf_counter()
            enc(texts)
            best[label] = min(best.get(label, np.inf), time.perf_counter() - t0)
    return {
        label: {
            "profiles": len(texts),
            "tokens": n_tokens,
            "seconds": s,
            "profiles_s": len(texts) / s,
            "tokens_s": n_tokens / s,
        }
        for label, s in best.items()
    }


# build -------------------------------------------------------------------------------------
class StageTimer:
    """Accumulates wall time per named stage of functions it wraps."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0

        return timed


@contextlib.contextmanager
def timed_stages(engine: Any, timer: StageTimer) -> Iterator[None]:
    """Time the stages of Engine.build/Engine.load without changing what they do."""
    import matcher.engine as eng
    from matcher.catalog import Catalog
    from matcher.index.lexical import LexicalIndex

    real_create = eng.new_vector_index

    def new_vector_index(*args: Any, **kwargs: Any) -> Any:
        index = real_create(*args, **kwargs)
        index.add = timer.wrap("ann add", index.add)  # type: ignore[method-assign]
        return index

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(
                engine.store,
                "organisations",
                timer.wrap("read rows (SQL -> pydantic)", engine.store.organisations),
            )
        )
        stack.enter_context(
            mock.patch.object(
                engine.store,
                "organisation_keys",
                timer.wrap("read row keys (SQL)", engine.store.organisation_keys),
            )
        )
        stack.enter_context(
            mock.patch.object(
                eng, "load_catalog", timer.wrap("load catalog snapshot", eng.load_catalog)
            )
        )
        stack.enter_context(
            mock.patch.object(
                engine.profile_embedder,
                "encode",
                timer.wrap("embed (cache lookups)", engine.profile_embedder.encode),
            )
        )
        stack.enter_context(
            mock.patch.object(LexicalIndex, "fit", timer.wrap("lexical fit", LexicalIndex.fit))
        )
        stack.enter_context(mock.patch.object(eng, "new_vector_index", new_vector_index))
        stack.enter_context(
            mock.patch.object(eng, "save_artifact", timer.wrap("save artifact", eng.save_artifact))
        )
        stack.enter_context(
            mock.patch.object(eng, "load_artifact", timer.wrap("load artifact", eng.load_artifact))
        )
        stack.enter_context(
            mock.patch.object(
                Catalog, "upsert", timer.wrap("catalog upsert (profiles)", Catalog.upsert)
            )
        )
        yield


# latency -----------------------------------------------------------------------------------
FILTER_CASES: dict[str, Filters | None] = {
    "no filter": None,
    "sector=business": Filters(sectors=[Sector.business]),
    "state=OR+nonprofit": Filters(region="OR", sectors=[Sector.nonprofit]),
}


def latency(
    engine: Any,
    needs: list[Need],
    rounds: int,
    cases: dict[str, Filters | None] | None = None,
) -> dict[str, dict[str, float]]:
    """p50/p95/p99 in ms of one recommend() including query embedding (query cache cleared
    before each call), and the p50 of reading the need alone (its text and clauses embedded,
    its asks read: what the query cache saves), per filter case."""
    out = {}
    real_read = engine._read_need  # what recommend() calls first, before ranking
    read_ms: list[float] = []

    def read(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_read(*args, **kwargs)
        finally:
            read_ms.append((time.perf_counter() - t0) * 1000)

    with mock.patch.object(engine, "_read_need", read):
        engine.recommend(needs[0], limit=10)  # warm-up
        for label, f in (cases if cases is not None else FILTER_CASES).items():
            times: list[float] = []
            read_ms.clear()
            for i in range(rounds):
                engine.reader.clear()
                need = needs[i % len(needs)]
                t0 = time.perf_counter()
                engine.recommend(need, filters=f, limit=10)
                times.append((time.perf_counter() - t0) * 1000)
            out[label] = {
                "p50": pct(times, 50),
                "p95": pct(times, 95),
                "p99": pct(times, 99),
                "read_p50": pct(read_ms, 50),
            }
    return out


def run_scale(
    n: int,
    orgs: list[Organisation],
    vectors: np.ndarray,
    embedder: Any,
    needs: list[Need],
    root: Path,
    rounds: int,
    query_embedders: dict[str, Any] | None = None,
    settings_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store n profiles, build the engine over them (vectors pre-cached), time reopening it,
    and time recommend() with the query embedded by each of `query_embedders` (default: the
    engine's own embedder)."""
    from matcher.embedding.cache import text_hash
    from matcher.engine import Engine
    from matcher.settings import Settings

    data_dir = root / f"speed-{n}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    sub, vecs = padded(orgs, vectors, n)
    settings = Settings(data_dir=data_dir, **(settings_overrides or {}))
    engine = Engine.open(settings, embedder=embedder, load=False)
    t0 = time.perf_counter()
    engine.store.upsert_organisations(sub)
    ingest_s = time.perf_counter() - t0
    engine.profile_embedder.cache.put_many(
        engine.profile_embedder.cache_key,
        {text_hash(o.profile_text()): v for o, v in zip(sub, vecs, strict=True)},
    )
    del sub, vecs
    gc.collect()
    before = rss_mb()
    build_timer = StageTimer()
    with timed_stages(engine, build_timer):
        t0 = time.perf_counter()
        report = engine.build()
        build_s = time.perf_counter() - t0
    gc.collect()
    after = rss_mb()
    from matcher.causes import read_causes

    engine.set_causes(read_causes(SAMPLE_CAUSES))  # as `make run` has: 20 causes
    lat: dict[str, dict[str, dict[str, float]]] = {}
    for label, q_embedder in (query_embedders or {"engine": embedder}).items():
        # the query reader embeds with its own reference to the embedder: both are swapped
        # (swapping the engine's alone timed the build's embedder in every case)
        with (
            mock.patch.object(engine, "embedder", q_embedder),
            mock.patch.object(engine.reader, "embedder", q_embedder),
        ):
            lat[label] = latency(engine, needs, rounds)
    engine.close()
    del engine
    gc.collect()
    reopen_timer = StageTimer()
    t0 = time.perf_counter()
    engine = Engine.open(settings, embedder=embedder, load=False)
    with timed_stages(engine, reopen_timer):
        engine.load()
    reopen_s = time.perf_counter() - t0
    engine.close()
    del engine
    gc.collect()
    return {
        "n": n,
        "index": report["index"],
        "ingest_s": ingest_s,
        "build_s": build_s,
        "build_stages_s": build_timer.seconds,
        "reopen_s": reopen_s,
        "reopen_stages_s": reopen_timer.seconds,
        "rss_mb": after,
        "build_delta_mb": after - before,
        "latency_ms": lat,
        "load_average": load_average(),
    }


# main --------------------------------------------------------------------------------------
def real_with_vectors(
    real: list[Organisation],
    store: Any,
    encode: Callable[[Sequence[str]], np.ndarray],
    min_real: int,
) -> tuple[list[Organisation], np.ndarray]:
    """The real profiles whose vectors are cached, topped up by embedding to `min_real`."""
    from training.benchmarks.embeddings import encode_cached, text_hash

    texts = [o.profile_text() for o in real]
    cached = store.get([text_hash(t) for t in texts])
    have = [i for i, t in enumerate(texts) if text_hash(t) in cached]
    if len(have) < min_real:
        chosen = set(have)
        todo = [i for i in range(len(real)) if i not in chosen][: min_real - len(have)]
        print(f"embedding {len(todo)} more real profiles into the cache ...", flush=True)
        encode_cached([texts[i] for i in todo], encode, store, progress=True, desc="real profiles")
        have = sorted(chosen | set(todo))
    vecs = encode_cached([texts[i] for i in have], encode, store)
    return [real[i] for i in have], vecs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--rounds", type=int, default=200, help="recommend calls per case")
    p.add_argument("--throughput-sample", type=int, default=512)
    p.add_argument("--min-real", type=int, default=10_000)
    p.add_argument("--backends", default="torch,onnx-int8", help="query embedders to time")
    p.add_argument("--work-dir", type=Path, default=Path("var/bench"))
    p.add_argument("--cache-dir", type=Path, default=Path("var/bench-cache"))
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not (args.shared_data / "us_nonprofits_dev.csv.gz").exists():
        print(f"bench: skipped, {args.shared_data} has no us_nonprofits_dev.csv.gz")
        return 0
    from matcher.embedding.factory import create_embedder
    from matcher.settings import Settings
    from training.benchmarks.embeddings import EmbeddingStore

    started = dt.datetime.now().astimezone()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = [b for b in args.backends.split(",") if b]
    embedders = {b: create_embedder(Settings(embed_backend=b)) for b in backends}
    torch_embedder: Any = embedders.get("torch") or create_embedder(Settings(embed_backend="torch"))
    torch_embedder.load()
    for e in embedders.values():
        getattr(e, "load", lambda: None)()

    real_all = real_nonprofits(args.shared_data)
    rng = random.Random(1)
    sample = [o.profile_text() for o in rng.sample(real_all, args.throughput_sample)]
    plain = torch_embedder._model
    tp: dict[str, dict[str, float]] = {}
    tp_load = load_average()
    if sample:
        print(f"embedding throughput on {len(sample)} real profiles ...", flush=True)
        encoders: dict[str, Callable[[Sequence[str]], Any]] = {
            "plain sentence-transformers (torch)": lambda t: plain.encode(
                list(t), normalize_embeddings=True
            ),
            "ours, torch": torch_embedder.encode,
        }
        for b, e in embedders.items():
            if b != "torch":
                encoders[f"ours, {b} (OnnxEmbedder)"] = e.encode
        tp = throughput(
            sample,
            encoders,
            tokenizer_counter(torch_embedder.model_path, int(plain.max_seq_length)),
        )
        tp_load = load_average()
        for label, t in tp.items():
            print(f"  {label:<40} {t['profiles_s']:7.1f} profiles/s {t['tokens_s']:8.0f} tokens/s")

    store = EmbeddingStore(args.cache_dir, BENCH_CACHE_KEY)
    real, vectors = real_with_vectors(
        real_all, store, lambda t: torch_embedder.encode(list(t)), args.min_real
    )
    print(f"{len(real)} real profiles with cached vectors", flush=True)
    needs = [
        Need.model_validate({"text": json.loads(line)["text"]})
        for line in SAMPLE_NEEDS.read_text().splitlines()
        if line.strip()
    ]
    results = []
    for n in sizes:
        print(f"size {n}: store, build, {args.rounds} recommend calls per case ...", flush=True)
        results.append(
            run_scale(
                n, real, vectors, torch_embedder, needs, args.work_dir, args.rounds, embedders
            )
        )
        print_scale(results[-1], len(real))
    meta = {
        "date": started.isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "throughput_load_average": tp_load,
        "real_profiles": len(real),
    }
    print_report(meta, tp, results)
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "throughput": tp, "scales": results}, indent=2)
        )
    return 0


def print_report(
    meta: dict[str, Any], tp: dict[str, dict[str, float]], results: list[dict[str, Any]]
) -> None:
    print(f"\nmake bench, {meta['date']}, {meta['machine']}")
    print(
        f"\nEmbedding throughput, all-MiniLM-L6-v2, "
        f"{next(iter(tp.values()), {}).get('profiles', 0)} real profiles, best of 2 "
        f"(load average {meta['throughput_load_average']})"
    )
    for label, t in tp.items():
        print(f"  {label:<40} {t['profiles_s']:7.1f} profiles/s {t['tokens_s']:8.0f} tokens/s")
    for r in results:
        print_scale(r, meta["real_profiles"])


def print_scale(r: dict[str, Any], real_profiles: int) -> None:
    print(
        f"\n{r['n']:,} profiles ({min(real_profiles, r['n']):,} real), index {r['index']}, "
        f"load average {r['load_average']}"
    )
    stages = ", ".join(f"{k} {v:.1f}" for k, v in r["build_stages_s"].items())
    print(f"  build {r['build_s']:.1f} s ({stages})")
    stages = ", ".join(f"{k} {v:.1f}" for k, v in r["reopen_stages_s"].items())
    print(f"  reopen (Engine.open + load) {r['reopen_s']:.1f} s ({stages})")
    print(f"  ingest into SQLite {r['ingest_s']:.1f} s (not part of build)")
    print(f"  memory: RSS {r['rss_mb']:.0f} MB after build, +{r['build_delta_mb']:.0f} MB by it")
    print("  recommend ms (incl. query embedding)   p50 /   p95 /   p99   (reading the need p50)")
    for backend, cases in r["latency_ms"].items():
        for label, lat in cases.items():
            print(
                f"    {backend:<10} {label:<20} {lat['p50']:7.1f} / {lat['p95']:5.1f} / "
                f"{lat['p99']:5.1f}   ({lat['read_p50']:.1f})"
            )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
