"""`make bench`: speed at 10k and 100k profiles.

Prints, per corpus size: embedding throughput (profiles/s and tokens/s, ours beside plain
sentence-transformers), index build time, memory, and p50/p95/p99 of one `Engine.recommend` call
including query embedding (query cache cleared before each call).

Corpus: the real nonprofits of ../shared/data/us_nonprofits_dev.csv.gz (read at run time, never
copied), padded where needed with generated profiles whose text recombines real names, missions
and places and whose vectors are the real vectors of the recombined mission plus small noise
(re-normalised): they cost the index and the filters what real profiles cost, without another
hour of embedding. Real vectors are cached under var/bench-cache between runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from matcher.domain import Filters, Need, Organisation, Sector

logger = logging.getLogger(__name__)
SAMPLE_NEEDS = Path(__file__).resolve().parents[1] / "data" / "needs.jsonl"


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def real_nonprofits(shared: Path) -> list[Organisation]:
    df = pd.read_csv(shared / "us_nonprofits_dev.csv.gz", dtype=str).fillna("")
    orgs = []
    for r in df.itertuples(index=False):
        desc = r.mission.strip() or f"{r.name.strip().title()} is a nonprofit in {r.city}."
        orgs.append(
            Organisation(
                id=f"ein-{r.ein}",
                name=r.name.strip() or r.ein,
                sector=Sector.nonprofit,
                description=desc[:20_000],
                city=r.city or None,
                region=r.state or None,
                postcode=r.zip or None,
                country="US",
            )
        )
    return orgs


def padded(
    real: list[Organisation], vectors: np.ndarray, n: int, seed: int = 0
) -> tuple[list[Organisation], np.ndarray]:
    """Real profiles first, then recombined ones up to n (text and vector, see module doc)."""
    if n <= len(real):
        return real[:n], vectors[:n]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    sectors = list(Sector)
    extra, extra_vecs = [], []
    for i in range(n - len(real)):
        a, b = rng.randrange(len(real)), rng.randrange(len(real))
        src, place = real[a], real[b]
        extra.append(
            Organisation(
                id=f"pad-{i:06d}",
                name=f"{place.name.split()[0].title()} {src.name.title()}",
                sector=sectors[i % len(sectors)],
                description=src.description,
                city=place.city,
                region=place.region,
                postcode=place.postcode,
                country="US",
            )
        )
        v = vectors[a] + nrng.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
        extra_vecs.append(v / np.linalg.norm(v))
    return real + extra, np.vstack([vectors, np.asarray(extra_vecs, np.float32)])


def throughput(texts: list[str], embedder: Any) -> dict[str, float]:
    """Ours (length-sorted batches) beside plain sentence-transformers `encode`."""
    model = embedder.load()._model if hasattr(embedder, "load") else None
    n_tokens = 0
    if model is not None:
        limit = int(getattr(model, "max_seq_length", 256))
        n_tokens = sum(min(limit, len(model.tokenizer(t)["input_ids"])) for t in texts)
    t0 = time.perf_counter()
    embedder.encode(texts)
    ours = time.perf_counter() - t0
    out = {
        "profiles": len(texts),
        "tokens": n_tokens,
        "ours_profiles_s": len(texts) / ours,
        "ours_tokens_s": n_tokens / ours if n_tokens else 0.0,
    }
    if model is not None:
        t0 = time.perf_counter()
        model.encode(texts, normalize_embeddings=True)
        plain = time.perf_counter() - t0
        out.update(
            plain_profiles_s=len(texts) / plain,
            plain_tokens_s=n_tokens / plain if n_tokens else 0.0,
        )
    return out


def latency(engine: Any, needs: list[Need], rounds: int) -> dict[str, dict[str, float]]:
    """p50/p95/p99 in ms of recommend(), unfiltered and with a state + sector filter."""
    cases = {
        "no filter": None,
        "state+sector filter": Filters(region="OR", sectors=["nonprofit"]),
        "radius 50 km": Filters(near=(45.52, -122.68), radius_km=50),
    }
    out = {}
    for label, f in cases.items():
        times = []
        for i in range(rounds):
            engine._query_cache.clear()
            need = needs[i % len(needs)]
            t0 = time.perf_counter()
            engine.recommend(need, filters=f, limit=10)
            times.append((time.perf_counter() - t0) * 1000)
        out[label] = {"p50": pct(times, 50), "p95": pct(times, 95), "p99": pct(times, 99)}
    return out


def run_scale(
    n: int,
    orgs: list[Organisation],
    vectors: np.ndarray,
    embedder: Any,
    needs: list[Need],
    root: Path,
    rounds: int,
) -> dict[str, Any]:
    from matcher.embedding.cache import text_hash
    from matcher.engine import Engine
    from matcher.settings import Settings

    data_dir = root / f"speed-{n}"
    if data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    sub, vecs = padded(orgs, vectors, n)
    engine = Engine.open(Settings(data_dir=data_dir), embedder=embedder, load=False)
    engine.store.upsert_organisations(sub)
    engine.profile_embedder.cache.put_many(
        embedder.model_name,
        {text_hash(o.profile_text()): v for o, v in zip(sub, vecs, strict=False)},
    )
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    report = engine.build()
    build_s = time.perf_counter() - t0
    mem = rss_mb() - before
    lat = latency(engine, needs, rounds)
    engine.close()
    return {
        "n": n,
        "index": report["index"],
        "build_s": build_s,
        "memory_mb": mem,
        "latency_ms": lat,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--throughput-sample", type=int, default=1000)
    p.add_argument("--work-dir", type=Path, default=Path("var/bench"))
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (args.shared_data / "us_nonprofits_dev.csv.gz").exists():
        print(f"bench: skipped, {args.shared_data} has no us_nonprofits_dev.csv.gz")
        return 0
    from matcher.embedding.factory import create_embedder
    from matcher.settings import Settings
    from training.benchmarks.embeddings import DEFAULT_CACHE, EmbeddingStore, encode_cached

    sizes = [int(s) for s in args.sizes.split(",")]
    embedder = create_embedder(Settings())
    real = real_nonprofits(args.shared_data)
    rng = random.Random(1)
    sample = [o.profile_text() for o in rng.sample(real, args.throughput_sample)]
    print(f"embedding throughput on {len(sample)} real profiles ...", flush=True)
    tp = throughput(sample, embedder)
    need_n = min(max(sizes), len(real))
    store = EmbeddingStore(DEFAULT_CACHE, embedder.model_name)
    vectors = encode_cached(
        [o.profile_text() for o in real[:need_n]],
        embedder.encode,
        store,
        progress=True,
        desc="real profiles (cached)",
    )
    needs = [
        Need.model_validate({k: v for k, v in json.loads(line).items() if k in ("text",)})
        for line in SAMPLE_NEEDS.read_text().splitlines()
        if line.strip()
    ]
    results = [
        run_scale(n, real[:need_n], vectors, embedder, needs, args.work_dir, args.rounds)
        for n in sizes
    ]
    print_report(tp, results)
    if args.json:
        args.json.write_text(json.dumps({"throughput": tp, "scales": results}, indent=2))
    return 0


def print_report(tp: dict[str, float], results: list[dict[str, Any]]) -> None:
    print("\nEmbedding throughput (all-MiniLM-L6-v2, CPU, 2 cores)")
    print(
        f"  ours (length-sorted batches): {tp['ours_profiles_s']:.1f} profiles/s, "
        f"{tp['ours_tokens_s']:.0f} tokens/s"
    )
    if "plain_profiles_s" in tp:
        print(
            f"  plain sentence-transformers : {tp['plain_profiles_s']:.1f} profiles/s, "
            f"{tp['plain_tokens_s']:.0f} tokens/s"
        )
    print("\n  size   index  build s  memory MB  | recommend ms p50 / p95 / p99")
    for r in results:
        first = True
        for label, lat in r["latency_ms"].items():
            head = (
                f"{r['n']:>7} {r['index']:>6} {r['build_s']:>8.1f} {r['memory_mb']:>10.0f}"
                if first
                else " " * 34
            )
            print(
                f"  {head}  | {label:<20} {lat['p50']:6.1f} / {lat['p95']:6.1f} / {lat['p99']:6.1f}"
            )
            first = False


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
