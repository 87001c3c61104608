"""Benchmark T4 (coalition for a need), the fast loop for engine work.

    python -m training.bench_t4 --shared-data ../shared/data [--engine-dir DIR] [--json OUT]
                                [--rebuild] [--baselines]

Reuses a built engine data dir (default <work dir>/bench/t4; work dir: --work-dir, else
$MATCHER_BENCH_DIR, else REPO/var): the three corpora are imported and the index built only when
it is missing or with --rebuild (the engine's SQL embedding cache embeds only changed texts).
Ranking always runs the engine code imported now, so a scoring change shows at once.
Prints the T4 figures and the card problems; writes the figures and one readable row per need
(what came back, relevant or not, each card's reasons and problems) to --json (default
<engine dir>/../t4-report.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.benchmarks.report import Figures, print_tables

REPO = Path(__file__).resolve().parents[1]
Rows = dict[str, Figures | str]


def cards_line(counts: dict[str, int]) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("cards", "any"))
    return f"{counts['any']} of {counts['cards']} cards with problems ({kinds})"


LEARNED_ROW = "engine + causes learned from other states' codes"
LEARNED_DEFS_ROW = "engine + learned causes + their definitions as labelled data"


def run_t4(
    shared: Path,
    *,
    work_dir: Path,
    engine_dir: Path | None = None,
    needs_path: Path | None = None,
    rebuild: bool = False,
    with_baselines: bool = True,
    with_engine: bool = True,
    json_out: Path | None = None,
    dense: tuple[Any, Any, str] | None = None,
    learned: bool = True,
    versions: Sequence[str] = (),
    held_states: Sequence[str] = (),
    definition_weights: Sequence[float] = (),
    serve_queries: bool = False,
) -> Rows:
    """T4 figures (rows: method -> figures or a note), through the engine and the baselines;
    writes the per-need rows to `json_out`. `dense`: (encoder, cache, row suffix) of the dense
    baseline (default: torch MiniLM, training.bench_quality.dense_encoder). `learned`: also the
    engine with causes learned from other states' codes (issue 13; cross-fitted by state).
    `versions`: embedding-model versions registered in `work_dir`'s model registry (`matcher
    models register-embed`): the engine rows again with each, in its own engine dir (built,
    i.e. every profile embedded with it, when missing). `held_states`: every engine row again
    on the needs of these states only. `definition_weights`: the learned causes + definitions
    row again with each definition weight (matcher.cause_model.definition_prototypes).
    `serve_queries`: the needs and their clauses embedded as a server reads them, not from the
    benchmark's cache (whose vectors were embedded beside other texts; int8 vectors move with
    their company)."""
    from training.bench_quality import dense_encoder
    from training.benchmarks.embeddings import encode_cached
    from training.benchmarks.t4_baselines import t4_dense, t4_tfidf
    from training.benchmarks.t4_metrics import need_rows, t4_figures
    from training.benchmarks.t4_models import registered_model
    from training.benchmarks.t4_task import build_t4

    t0 = time.perf_counter()
    task = build_t4(shared, needs_path, with_organisations=False)
    print(
        f"T4: {len(task.needs)} needs, {len(task.corpus)} profiles "
        f"({time.perf_counter() - t0:.1f}s)"
    )
    encoder, store, suffix = dense or dense_encoder("torch", work_dir)
    rows: Rows = {}
    payload: dict[str, Any] = {"needs": {}}
    if with_baselines:
        tfidf = t4_tfidf(task)
        rows["TF-IDF baseline (naive coalition)"] = t4_figures(task, tfidf)
        docs = encode_cached(
            task.corpus["text"].tolist(), encoder, store, progress=True, desc="T4 profiles"
        )
        needs = encode_cached([n.text for n in task.needs], encoder, store, desc="T4 needs")
        dense_runs = t4_dense(task, docs, needs)
        rows[f"dense baseline (naive coalition){suffix}"] = t4_figures(task, dense_runs)
        payload["needs"]["TF-IDF baseline"] = need_rows(task, tfidf, with_cards=False)
        payload["needs"]["dense baseline"] = need_rows(task, dense_runs, with_cards=False)
    if with_engine:
        folder = engine_dir or work_dir / "bench" / "t4"
        engine_rows(
            shared,
            task,
            folder,
            work_dir,
            rows,
            payload,
            rebuild=rebuild,
            learned=learned,
            definition_weights=definition_weights,
            serve_queries=serve_queries,
        )
        for version in versions:
            with registered_model(work_dir, version) as (name, size):
                print(f"T4 with {version} ({name}, {size / 1e6:.1f} MB)")
                engine_rows(
                    shared,
                    task,
                    folder.with_name(f"{folder.name}-{version}"),
                    work_dir,
                    rows,
                    payload,
                    rebuild=rebuild,
                    learned=learned,
                    prefix=f"{version}: ",
                    definition_weights=definition_weights,
                )
        if held_states:
            add_held_out_rows(task, rows, payload, list(held_states))
    payload.pop("runs", None)
    payload["figures"] = rows
    payload["seconds"] = round(time.perf_counter() - t0, 1)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2, default=str))
        print(f"T4: per-need rows written to {json_out}")
    return rows


def engine_rows(
    shared: Path,
    task: Any,
    folder: Path,
    work_dir: Path,
    rows: Rows,
    payload: dict[str, Any],
    *,
    rebuild: bool,
    learned: bool,
    prefix: str = "",
    definition_weights: Sequence[float] = (),
    serve_queries: bool = False,
) -> None:
    """The engine rows of T4 (NTEE taxonomy; learned causes, with and without definitions)
    with the embedding model the engine's settings give now, into `rows` and `payload`."""
    from matcher.causes import read_causes
    from training.bench_quality import engine_embedder, torch_pair
    from training.benchmarks.t4_engine import open_t4_engine, run_engine_t4
    from training.benchmarks.t4_metrics import card_counts, need_rows, t4_figures
    from training.benchmarks.t4_task import store_programmes, t4_organisations

    runs_of: dict[str, Any] = payload.setdefault("runs", {})
    try:
        embedder = engine_embedder(*torch_pair(work_dir), work_dir, serve_queries=serve_queries)
        engine = open_t4_engine(
            folder,
            embedder,
            lambda: t4_organisations(shared),
            rebuild=rebuild,
            after_store=lambda store: store_programmes(shared, store),
        )
        try:
            ntee = read_causes(shared / "ntee_codes.csv")
            if not engine.causes():  # the public NTEE definitions, as in T1's engine row
                engine.set_causes(ntee)
            t1 = time.perf_counter()
            runs = run_engine_t4(engine, task)
            print(f"T4 engine: {len(task.needs)} needs ranked in {time.perf_counter() - t1:.1f}s")
            if learned:
                from training.benchmarks.learned_causes import t4_learned_runs

                titles = {c.code: c.title for c in ntee}
                learned_runs, folds = t4_learned_runs(engine, task, titles)
                print("T4 learned causes: " + "; ".join(folds))
                defs_runs, _ = t4_learned_runs(engine, task, titles, definitions=ntee)
                weighted = {
                    w: t4_learned_runs(engine, task, titles, definitions=ntee, definition_weight=w)[
                        0
                    ]
                    for w in definition_weights
                }
        finally:
            engine.close()
    except Exception as exc:  # noqa: BLE001 - baselines still count without the engine
        rows[f"{prefix}engine"] = f"not available ({type(exc).__name__}: {exc})"
        return
    rows[f"{prefix}engine + NTEE cause taxonomy"] = t4_figures(task, runs)
    runs_of[f"{prefix}engine + NTEE cause taxonomy"] = runs
    if learned:
        rows[f"{prefix}{LEARNED_ROW}"] = t4_figures(task, learned_runs)
        rows[f"{prefix}{LEARNED_DEFS_ROW}"] = t4_figures(task, defs_runs)
        runs_of[f"{prefix}{LEARNED_ROW}"] = learned_runs
        runs_of[f"{prefix}{LEARNED_DEFS_ROW}"] = defs_runs
        for w, w_runs in weighted.items():
            rows[f"{prefix}{LEARNED_DEFS_ROW} (weight {w})"] = t4_figures(task, w_runs)
            runs_of[f"{prefix}{LEARNED_DEFS_ROW} (weight {w})"] = w_runs
        payload["needs"][f"{prefix}engine, learned causes + definitions"] = need_rows(
            task, defs_runs
        )
        payload["needs"][f"{prefix}engine, learned causes"] = need_rows(task, learned_runs)
    counts = card_counts(runs)
    rows[f"{prefix}engine: cards"] = cards_line(counts)
    payload[f"{prefix}cards"] = counts
    payload["needs"][f"{prefix}engine"] = need_rows(task, runs)


def add_held_out_rows(task: Any, rows: Rows, payload: dict[str, Any], states: list[str]) -> None:
    """Every engine row again on the needs of `states` only (a fine-tune's held-out states:
    the other needs' nonprofits may have been its training missions)."""
    from training.benchmarks.t4_metrics import t4_figures

    held = set(states)
    tag = "+".join(sorted(held))
    for label, runs in list(payload.get("runs", {}).items()):
        some = [r for r in runs if r.need.state in held]
        if some:
            rows[f"{label} [{len(some)} needs of {tag}]"] = t4_figures(task, some)


def main(argv: list[str] | None = None) -> int:
    from training.bench_quality import bench_dir, dense_encoder
    from training.benchmarks.t4_metrics import T4_COLUMNS
    from training.benchmarks.t4_task import COMPANIES_FILE, NEEDS_FILE, default_needs_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--needs", type=Path, default=None, help=f"default: ../benchmarks/{NEEDS_FILE}"
    )
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="embedding cache and engine dirs"
    )
    parser.add_argument("--engine-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--rebuild", action="store_true", help="import and build again")
    parser.add_argument("--baselines", action="store_true", help="also TF-IDF and dense")
    parser.add_argument(
        "--dense-encoder", choices=("torch", "engine"), default="torch", help="with --baselines"
    )
    parser.add_argument(
        "--no-learned", action="store_true", help="skip the learned-causes row (cross-fitted)"
    )
    parser.add_argument(
        "--embedding-version",
        action="append",
        default=[],
        metavar="VERSION",
        help="also the engine rows with this embedding model of the work dir's registry "
        "(`MATCHER_DATA_DIR=<work dir> matcher models register-embed DIR`); repeatable",
    )
    parser.add_argument(
        "--held-out-states",
        default="",
        help="comma list: every engine row again on these states' needs only (default: the "
        "first --embedding-version's held-out states)",
    )
    parser.add_argument(
        "--definition-weights",
        default="",
        help="comma list: the learned causes + definitions row again with each weight",
    )
    parser.add_argument(
        "--latency", action="store_true", help="query-embedding latency of each model (int8)"
    )
    parser.add_argument(
        "--serving-queries",
        action="store_true",
        help="embed the needs and their clauses as a server reads them (uncached; with "
        "MATCHER_PACKED_QUERY_PASS as set)",
    )
    args = parser.parse_args(argv)
    needs = args.needs or default_needs_path(args.shared_data)
    if not (args.shared_data / COMPANIES_FILE).is_file() or not needs.is_file():
        print(f"bench-t4 skipped: shared data or {needs} not found")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    work = bench_dir(args.work_dir)
    held = [s for s in args.held_out_states.split(",") if s]
    if not held and args.embedding_version:
        from training.benchmarks.t4_models import held_out_states

        held = held_out_states(work, args.embedding_version[0])
    engine_dir = args.engine_dir or work / "bench" / "t4"
    rows = run_t4(
        args.shared_data,
        work_dir=work,
        engine_dir=engine_dir,
        needs_path=needs,
        rebuild=args.rebuild,
        with_baselines=args.baselines,
        dense=dense_encoder(args.dense_encoder, work) if args.baselines else None,
        json_out=args.json or engine_dir.parent / "t4-report.json",
        learned=not args.no_learned,
        versions=args.embedding_version,
        held_states=held,
        definition_weights=[float(w) for w in args.definition_weights.split(",") if w.strip()],
        serve_queries=args.serving_queries,
    )
    print_tables({"T4": rows}, T4_COLUMNS, title="T4 coalition for a need")
    if args.latency:
        from training.benchmarks.t4_models import print_latency

        print_latency(work, args.embedding_version, needs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
