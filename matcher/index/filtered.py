"""Dense top-k under hard filters where the engine, not the database's planner, picks the method.

    n = rows admitted by the filters (counted no further than the threshold)
    n <= exact_threshold      -> exact scan of the admitted rows
    otherwise                 -> the approximate index (HNSW, iterative scans); when it returns
                                 fewer than min(k, n) rows, an exact scan instead

Both paths apply the filters inside the search, so no result ever violates one; the approximate
path can only miss rows (recall), which `training/bench_pgvector.py` measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from matcher.domain import Filters

EXACT = "exact"
APPROXIMATE = "hnsw"
FALLBACK = "hnsw+exact"


class FilteredDense(Protocol):
    """What filtered dense retrieval needs of a back end (matcher.index.pg_store.PgVectorStore)."""

    def count_upto(self, filters: Filters | None, limit: int | None = None) -> int: ...

    def exact(
        self, query: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def approximate(
        self, query: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class DenseHits:
    ids: np.ndarray  # int64, best first
    scores: np.ndarray  # float32 inner products
    method: str  # EXACT, APPROXIMATE or FALLBACK
    admitted: int  # rows passing the filters, counted up to exact_threshold + 1


def filtered_top_k(
    backend: FilteredDense,
    query: np.ndarray,
    k: int,
    filters: Filters | None = None,
    *,
    exact_threshold: int = 5_000,
    admitted: int | None = None,
) -> DenseHits:
    """The top-k rows by inner product among those passing `filters`. `admitted`: how many rows
    pass them, when the caller knows (the engine's catalog mask); else the back end counts
    (up to exact_threshold + 1)."""
    if k < 0:
        raise ValueError("k must be >= 0")
    if exact_threshold < 0:
        raise ValueError("exact_threshold must be >= 0")
    counted = admitted is None
    if admitted is None:
        admitted = backend.count_upto(filters, exact_threshold + 1)
    if k == 0 or admitted == 0:
        return DenseHits(np.zeros(0, np.int64), np.zeros(0, np.float32), EXACT, admitted)
    if admitted <= exact_threshold:
        ids, scores = backend.exact(query, k, filters)
        return DenseHits(ids, scores, EXACT, admitted)
    ids, scores = backend.approximate(query, k, filters)
    # a count stopped at exact_threshold + 1 is a lower bound: then k rows were owed
    owed = k if counted else min(k, admitted)
    if ids.size < owed:
        ids, scores = backend.exact(query, k, filters)
        return DenseHits(ids, scores, FALLBACK, admitted)
    return DenseHits(ids, scores, APPROXIMATE, admitted)
