"""Benchmarks T1-T4 (../shared/benchmarks/README.md): baselines and the engine, in one run.

    python -m training.bench_quality --shared-data ../shared/data [--tasks t1,t2,t3,t4]
        [--work-dir DIR] [--dense-encoder torch|engine] [--t1-queries 400] [--json OUT]

The work dir (--work-dir, else $MATCHER_BENCH_DIR, else REPO/var) holds the embedding cache
(bench-cache/), the ONNX export and the engine data dirs (bench/t1..t4): point several worktrees
at one to reuse the embeddings.

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
from unittest import mock

import numpy as np

from matcher.causes import Cause, read_causes
from training.benchmarks import baselines, hybrid
from training.benchmarks.embeddings import (
    EmbeddingStore,
    Encoder,
    encode_cached,
    minilm_encoder,
)
from training.benchmarks.engine_runner import BenchEmbedder, run_engine_t1, run_engine_t2
from training.benchmarks.learned_causes import held_out, learned_causes_setup, split_states
from training.benchmarks.report import Figures, figures, print_tables
from training.benchmarks.t3_task import ASK, T3Task, build_t3, drop_self
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
T2_COLUMNS = ("Hit@1", "Hit@5", "MRR")
TASKS = ("t1", "t2", "t3", "t4")


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
    torch_store: EmbeddingStore,
    torch_encoder: LazyEncoder,
    work_dir: Path | None = None,
    *,
    serve_queries: bool = False,
) -> BenchEmbedder:
    """The engine's default embedder (Settings().embed_backend) behind the benchmark cache: the
    engine rows measure what `matcher` runs. Torch reuses the baselines' vectors.
    `serve_queries`: a request's small inputs (a need, its clauses) through the model as a
    server reads them, uncached."""
    from matcher.embedding.factory import create_embedder
    from matcher.settings import Settings

    root = bench_dir(work_dir)
    settings = Settings(data_dir=root)  # ONNX exports are cached in <work dir>/models/onnx
    if settings.embed_backend == "torch":
        return BenchEmbedder(torch_store, lambda: torch_encoder)
    model = create_embedder(settings)
    store = EmbeddingStore(root / "bench-cache", model.model_name)
    return BenchEmbedder(
        store,
        lambda: model.encode,
        model_name=model.model_name,
        model_path=getattr(model, "model_path", None),
        span_model=model,
        serve_queries=serve_queries,
    )


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


def dense_encoder(kind: str, work_dir: Path) -> tuple[Encoder, EmbeddingStore, str]:
    """(encoder, cache, row suffix) of the dense baselines: "torch" is the README's reference
    (all-MiniLM-L6-v2 on sentence-transformers, fp32); "engine" the engine's own embedder (the
    same model, int8 ONNX by default; far faster on CPU), whose cache the engine rows fill."""
    if kind == "torch":
        encoder = LazyEncoder()
        return encoder, EmbeddingStore(work_dir / "bench-cache", encoder.key), ""
    if kind != "engine":
        raise ValueError(f"unknown dense encoder {kind!r} (torch, engine)")
    from matcher.embedding.factory import create_embedder
    from matcher.settings import Settings

    model = create_embedder(Settings(data_dir=work_dir))
    name = model.model_name.rsplit("/", 1)[-1]
    return model.encode, EmbeddingStore(work_dir / "bench-cache", model.model_name), f" [{name}]"


def run_t1(
    task: T1Task,
    store: EmbeddingStore,
    encoder: Encoder,
    ntee: list[Cause],
    work_dir: Path | None = None,
) -> dict[str, Figures | str]:
    """Baselines, the reference method, and the engine without and with the NTEE taxonomy
    loaded as its cause taxonomy (the public code definitions; no profile's code is given)."""
    rows: dict[str, Figures | str] = {}
    docs_text = baselines.t1_doc_texts(task, with_name=True)
    docs = encode_cached(docs_text, encoder, store, progress=True, desc="T1 profiles")
    queries = encode_cached(task.queries["text"].tolist(), encoder, store, desc="T1 queries")
    frames = {
        "random": baselines.t1_random(task),
        "TF-IDF baseline": baselines.t1_tfidf(task),
        "dense baseline (cosine)": baselines.t1_dense(task, docs, queries),
    }
    rows.update({k: t1_figures(task, v) for k, v in frames.items()})
    train, held = split_states(task.key["region"].tolist())
    multi = hybrid.multi_sentence_vectors(
        task.queries["text"].tolist(),
        queries,
        lambda texts: encode_cached(texts, encoder, store, desc="T1 query sentences"),
    )
    rows["proposed: centred+sentences+z-fusion"] = t1_figures(
        task, hybrid.t1_hybrid(task, docs, multi)
    )
    try:
        engine_dir = bench_dir(work_dir) / "bench" / "t1"
        if engine_dir.exists() and os.environ.get("BENCH_KEEP_ENGINE_DIR") != "1":
            shutil.rmtree(engine_dir)
        embedder = engine_embedder(*torch_pair(work_dir), work_dir)
        taxonomies: dict[str, Any] = {
            "engine (no taxonomy)": [],
            "engine + NTEE cause taxonomy": ntee,
            LEARNED: learned_causes_setup(task, train, {c.code: c.title for c in ntee}),
            LEARNED_DEFS: learned_causes_setup(
                task, train, {c.code: c.title for c in ntee}, definitions=ntee
            ),
        }
        for label, results in run_engine_t1(
            task, engine_dir, embedder, taxonomies=taxonomies
        ).items():
            frames[label] = results
            if label not in (LEARNED, LEARNED_DEFS):  # learned on training states: held out
                rows[label] = t1_figures(task, results)
            bad = t1_filter_violations(task, results)
            rows[f"{label}: filter violations"] = f"{bad} of {len(results)} results"
            print(f"{label}: {bad} of {len(results)} results outside the query's state")
    except Exception as exc:  # noqa: BLE001 - the engine is optional here, baselines still count
        rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    rows.update(held_out_rows(task, frames, held, t1_figures))
    return rows


def torch_pair(work_dir: Path | None = None) -> tuple[EmbeddingStore, LazyEncoder]:
    encoder = LazyEncoder()
    return EmbeddingStore(bench_dir(work_dir) / "bench-cache", encoder.key), encoder


def run_t2(
    task: T2Task, store: EmbeddingStore, encoder: Encoder, work_dir: Path | None = None
) -> dict[str, Figures | str]:
    hist = encode_cached(task.history["text"].tolist(), encoder, store, desc="T2 history")
    test = encode_cached(task.test["text"].tolist(), encoder, store, desc="T2 test")
    rows: dict[str, Figures | str] = {
        "majority": t2_figures(task, baselines.t2_majority(task)),
        "TF-IDF baseline (concatenated)": t2_figures(task, baselines.t2_tfidf(task)),
        "dense baseline (centroid)": t2_figures(task, baselines.t2_dense(task, hist, test)),
        "proposed: learned funder profile": t2_figures(task, hybrid.t2_learned(task, hist, test)),
    }
    try:
        engine_dir = bench_dir(work_dir) / "bench" / "t2"
        if engine_dir.exists():
            shutil.rmtree(engine_dir)
        embedder = engine_embedder(*torch_pair(work_dir), work_dir)
        for label, results in run_engine_t2(task, engine_dir, embedder).items():
            rows[label] = t2_figures(task, results)
    except Exception as exc:  # noqa: BLE001 - the engine is optional here, baselines still count
        rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    return rows


def t3_figures(task: T3Task, results: Any) -> Figures:
    """P@10 and nDCG@10 after dropping the query organisation from the 11 asked for."""
    figs = t1_figures(task, drop_self(task, results))
    return {k: figs[k] for k in ("P@10", "nDCG@10")}


def run_t3(
    task: T3Task,
    store: EmbeddingStore,
    encoder: Encoder,
    ntee: list[Cause],
    work_dir: Path | None = None,
    suffix: str = "",
) -> dict[str, Figures | str]:
    """TF-IDF and dense baselines and the engine without and with the NTEE taxonomy."""
    docs = encode_cached(
        baselines.t1_doc_texts(task, with_name=True), encoder, store, progress=True, desc="T3"
    )
    queries = encode_cached(task.queries["text"].tolist(), encoder, store, desc="T3 queries")
    frames = {
        "random": baselines.t1_random(task, k=ASK),
        "TF-IDF baseline": baselines.t1_tfidf(task, k=ASK),
        f"dense baseline (cosine){suffix}": baselines.t1_dense(task, docs, queries, k=ASK),
    }
    rows: dict[str, Figures | str] = {k: t3_figures(task, v) for k, v in frames.items()}
    train, held = split_states(task.key["region"].tolist())
    try:
        engine_dir = bench_dir(work_dir) / "bench" / "t3"
        if engine_dir.exists():
            shutil.rmtree(engine_dir)
        embedder = engine_embedder(*torch_pair(work_dir), work_dir)
        taxonomies: dict[str, Any] = {
            "engine (no taxonomy)": [],
            "engine + NTEE cause taxonomy": ntee,
            LEARNED: learned_causes_setup(task, train, {c.code: c.title for c in ntee}),
            LEARNED_DEFS: learned_causes_setup(
                task, train, {c.code: c.title for c in ntee}, definitions=ntee
            ),
        }
        for label, results in run_engine_t1(
            task, engine_dir, embedder, k=ASK, taxonomies=taxonomies
        ).items():
            frames[label] = results
            if label not in (LEARNED, LEARNED_DEFS):  # learned on training states: held out
                rows[label] = t3_figures(task, results)
            bad = t1_filter_violations(task, results)
            rows[f"{label}: filter violations"] = f"{bad} of {len(results)} results"
    except Exception as exc:  # noqa: BLE001 - the engine is optional here, baselines still count
        rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    rows.update(held_out_rows(task, frames, held, t3_figures))
    return rows


def held_out_rows(
    task: Any, frames: dict[str, Any], held: list[str], figures: Any
) -> dict[str, Figures | str]:
    """Every method scored on the queries of the held-out states only (issue 13's split)."""
    sub = held_out(task, held)
    keep = set(sub.queries["query_id"])
    tag = f"held out {'+'.join(held)} ({len(keep)} q)"
    return {
        f"{tag}: {label}": figures(sub, results[results["query_id"].isin(keep)])
        for label, results in frames.items()
        if label != "random"
    }


LEARNED = "engine + causes learned from training states' codes"
# the same, with each learned cause's NTEE definition added to its prototype as labelled data
# (the cause space stays the learned one: no cause without members enters)
LEARNED_DEFS = "engine + learned causes + their definitions as labelled data"


def parse_tasks(value: str) -> list[str]:
    chosen = [t.strip().lower() for t in value.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TASKS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown task(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(TASKS)}"
        )
    return chosen


def run_tasks(
    args: argparse.Namespace, tasks: list[str], shared: Path
) -> dict[str, dict[str, Figures | str]]:
    """Every chosen task with the model the settings name (MATCHER_MODEL_PATH/NAME)."""
    from training.bench_t4 import run_t4
    from training.benchmarks.t4_metrics import T4_COLUMNS
    from training.benchmarks.t4_task import default_needs_path

    work = bench_dir(args.work_dir)
    encoder, store, suffix = dense_encoder(args.dense_encoder, work)
    ntee = read_causes(shared / NTEE_FILE) if {"t1", "t3"} & set(tasks) else []
    rows: dict[str, dict[str, Figures | str]] = {}
    if "t1" in tasks:
        t1 = build_t1(shared, n_queries=args.t1_queries)
        if args.t1_states:
            t1 = restrict_t1(t1, args.t1_states.split(","))
        print(f"T1: {len(t1.profiles)} profiles, {len(t1.queries)} queries")
        rows["T1"] = run_t1(t1, store, encoder, ntee, work)
    if "t2" in tasks:
        t2 = build_t2(shared)
        print(f"T2: {len(t2.funders)} funders, {len(t2.history)} history, {len(t2.test)} test")
        rows["T2"] = run_t2(t2, store, encoder, work)
    if "t3" in tasks:
        t3 = build_t3(shared)
        print(f"T3: {len(t3.profiles)} profiles, {len(t3.queries)} queries")
        rows["T3"] = run_t3(t3, store, encoder, ntee, work, suffix)
    if rows:
        print_tables(rows)
    if "t4" in tasks:
        needs = default_needs_path(shared)
        if not needs.is_file():
            rows["T4"] = {"T4": f"skipped: {needs} not found"}
        else:
            rows["T4"] = run_t4(
                shared,
                work_dir=work,
                needs_path=needs,
                rebuild=True,
                dense=(encoder, store, suffix),
                json_out=work / "bench" / "t4-report.json",
            )
        print_tables({"T4": rows["T4"]}, T4_COLUMNS, title="T4 coalition for a need")
    return rows


def run_finetuned(
    args: argparse.Namespace, tasks: list[str], shared: Path
) -> dict[str, dict[str, Figures | str]]:
    """The same tasks with the fine-tuned model (the engine and the dense baseline use it);
    its rows are prefixed "fine-tuned: " and its dense baseline is the engine's embedder."""
    from training.embed_registry import BASE_SHORT, FINETUNE_MANIFEST
    from training.finetune.train import base_digest

    folder = Path(args.finetuned).resolve()
    if not (folder / "config.json").is_file():
        raise SystemExit(f"--finetuned: {folder} is not a sentence-transformers model folder")
    label = folder.name
    if (folder / FINETUNE_MANIFEST).is_file():
        label = json.loads((folder / FINETUNE_MANIFEST).read_text()).get("name") or label
    # the name `matcher models register-embed` gives it: the same embedding caches
    name = f"{BASE_SHORT}-ft-{label}-{base_digest(folder)[:8]}"
    env = {"MATCHER_MODEL_PATH": str(folder), "MATCHER_MODEL_NAME": name}
    with mock.patch.dict(os.environ, env):
        tuned = run_tasks(
            argparse.Namespace(**{**vars(args), "dense_encoder": "engine"}), tasks, shared
        )
    same = ("random", "TF-IDF", "majority")  # rows that do not depend on the model
    return {
        t: {f"fine-tuned: {k}": v for k, v in m.items() if not any(x in k for x in same)}
        for t, m in tuned.items()
    }


def main(argv: list[str] | None = None) -> int:
    from training.benchmarks.t4_metrics import T4_COLUMNS
    from training.benchmarks.t4_task import COMPANIES_FILE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--tasks", type=parse_tasks, default=list(TASKS), help="comma list (default: all)"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help=f"embedding cache and engine dirs (default: ${WORK_DIR_ENV}, else REPO/var)",
    )
    parser.add_argument(
        "--dense-encoder",
        choices=("torch", "engine"),
        default="torch",
        help="dense baselines: torch fp32 MiniLM (the README's) or the engine's embedder",
    )
    parser.add_argument("--t1-queries", type=int, default=400)
    parser.add_argument("--json", type=Path, default=None, help="write all figures to this file")
    parser.add_argument(
        "--finetuned",
        type=Path,
        default=None,
        help="also run the tasks with this fine-tuned model folder (`matcher train embed`), "
        "its rows beside the base model's",
    )
    parser.add_argument(
        "--t1-states",
        default=None,
        help="comma-separated states: restrict T1 to them (quick development runs only)",
    )
    args = parser.parse_args(argv)
    shared: Path = args.shared_data
    tasks: list[str] = args.tasks
    needed = {
        "t1": [NONPROFITS_FILE, NTEE_FILE],
        "t2": [GRANTS_FILE],
        "t3": [NONPROFITS_FILE, NTEE_FILE],
        "t4": [NONPROFITS_FILE, COMPANIES_FILE],
    }
    missing = sorted({f for t in tasks for f in needed[t] if not (shared / f).is_file()})
    if missing:
        print(f"bench-quality skipped: shared data not found in {shared} (needs {missing})")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    rows = run_tasks(args, tasks, shared)
    if args.finetuned is not None:
        tuned = run_finetuned(args, tasks, shared)
        for task, methods in tuned.items():
            rows.setdefault(task, {}).update(methods)
        print_tables({t: m for t, m in rows.items() if t != "T4"})
        if "T4" in rows:
            print_tables({"T4": rows["T4"]}, T4_COLUMNS, title="T4, base and fine-tuned")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"seconds": round(time.perf_counter() - t0, 1), "figures": rows}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
