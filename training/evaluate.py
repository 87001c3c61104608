"""Evaluate ranking weights on held-out history: pure metric functions and the engine runs.

Pure functions over frames (no engine): the ranking metrics of `training.metrics` (P@k,
nDCG@k, MRR, Hit@k) plus
- `capability_coverage_per_query(required, covered)`: share of each query's required
  capabilities that its coalition covers;
- `sector_balance_per_query(members)`: normalised Shannon entropy of the sectors in each
  coalition (1 = as spread over sectors as its size allows, 0 = one sector);
- `metrics_from_frames(...)`: all of them as one dict with a named primary metric.

`evaluate_weights` runs held-out queries through the engine with given weights (restoring the
engine's weights afterwards); `compare_models` does it for the candidate, the published model
and the default weights, on the same queries.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from matcher.domain import SECTORS, Filters
from training import metrics as m
from training.ranker import FEATURES, Query

PRIMARY = "ndcg@10"
KS: tuple[int, ...] = (1, 5, 10)


# ------------------------------------------------------------------------- pure functions


def capability_coverage_per_query(required: pd.DataFrame, covered: pd.DataFrame) -> pd.Series:
    """required: (query_id, capability); covered: (query_id, item_id, capability), one row per
    coalition member and capability it covers. Queries with no required capability are left
    out (nothing to cover)."""
    req = required[["query_id", "capability"]].drop_duplicates()
    if req.empty:
        return pd.Series(dtype=float, name="coverage")
    have = covered[["query_id", "capability"]].drop_duplicates().assign(hit=1.0)
    merged = req.merge(have, on=["query_id", "capability"], how="left")
    merged["hit"] = merged["hit"].fillna(0.0)
    out = merged.groupby("query_id", sort=False)["hit"].mean()
    out.name = "coverage"
    return out.astype(float)


def capability_coverage(required: pd.DataFrame, covered: pd.DataFrame) -> float:
    s = capability_coverage_per_query(required, covered)
    return float(s.mean()) if len(s) else float("nan")


def sector_balance_per_query(members: pd.DataFrame, n_sectors: int = len(SECTORS)) -> pd.Series:
    """members: (query_id, item_id, sector). Entropy of the sector shares divided by the
    largest entropy possible for that many members (log of min(size, n_sectors)); a coalition
    of fewer than two members scores 0."""
    if members.empty:
        return pd.Series(dtype=float, name="sector_balance")
    uniq = members[["query_id", "item_id", "sector"]].drop_duplicates(["query_id", "item_id"])
    values: dict[Any, float] = {}
    for q, group in uniq.groupby("query_id", sort=False):
        n = len(group)
        if n < 2:
            values[q] = 0.0
            continue
        p = group["sector"].value_counts(normalize=True).to_numpy(dtype=float)
        h = float(-(p * np.log(p)).sum())
        values[q] = h / math.log(min(n, n_sectors))
    return pd.Series(values, name="sector_balance", dtype=float)


def sector_balance(members: pd.DataFrame, n_sectors: int = len(SECTORS)) -> float:
    s = sector_balance_per_query(members, n_sectors)
    return float(s.mean()) if len(s) else float("nan")


def metrics_from_frames(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    *,
    queries: Sequence[str] | None = None,
    required: pd.DataFrame | None = None,
    covered: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
    ks: Sequence[int] = KS,
    primary: str = PRIMARY,
) -> dict[str, Any]:
    """All metrics as {"primary": name, name: value, ...}; NaN-free (missing -> None)."""
    out: dict[str, Any] = {"primary": primary}
    kw: dict[str, Any] = {"queries": queries}
    for k in ks:
        out[f"p@{k}"] = m.precision_at_k(results, relevance, k, **kw)
        out[f"ndcg@{k}"] = m.ndcg_at_k(results, relevance, k, **kw)
        out[f"hit@{k}"] = m.hit_at_k(results, relevance, k, **kw)
    out["mrr"] = m.mrr(results, relevance, **kw)
    if required is not None and covered is not None:
        out["capability_coverage"] = capability_coverage(required, covered)
    if members is not None:
        out["sector_balance"] = sector_balance(members)
    out["queries"] = len(queries) if queries is not None else int(results["query_id"].nunique())
    if primary not in out:
        raise ValueError(f"primary metric {primary!r} is not computed")
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else _round(v)) for k, v in out.items()
    }


def _round(v: Any) -> Any:
    return round(float(v), 6) if isinstance(v, float | np.floating) else v


def relevance_frame(queries: Sequence[Query]) -> pd.DataFrame:
    rows = [(q.id, pid, g) for q in queries for pid, g in q.gains.items()]
    return pd.DataFrame(rows, columns=["query_id", "item_id", "gain"])


# ------------------------------------------------------------------------- engine runs


def run_weights(
    engine: Any,
    queries: Sequence[Query],
    weights: Mapping[str, float],
    name: str,
    *,
    limit: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Recommend for every query with `weights` in force; the engine's own weights are put
    back afterwards. Frames: results (query_id, item_id, rank, score, relevant), required,
    covered, members."""
    saved = dict(engine.weights), engine.weights_name
    results: list[tuple[str, str, int, float, bool]] = []
    required: list[tuple[str, str]] = []
    covered: list[tuple[str, str, str]] = []
    members: list[tuple[str, str, str]] = []
    try:
        engine.use_weights(dict(weights), name)
        if progress is not None:
            progress(0, len(queries))  # started: the first query may take a while
        for i, q in enumerate(queries):
            rec = engine.recommend(q.need, filters=q.filters or Filters(), limit=limit)
            for rank, match in enumerate(rec.results, start=1):
                results.append((q.id, match.id, rank, match.score, match.id in q.gains))
            for cap in rec.required_capabilities:
                required.append((q.id, cap))
            for cap, ids in rec.coalition.covered.items():
                covered.extend((q.id, org_id, cap) for org_id in ids)
            members.extend((q.id, mm.id, mm.sector) for mm in rec.coalition.members)
            if progress is not None:
                progress(i + 1, len(queries))
    finally:
        engine.use_weights(saved[0], saved[1])
    return {
        "results": pd.DataFrame(
            results, columns=["query_id", "item_id", "rank", "score", "relevant"]
        ),
        "required": pd.DataFrame(required, columns=["query_id", "capability"]),
        "covered": pd.DataFrame(covered, columns=["query_id", "item_id", "capability"]),
        "members": pd.DataFrame(members, columns=["query_id", "item_id", "sector"]),
    }


