"""T1 and T2 for the evaluator: each model's weights through the engine, beside the dense
baselines measured in the same run (`matcher train fit|evaluate --benchmarks DIR`).

T1 runs with the NTEE taxonomy loaded (the engine's best configuration) and each model's score
weights; T2 stores the history grants as partnerships, enriches the funders' profiles, fits
the partnership-history model and ranks the funders with each model's weights. Embeddings come
from the benchmark cache (var/bench-cache), so a second run costs minutes, not an hour.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from training.benchmarks import baselines
from training.benchmarks.report import Figures

T1_PRIMARY, T2_PRIMARY = "P@10", "Hit@1"


def benchmark_models(
    shared: Path,
    models: Mapping[str, Mapping[str, float] | None],
    *,
    work_dir: Path,
    cache_dir: Path,
    t1_queries: int = 400,
    progress: bool = True,
) -> dict[str, Any]:
    """{"T1": {row: figures}, "T2": {row: figures}, "primary": {...}} for each model (rows
    "engine [name]") and the dense baselines; {"skipped": reason} without the shared data."""
    from matcher.causes import read_causes
    from training.bench_quality import (
        LazyEncoder,
        engine_embedder,
        t1_figures,
        t1_filter_violations,
        t2_figures,
    )
    from training.benchmarks.embeddings import EmbeddingStore, encode_cached
    from training.benchmarks.engine_runner import run_engine_t1, run_engine_t2
    from training.benchmarks.tasks import (
        GRANTS_FILE,
        NONPROFITS_FILE,
        NTEE_FILE,
        build_t1,
        build_t2,
    )

    needed = [NONPROFITS_FILE, NTEE_FILE, GRANTS_FILE]
    if not all((shared / f).is_file() for f in needed):
        return {"skipped": f"shared data not found in {shared} (needs {', '.join(needed)})"}
    encoder = LazyEncoder()
    store = EmbeddingStore(cache_dir, encoder.key)
    embedder = engine_embedder(store, encoder)
    t1 = build_t1(shared, n_queries=t1_queries)
    t2 = build_t2(shared)
    out: dict[str, Any] = {"T1": {}, "T2": {}, "violations": {}}

    docs = encode_cached(baselines.t1_doc_texts(t1, with_name=True), encoder, store)
    queries = encode_cached(t1.queries["text"].tolist(), encoder, store)
    out["T1"]["dense baseline (cosine)"] = t1_figures(t1, baselines.t1_dense(t1, docs, queries))
    t1_dir, t2_dir = work_dir / "t1-models", work_dir / "t2-models"
    for folder in (t1_dir, t2_dir):
        if folder.exists():
            shutil.rmtree(folder)
    taxonomy = {"engine": read_causes(shared / NTEE_FILE)}
    for label, res in run_engine_t1(
        t1, t1_dir, embedder, progress=progress, taxonomies=taxonomy, models=models
    ).items():
        out["T1"][label] = t1_figures(t1, res)
        out["violations"][label] = t1_filter_violations(t1, res)

    hist = encode_cached(t2.history["text"].tolist(), encoder, store)
    test = encode_cached(t2.test["text"].tolist(), encoder, store)
    out["T2"]["dense baseline (centroid)"] = t2_figures(t2, baselines.t2_dense(t2, hist, test))
    for label, res in run_engine_t2(t2, t2_dir, embedder, progress=progress, models=models).items():
        out["T2"][label] = t2_figures(t2, res)
    out["primary"] = {"T1": T1_PRIMARY, "T2": T2_PRIMARY}
    return out


def rows_for_table(result: Mapping[str, Any]) -> list[tuple[str, str, Figures]]:
    """(task, row, figures) in print order."""
    return [
        (task, row, figs) for task in ("T1", "T2") for row, figs in result.get(task, {}).items()
    ]
