"""What the retrievals of one request share.

`Engine.recommend` retrieves once per coalition role and once more for the overall list, each
over its own allowed rows but always for the same query. A row's cosine to the query, its cause
agreement and the text's lexical matches do not depend on the role, so `QueryScores` computes
each at most once a request and every retrieval reads it: about five retrievals a request no
longer gather and multiply the same rows again. In a catalog with a coarse copy of its vectors
(matcher.coarse_rows) `best_of` reads exactly only the rows that copy ranks highest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from matcher.catalog import Catalog
from matcher.causes import agreement
from matcher.coarse_rows import MARGIN, CoarseRows, top_indexes
from matcher.index.base import VectorIndex
from matcher.row_dot import row_dot

# rows whose exact cosines measure the spread of a set not read whole (as for an ANN search)
SPREAD_SAMPLE = 2048
# with a coarse copy only the residual's share of the spread is estimated from a sample
COARSE_SPREAD_SAMPLE = 512


def sampled_spread(
    score_at: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, sample: int = SPREAD_SAMPLE
) -> tuple[float, float]:
    """The mean and standard deviation of `score_at` over about `sample` evenly spaced `rows`."""
    values = score_at(rows[:: max(1, rows.size // sample)])
    return float(values.mean()), float(values.std())


def mean_var(values: np.ndarray) -> tuple[float, float]:
    """The mean and variance of `values` in float64 from their sum and their sum of squares
    (one BLAS dot: a fifth of numpy's `var` over a role's 18k-100k rows, which subtracts the
    mean and squares in temporaries)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return 0.0, 0.0
    mean = float(x.sum()) / x.size
    return mean, max(float(np.dot(x, x)) / x.size - mean * mean, 0.0)


class RowMemo:
    """One float per catalog row, computed on first use (NaN: not yet)."""

    def __init__(
        self,
        n: int,
        compute: Callable[[np.ndarray | None], np.ndarray],
        expected: int | None = None,
    ) -> None:
        # compute(None): every row (one pass, cheaper than gathering most of them)
        self._n = n
        self._values: np.ndarray | None = None  # made on first use: a memo never read costs nothing
        self._compute = compute
        self._all = False
        # how many rows the request may read in all (None: unknown); a third of the rows or
        # more: every row is computed at the first read, in one pass, rather than role by role
        self._expected = expected

    def at(self, positions: np.ndarray) -> np.ndarray:
        if self._values is None:
            self._values = np.full(self._n, np.nan, dtype=np.float32)
        values = self._values[positions]
        if self._all:
            return values
        todo = np.isnan(values)
        if todo.any():
            if max(int(todo.sum()), self._expected or 0) * 3 >= self._n:
                fresh = np.isnan(self._values)
                self._values[fresh] = self._compute(None)[fresh]
                self._all = True
                return self._values[positions]
            missing = positions[todo]
            values[todo] = self._compute(missing)
            self._values[missing] = values[todo]
        return values


