"""Ranking metrics over pandas frames, in the style of the recommenders package.

- results: one row per returned item, columns (query_id, item_id, rank); rank 1 is the best.
  Within a query, rows are ordered by rank; equal ranks keep their order of appearance (a stable
  sort), and a repeated item counts once, at its best position.
- relevance: columns (query_id, item_id, gain); a missing pair has gain 0.

Every metric has a per-query variant returning a Series indexed by query_id, and a mean variant.
The queries evaluated are `queries` when given, else every query seen in results or relevance;
a query with no results scores 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

IdealGains = Mapping[str, Sequence[float]] | pd.DataFrame


def _query_index(
    results: pd.DataFrame, relevance: pd.DataFrame, queries: Iterable[str] | None
) -> pd.Index:
    if queries is not None:
        return pd.Index(list(queries), name="query_id")
    seen = pd.concat([results["query_id"], relevance["query_id"]]).drop_duplicates()
    return pd.Index(seen.tolist(), name="query_id")


def _ranked(results: pd.DataFrame, relevance: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """Results with a 1-based `position` per query and the `gain` of each item (0 if unknown)."""
    ordered = results[["query_id", "item_id", "rank"]].reset_index(drop=True)
    ordered = ordered.sort_values(["query_id", "rank"], kind="stable")
    ordered = ordered.drop_duplicates(["query_id", "item_id"], keep="first")
    ordered["position"] = ordered.groupby("query_id", sort=False).cumcount() + 1
    if k is not None:
        ordered = ordered[ordered["position"] <= k]
    gains = relevance[["query_id", "item_id", "gain"]].drop_duplicates(["query_id", "item_id"])
    merged = ordered.merge(gains, on=["query_id", "item_id"], how="left")
    merged["gain"] = merged["gain"].fillna(0.0).astype(float)
    return merged


def _relevant(gain: pd.Series, min_gain: float) -> pd.Series:
    return (gain > 0) & (gain >= min_gain)


def precision_at_k_per_query(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    k: int = 10,
    *,
    min_gain: float = 0.0,
    queries: Iterable[str] | None = None,
) -> pd.Series:
    """Share of the top k that are relevant (gain > 0 and >= min_gain); the denominator is k."""
    index = _query_index(results, relevance, queries)
    ranked = _ranked(results, relevance, k)
    hits = _relevant(ranked["gain"], min_gain).groupby(ranked["query_id"]).sum()
    return (hits.reindex(index, fill_value=0) / k).astype(float)


def hit_at_k_per_query(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    k: int = 10,
    *,
    min_gain: float = 0.0,
    queries: Iterable[str] | None = None,
) -> pd.Series:
    """1 when at least one of the top k is relevant, else 0."""
    index = _query_index(results, relevance, queries)
    ranked = _ranked(results, relevance, k)
    hits = _relevant(ranked["gain"], min_gain).groupby(ranked["query_id"]).any()
    return hits.reindex(index, fill_value=False).astype(float)


def mrr_per_query(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    k: int | None = None,
    *,
    min_gain: float = 0.0,
    queries: Iterable[str] | None = None,
) -> pd.Series:
    """1 / position of the first relevant item (within the top k when k is given), else 0."""
    index = _query_index(results, relevance, queries)
    ranked = _ranked(results, relevance, k)
    first = ranked[_relevant(ranked["gain"], min_gain)].groupby("query_id")["position"].min()
    return (1.0 / first).reindex(index, fill_value=0.0).astype(float)


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def _ideal_dcg(
    relevance: pd.DataFrame, index: pd.Index, k: int, ideal: IdealGains | None
) -> pd.Series:
    if ideal is None:
        ideal_map: Mapping[str, Sequence[float]] = {
            str(q): g.tolist() for q, g in relevance.groupby("query_id")["gain"]
        }
    elif isinstance(ideal, pd.DataFrame):
        ideal_map = {str(q): g.tolist() for q, g in ideal.groupby("query_id")["gain"]}
    else:
        ideal_map = ideal
    values = []
    for q in index:
        best = np.sort(np.asarray(ideal_map.get(str(q), []), dtype=float))[::-1][:k]
        values.append(float(best @ _discounts(len(best))) if len(best) else 0.0)
    return pd.Series(values, index=index, dtype=float)


def ndcg_at_k_per_query(
    results: pd.DataFrame,
    relevance: pd.DataFrame,
    k: int = 10,
    *,
    ideal: IdealGains | None = None,
    queries: Iterable[str] | None = None,
) -> pd.Series:
    """DCG@k = sum of gain / log2(position + 1), divided by the DCG of the ideal ranking.

    The ideal ranking is the k largest gains of `ideal` for the query (a mapping query_id -> gains,
    or a frame (query_id, gain)); by default the gains listed in `relevance`. 0 when the ideal is 0.
    """
    index = _query_index(results, relevance, queries)
    ranked = _ranked(results, relevance, k)
    ranked["dcg"] = ranked["gain"] / np.log2(ranked["position"] + 1.0)
    dcg = ranked.groupby("query_id")["dcg"].sum().reindex(index, fill_value=0.0)
    idcg = _ideal_dcg(relevance, index, k, ideal)
    out = np.where(idcg > 0, dcg / idcg.where(idcg > 0, 1.0), 0.0)
    return pd.Series(out, index=index, dtype=float)


def _mean(series: pd.Series) -> float:
    return float(series.mean()) if len(series) else 0.0


def precision_at_k(results: pd.DataFrame, relevance: pd.DataFrame, k: int = 10, **kw: Any) -> float:
    return _mean(precision_at_k_per_query(results, relevance, k, **kw))


def hit_at_k(results: pd.DataFrame, relevance: pd.DataFrame, k: int = 10, **kw: Any) -> float:
    return _mean(hit_at_k_per_query(results, relevance, k, **kw))


def mrr(results: pd.DataFrame, relevance: pd.DataFrame, k: int | None = None, **kw: Any) -> float:
    return _mean(mrr_per_query(results, relevance, k, **kw))


def ndcg_at_k(results: pd.DataFrame, relevance: pd.DataFrame, k: int = 10, **kw: Any) -> float:
    return _mean(ndcg_at_k_per_query(results, relevance, k, **kw))


def results_frame(ranked: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Build a results frame from query_id -> ranked item ids (best first)."""
    rows = [(q, item, r) for q, items in ranked.items() for r, item in enumerate(items, start=1)]
    return pd.DataFrame(rows, columns=["query_id", "item_id", "rank"])
