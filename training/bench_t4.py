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
) -> Rows:
    """T4 figures (rows: method -> figures or a note), through the engine and the baselines;
    writes the per-need rows to `json_out`. `dense`: (encoder, cache, row suffix) of the dense
    baseline (default: torch MiniLM, training.bench_quality.dense_encoder). `learned`: also the
    engine with causes learned from other states' codes (issue 13; cross-fitted by state)."""
    from training.bench_quality import dense_encoder, engine_embedder, torch_pair
    from training.benchmarks.embeddings import encode_cached
    from training.benchmarks.t4_baselines import t4_dense, t4_tfidf
    from training.benchmarks.t4_engine import open_t4_engine, run_engine_t4
    from training.benchmarks.t4_metrics import card_counts, need_rows, t4_figures
    from training.benchmarks.t4_task import build_t4, store_programmes, t4_organisations

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
        try:
            embedder = engine_embedder(*torch_pair(work_dir), work_dir)
            engine = open_t4_engine(
                folder,
                embedder,
                lambda: t4_organisations(shared),
                rebuild=rebuild,
                after_store=lambda store: store_programmes(shared, store),
            )
            try:
                from matcher.causes import read_causes

                ntee = read_causes(shared / "ntee_codes.csv")
                if not engine.causes():  # the public NTEE definitions, as in T1's engine row
                    engine.set_causes(ntee)
                t1 = time.perf_counter()
                runs = run_engine_t4(engine, task)
                print(
                    f"T4 engine: {len(task.needs)} needs ranked in {time.perf_counter() - t1:.1f}s"
                )
                if learned:
                    from training.benchmarks.learned_causes import t4_learned_runs

                    learned_runs, folds = t4_learned_runs(
                        engine, task, {c.code: c.title for c in ntee}
                    )
                    print("T4 learned causes: " + "; ".join(folds))
                    defs_runs, _ = t4_learned_runs(
                        engine, task, {c.code: c.title for c in ntee}, definitions=ntee
                    )
            finally:
                engine.close()
            rows["engine + NTEE cause taxonomy"] = t4_figures(task, runs)
            if learned:
                rows[LEARNED_ROW] = t4_figures(task, learned_runs)
                rows[LEARNED_DEFS_ROW] = t4_figures(task, defs_runs)
                payload["needs"]["engine, learned causes + definitions"] = need_rows(
                    task, defs_runs
                )
                payload["needs"]["engine, learned causes"] = need_rows(task, learned_runs)
            counts = card_counts(runs)
            rows["engine: cards"] = cards_line(counts)
            payload["cards"] = counts
            payload["needs"]["engine"] = need_rows(task, runs)
        except Exception as exc:  # noqa: BLE001 - baselines still count without the engine
            rows["engine"] = f"not available ({type(exc).__name__}: {exc})"
    payload["figures"] = rows
    payload["seconds"] = round(time.perf_counter() - t0, 1)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2, default=str))
        print(f"T4: per-need rows written to {json_out}")
    return rows


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
    args = parser.parse_args(argv)
    needs = args.needs or default_needs_path(args.shared_data)
    if not (args.shared_data / COMPANIES_FILE).is_file() or not needs.is_file():
        print(f"bench-t4 skipped: shared data or {needs} not found")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    work = bench_dir(args.work_dir)
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
    )
    print_tables({"T4": rows}, T4_COLUMNS, title="T4 coalition for a need")
    return 0


if __name__ == "__main__":
    sys.exit(main())