class QueryScores:
    """A request's shared scores: cosine to the query, cause agreement, lexical matches."""

    def __init__(
        self,
        catalog: Catalog,
        query: np.ndarray,
        text: str,
        cause_dist: np.ndarray | None = None,
        expected_rows: int | None = None,
    ) -> None:
        """`expected_rows`: how many rows the request's retrievals may read (the rows its hard
        filters other than sector allow): at a third of the catalog or more, the first read
        computes every row in one pass (at 100k, role by role cost 3x the one pass), unless
        the catalog keeps a coarse copy: then `best_of` reads only a few rows exactly."""
        self.catalog, self.query, self.text, self.cause_dist = catalog, query, text, cause_dist
        n = catalog.vectors.shape[0]
        coarse = catalog.coarse_
        self._coarse: CoarseRows | None = coarse if coarse is not None and coarse.n == n else None
        self._coarse_scores: np.ndarray | None = None
        self.dense = RowMemo(n, self._cosines, None if self._coarse else expected_rows)
        self.cause = RowMemo(n, self._agreement, expected_rows)
        self._lexical: tuple[np.ndarray, np.ndarray] | None = None
        self._lexical_row: np.ndarray | None = None
        self._searches: dict[int, tuple[VectorIndex, int, np.ndarray, np.ndarray]] = {}

    def search(self, index: VectorIndex, want: int) -> tuple[np.ndarray, np.ndarray]:
        """`index.search` of the query for `want` hits, made once a request: the overall
        list and a role holding most rows ask the same search (on the real T4 catalog the
        nonprofit role and the overall list: two IVF searches of 240, 1.4 ms each). Only the
        same `want` is shared: a longer search is not a prefix of a shorter one for every
        index (HNSW widens its beam to k)."""
        key = id(index)
        hit = self._searches.get(key)
        if hit is not None and hit[0] is index and hit[1] == want:
            return hit[2], hit[3]
        ids, scores = index.search(self.query[None, :], want)
        self._searches[key] = (index, want, ids, scores)
        return ids, scores

    def best_of(
        self, rows: np.ndarray, k: int, margin: int = MARGIN, spread: bool = True
    ) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
        """The k of `rows` closest to the query: (their indexes into `rows`, best first; their
        exact cosines; the mean and standard deviation of the cosine over `rows`).

        Every row is read exactly, or with a coarse copy of the catalog, the `margin * k` rows
        it ranks highest, and the spread is `spread`'s; (0, 1) unread when `spread` is False."""
        if self._coarse is None or rows.size <= margin * k:
            values = self.dense.at(rows)
            order = top_indexes(values, k)
            return order, values[order], (float(values.mean()), float(values.std()))
        coarse = self._coarse_all(self._coarse)
        picked = self._coarse.preselect(coarse, rows, margin * k)
        exact = self.dense.at(rows[picked])
        order = top_indexes(exact, k)
        return picked[order], exact[order], self.spread(rows) if spread else (0.0, 1.0)

    def nearest(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Indexes into `rows` of k of them close to the query, ascending, for a pre-filter
        whose order is not shown: with a coarse copy, the k it ranks highest (no row read
        exactly); without one, the exact top k."""
        if rows.size <= k:
            return np.arange(rows.size)
        if self._coarse is None:
            return np.sort(top_indexes(self.dense.at(rows), k))
        return self._coarse.preselect(self._coarse_all(self._coarse), rows, k)

    def spread(self, rows: np.ndarray) -> tuple[float, float]:
        """The mean and standard deviation of the cosine over `rows` not read whole, from an
        evenly spaced sample. With a coarse copy: the coarse scores' over every row plus the
        difference between exact and coarse on a smaller sample (a difference estimator: only
        the residual's share of the spread is estimated, so it varies a fraction as much)."""
        if self._coarse is None:
            return sampled_spread(self.dense.at, rows)
        coarse = self._coarse_all(self._coarse)
        sample = rows[:: max(1, rows.size // COARSE_SPREAD_SAMPLE)]
        ex, co_s = self.dense.at(sample).astype(np.float64), coarse[sample].astype(np.float64)
        co_mean, co_var = mean_var(coarse[rows])
        mean = co_mean + ex.mean() - co_s.mean()
        var = co_var + ex.var() - co_s.var()
        return float(mean), float(max(var, 0.0) ** 0.5)

    def _coarse_all(self, coarse: CoarseRows) -> np.ndarray:
        if self._coarse_scores is None:
            self._coarse_scores = coarse.scores(self.query)
        return self._coarse_scores

    def _cosines(self, positions: np.ndarray | None) -> np.ndarray:
        return row_dot(self.catalog.vectors, self.query, positions)

    def _agreement(self, positions: np.ndarray | None) -> np.ndarray:
        if self.cause_dist is None:
            raise ValueError("no cause distribution for this query")
        cat = self.catalog
        if positions is None:
            return agreement(self.cause_dist, cat.cause_idx_, cat.cause_p_)
        return agreement(self.cause_dist, cat.cause_idx_[positions], cat.cause_p_[positions])

    def serves(self, catalog: Catalog, query: np.ndarray, text: str) -> bool:
        """Whether these scores are of this catalog, query and text (else computed afresh)."""
        return catalog is self.catalog and query is self.query and text == self.text

    def lexical_matches(
        self, matches: Callable[[str], tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, scores) of every catalog row sharing a term with the text, unfiltered."""
        if self._lexical is None:
            ids, scores = matches(self.text)
            pos = self.catalog.positions_of_pks(ids)
            keep = pos >= 0
            self._lexical = pos[keep], scores[keep]
        return self._lexical

    def lexical_at(
        self, matches: Callable[[str], tuple[np.ndarray, np.ndarray]], positions: np.ndarray
    ) -> np.ndarray:
        """The lexical score of these rows (0: no shared term)."""
        if self._lexical_row is None:
            pos, scores = self.lexical_matches(matches)
            row = np.zeros(self.catalog.vectors.shape[0], dtype=np.float32)
            row[pos] = scores
            self._lexical_row = row
        return self._lexical_row[positions]
