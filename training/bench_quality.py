"""Benchmarks T1 and T2 (../shared/benchmarks/README.md): baselines and the engine, in one run.

    python -m training.bench_quality --shared-data ../shared/data [--t1-queries 400] [--json OUT]

Exits 0 with a message when the shared data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from matcher.causes import Cause, read_causes
from training.benchmarks import baselines, hybrid
from training.benchmarks.embeddings import EmbeddingStore, encode_cached, minilm_encoder
from training.benchmarks.engine_runner import BenchEmbedder, run_engine_t1, run_engine_t2
from training.benchmarks.report import Figures, figures, print_tables
from training.benchmarks.tasks import (
    GRANTS_FILE,
    NONPROFITS_FILE,
    NTEE_FILE,
    T1Task,
    T2Task,
    build_t1,
    build_t2,
    restrict_t1,
    t1_ideal_gains,
)

REPO = Path(__file__).resolve().parents[1]
WORK_DIR_ENV = "MATCHER_BENCH_DIR"


def bench_dir(given: Path | None = None) -> Path:
    """Where the embedding cache, ONNX exports and engine data dirs live: `given`, else
    $MATCHER_BENCH_DIR, else REPO/var. Share one across worktrees to reuse the embeddings."""
    if given is not None:
        return Path(given).expanduser().resolve()
    env = os.environ.get(WORK_DIR_ENV, "").strip()
    return Path(env).expanduser().resolve() if env else REPO / "var"


CACHE_DIR = bench_dir() / "bench-cache"
ENGINE_DIR = bench_dir() / "bench" / "t1"
T2_ENGINE_DIR = bench_dir() / "bench" / "t2"
T2_COLUMNS = ("Hit@1", "Hit@5", "MRR")


class LazyEncoder:
    """Loads the model only when a text is missing from the cache."""

    def __init__(self) -> None:
        self.key = "all-MiniLM-L6-v2-torch-fp32"
        self._encode: Any = None

    def __call__(self, texts: Any) -> np.ndarray:
        if self._encode is None:
            key, self._encode = minilm_encoder()
            assert key == self.key
        return np.asarray(self._encode(texts))


def t1_figures(task: T1Task, results: Any) -> Figures:
    return figures(
        results,
        task.relevance(),
        task.queries["query_id"].tolist(),
        ideal=t1_ideal_gains(task),
        min_gain=1.0,
    )


def t2_figures(task: T2Task, results: Any) -> Figures:
    figs = figures(results, task.relevance(), task.test["grant_id"].tolist())
    return {k: v for k, v in figs.items() if k in T2_COLUMNS}


def engine_embedder(
    torch_store: EmbeddingStore, torch_encoder: LazyEncoder, work_dir: Path | None = None
) -> BenchEmbedder:
    """The engine's default embedder (Settings().embed_backend) behind the benchmark cache: the
    engine rows measure what `matcher` runs. Torch reuses the baselines' vectors."""
    from matcher.embedding.factory import create_embedder
    from matcher.settings import Settings

    root = bench_dir(work_dir)
    settings = Settings(data_dir=root)  # ONNX exports are cached in <work dir>/models/onnx
    if settings.embed_backend == "torch":
        return BenchEmbedder(torch_store, lambda: torch_encoder)
    model = create_embedder(settings)
    store = EmbeddingStore(root / "bench-cache", model.model_name)
    return BenchEmbedder(store, lambda: model.encode, model_name=model.model_name)


def t1_filter_violations(task: T1Task, results: Any) -> int:
    """Results whose profile is not in the query's state (the hard filter of every query)."""
    region_of_item = dict(zip(task.profiles["id"], task.profiles["region"], strict=True))
    region_of_query = dict(zip(task.queries["query_id"], task.queries["region"], strict=True))
    return int(
        sum(
            region_of_item.get(item) != region_of_query[q]
            for q, item in zip(results["query_id"], results["item_id"], strict=True)
        )
    )