def evaluate_weights(
    engine: Any,
    queries: Sequence[Query],
    weights: Mapping[str, float],
    name: str = "candidate",
    *,
    ks: Sequence[int] = KS,
    primary: str = PRIMARY,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    frames = run_weights(engine, queries, weights, name, limit=max(ks), progress=progress)
    metrics = metrics_from_frames(
        frames["results"],
        relevance_frame(queries),
        queries=[q.id for q in queries],
        required=frames["required"],
        covered=frames["covered"],
        members=frames["members"],
        ks=ks,
        primary=primary,
    )
    return metrics, frames


def score_histogram(results: pd.DataFrame, bins: int = 20) -> dict[str, list[float] | list[int]]:
    """Counts of returned scores in equal bins over [0, 1], relevant and other items apart."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    scores = results["score"].to_numpy(dtype=float).clip(0, 1)
    rel = results["relevant"].to_numpy(dtype=bool)
    return {
        "edges": [round(float(e), 4) for e in edges],
        "relevant": np.histogram(scores[rel], edges)[0].tolist(),
        "other": np.histogram(scores[~rel], edges)[0].tolist(),
    }


def compare_models(
    engine: Any,
    queries: Sequence[Query],
    models: Mapping[str, Mapping[str, float]],
    *,
    ks: Sequence[int] = KS,
    primary: str = PRIMARY,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate several weight sets on the same queries. `models` maps a label (candidate,
    published, default, ...) to weights. Returns primary, per-model metrics, weights, score
    histograms, and which model is best on the primary metric."""
    out: dict[str, Any] = {
        "primary": primary,
        "queries": len(queries),
        "positives": int(sum(len(q.gains) for q in queries)),
        "models": {},
        "weights": {},
        "histograms": {},
        "seconds": {},
    }
    for label, weights in models.items():
        t0 = time.perf_counter()
        cb = (lambda i, n, _l=label: progress(_l, i, n)) if progress else None
        metrics, frames = evaluate_weights(
            engine, queries, weights, label, ks=ks, primary=primary, progress=cb
        )
        out["models"][label] = metrics
        out["weights"][label] = {c: float(weights.get(c, 0.0)) for c in FEATURES}
        out["histograms"][label] = score_histogram(frames["results"])
        out["seconds"][label] = round(time.perf_counter() - t0, 2)
    if out["models"]:
        out["best"] = max(out["models"], key=lambda k: out["models"][k][primary] or 0.0)
    return out


def table(comparison: Mapping[str, Any], columns: Sequence[str] | None = None) -> str:
    """A plain-text table: one row per model, one column per metric."""
    models = comparison.get("models", {})
    if not models:
        return "(no models evaluated)"
    first = next(iter(models.values()))
    cols = list(columns) if columns else [k for k in first if k not in ("primary", "queries")]
    width = max(10, *(len(k) for k in models))
    head = f"{'model':<{width}} " + " ".join(f"{c:>9}" for c in cols)
    lines = [head, "-" * len(head)]
    for label, vals in models.items():
        cells = []
        for c in cols:
            v = vals.get(c)
            cells.append(f"{'-':>9}" if v is None else f"{v:>9.4f}")
        lines.append(f"{label:<{width}} " + " ".join(cells))
    return "\n".join(lines)
