"""How much of a learned cause's second prototype should be its definition (issue 13)?

    python -m training.bench_defweight --shared-data ../shared/data [--work-dir DIR]
        [--weights 0,0.25,0.5,0.75,1] [--tasks t1,t3] [--json OUT]

Learned causes (prototypes from the training states' codes, learned_causes.split_states) with
each learned cause's NTEE definition mixed into its second prototype at each weight
(matcher.cause_model.definition_prototypes), T1 and T3 through the engine with the default
embedder. P@10 is reported separately on the queries of the training states (the split a
weight may be chosen on) and of the held-out states (reported, never chosen on), beside the
dense baseline of each split. The T1/T3 engine dirs (<work dir>/bench/defweight-t1, -t3, with a
registered `--embedding-version V` defweight-t1-V, ...) are built once and kept. T4 is checked
with `python -m training.bench_t4 --definition-weights W,...`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from training.bench_quality import (
    REPO,
    bench_dir,
    dense_encoder,
    engine_embedder,
    t1_figures,
    t3_figures,
    torch_pair,
)

NO_DEFS = "learned causes, no definitions"


def sweep(
    task: Any, kind: str, weights: list[float], work: Path, ntee: list[Any], tag: str = ""
) -> dict:
    from training.benchmarks import baselines
    from training.benchmarks.embeddings import encode_cached
    from training.benchmarks.engine_runner import run_engine_t1
    from training.benchmarks.learned_causes import held_out, learned_causes_setup, split_states
    from training.benchmarks.t3_task import ASK

    k = ASK if kind == "t3" else 10
    figures = t3_figures if kind == "t3" else t1_figures
    encoder, store, _ = dense_encoder("torch", work)
    docs = encode_cached(baselines.t1_doc_texts(task, with_name=True), encoder, store)
    queries = encode_cached(task.queries["text"].tolist(), encoder, store)
    frames: dict[str, Any] = {"dense baseline": baselines.t1_dense(task, docs, queries, k=k)}
    train, held = split_states(task.key["region"].tolist())
    titles = {c.code: c.title for c in ntee}
    taxonomies: dict[str, Any] = {NO_DEFS: learned_causes_setup(task, train, titles)}
    for w in weights:
        taxonomies[f"definition weight {w}"] = learned_causes_setup(
            task, train, titles, definitions=ntee, definition_weight=w
        )
    engine_dir = work / "bench" / f"defweight-{kind}{tag}"
    embedder = engine_embedder(*torch_pair(work), work)
    frames.update(run_engine_t1(task, engine_dir, embedder, k=k, taxonomies=taxonomies))
    out: dict[str, dict[str, float]] = {}
    for split, states in (("training states", train), ("held-out states", held)):
        sub = held_out(task, states)
        keep = set(sub.queries["query_id"])
        for label, results in frames.items():
            figs = figures(sub, results[results["query_id"].isin(keep)])
            out.setdefault(label, {})[f"{split} P@10"] = round(float(figs["P@10"]), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    from matcher.causes import read_causes
    from training.benchmarks.t3_task import build_t3
    from training.benchmarks.tasks import build_t1

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--weights", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--tasks", default="t1,t3")
    parser.add_argument("--t1-queries", type=int, default=400)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--embedding-version",
        default=None,
        help="the engine with this embedding model of the work dir's registry (the dense "
        "baseline stays the base model's)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("BENCH_KEEP_ENGINE_DIR", "1")
    weights = [float(w) for w in args.weights.split(",") if w.strip()]
    work = bench_dir(args.work_dir)
    ntee = read_causes(args.shared_data / "ntee_codes.csv")
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    for kind in [t.strip() for t in args.tasks.split(",") if t.strip()]:
        task = (
            build_t1(args.shared_data, n_queries=args.t1_queries)
            if kind == "t1"
            else build_t3(args.shared_data)
        )
        with contextlib.ExitStack() as stack:
            tag = ""
            if args.embedding_version:
                from training.benchmarks.t4_models import registered_model

                stack.enter_context(registered_model(work, args.embedding_version))
                tag = f"-{args.embedding_version}"
            result[kind.upper()] = sweep(task, kind, weights, work, ntee, tag)
        for label, figs in result[kind.upper()].items():
            print(f"{kind.upper()} {label}: {figs}", flush=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["load"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