def run_t1(
    task: T1Task, store: EmbeddingStore, encoder: LazyEncoder, ntee: list[Cause]
) -> dict[str, Figures | str]:
    """Baselines, the reference method, and the engine without and with the NTEE taxonomy
    loaded as its cause taxonomy (the public code definitions; no profile's code is given)."""
    rows: dict[str, Figures | str] = {}
    docs_text = baselines.t1_doc_texts(task, with_name=True)
    docs = encode_cached(docs_text, encoder, store, progress=True, desc="T1 profiles")
    queries = encode_cached(task.queries["text"].tolist(), encoder, store, desc="T1 queries")
    rows["random"] = t1_figures(task, baselines.t1_random(task))
    rows["TF-IDF baseline"] = t1_figures(task, baselines.t1_tfidf(task))
    rows["dense baseline (cosine)"] = t1_figures(task, baselines.t1_dense(task, docs, queries))
    multi = hybrid.multi_sentence_vectors(
        task.queries["text"].tolist(),
        queries,
        lambda texts: encode_cached(texts, encoder, store, desc="T1 query sentences"),
    )
    rows["proposed: centred+sentences+z-fusion"] = t1_figures(
        task, hybrid.t1_hybrid(task, docs, multi)
    )
    try:
        if ENGINE_DIR.exists() and os.environ.get("BENCH_KEEP_ENGINE_DIR") != "1":
            shutil.rmtree(ENGINE_DIR)
        embedder = engine_embedder(store, encoder)
        taxonomies = {"engine (no taxonomy)": [], "engine + NTEE cause taxonomy": ntee}
        for label, results in run_engine_t1(
            task, ENGINE_DIR, embedder, taxonomies=taxonomies
        ).items():
            rows[label] = t1_figures(task, results)
            bad = t1_filter_violations(task, results)
            rows[f"{label}: filter violations"] = f"{bad} of {len(results)} results"
            print(f"{label}: {bad} of {len(results)} results outside the query's state")
    except Exception as exc:  # noqa: BLE001 - the engine is optional here, baselines still count
        rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    return rows


def run_t2(task: T2Task, store: EmbeddingStore, encoder: LazyEncoder) -> dict[str, Figures | str]:
    hist = encode_cached(task.history["text"].tolist(), encoder, store, desc="T2 history")
    test = encode_cached(task.test["text"].tolist(), encoder, store, desc="T2 test")
    rows: dict[str, Figures | str] = {
        "majority": t2_figures(task, baselines.t2_majority(task)),
        "TF-IDF baseline (concatenated)": t2_figures(task, baselines.t2_tfidf(task)),
        "dense baseline (centroid)": t2_figures(task, baselines.t2_dense(task, hist, test)),
        "proposed: learned funder profile": t2_figures(task, hybrid.t2_learned(task, hist, test)),
    }
    try:
        if T2_ENGINE_DIR.exists():
            shutil.rmtree(T2_ENGINE_DIR)
        embedder = engine_embedder(store, encoder)
        for label, results in run_engine_t2(task, T2_ENGINE_DIR, embedder).items():
            rows[label] = t2_figures(task, results)
    except Exception as exc:  # noqa: BLE001 - the engine is optional here, baselines still count
        rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--t1-queries", type=int, default=400)
    parser.add_argument("--json", type=Path, default=None, help="write all figures to this file")
    parser.add_argument(
        "--t1-states",
        default=None,
        help="comma-separated states: restrict T1 to them (quick development runs only)",
    )
    args = parser.parse_args(argv)
    shared: Path = args.shared_data
    needed = [NONPROFITS_FILE, NTEE_FILE, GRANTS_FILE]
    if not all((shared / f).is_file() for f in needed):
        print(f"bench-quality skipped: shared data not found in {shared} (needs {needed})")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    encoder = LazyEncoder()
    store = EmbeddingStore(CACHE_DIR, encoder.key)
    t1 = build_t1(shared, n_queries=args.t1_queries)
    if args.t1_states:
        t1 = restrict_t1(t1, args.t1_states.split(","))
    t2 = build_t2(shared)
    print(
        f"T1: {len(t1.profiles)} profiles, {len(t1.queries)} queries; "
        f"T2: {len(t2.funders)} funders, {len(t2.history)} history, {len(t2.test)} test"
    )
    ntee = read_causes(shared / NTEE_FILE)
    rows = {"T1": run_t1(t1, store, encoder, ntee), "T2": run_t2(t2, store, encoder)}
    engine = rows["T1"].get("engine")
    if isinstance(engine, str):
        print(f"engine: {engine}")
    print_tables(rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"seconds": round(time.perf_counter() - t0, 1), "figures": rows}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
