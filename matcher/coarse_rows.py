"""A 128-dimension copy of a large catalog's vectors: which rows are worth scoring exactly.

An unfiltered request at 100k profiles retrieves the business, government and academic roles
by exact scan (each below `exact_filter_threshold`, 54k rows together), so it used to read
every one of the 100k x 384 float32 vectors once: 10.5 ms of CPU a request on these machines,
the largest single cost of a ranking, all of it memory traffic. The rows are projected once onto
the vectors' 128 main directions (PCA of a seeded sample: 77% of the variance at 100k); a
request reads that copy (3.9 ms), scores exactly the `MARGIN * k` rows of each role the copy
ranks highest, and measures the spread of the cosine over a role from the copy plus a small
exact sample (`QueryScores.spread`). What a request returns is always the exact cosine; only
which rows are read exactly is chosen coarsely.

Recall of a role's exact top 60 at 100k (the `make bench` corpus, 100 sample needs, 18k-row
roles), by margin: 4x 0.989, 8x 0.998, 16x 0.9999; the rows missed rank near the 60th, far
below the five a sector's list shows. Below `coarse_scan_rows` (50k by default) nothing
changes: every row is read exactly. T4's catalog (54k profiles) is above it and uses the copy;
its figures are the same with the copy on and off (README, issue 12).

The basis is fitted when a generation is installed (0.2 s at 100k) and kept until the next; a
write projects the rows it changes (`set_rows`), so the copy always holds every row. A catalog
that grows past `coarse_scan_rows` by writes gets its copy at the next install (reopen or
reindex), not before.
"""

from __future__ import annotations

import numpy as np

from matcher.row_dot import row_dot

COARSE_DIMS = 128
FIT_SAMPLE = 8192
# rows read exactly per row wanted (recall of the exact top 60 at 100k: see above)
MARGIN = 8


def top_indexes(values: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k largest values, largest first (ties: the earlier index first)."""
    if values.size <= k:
        return np.argsort(-values, kind="stable")
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


class CoarseRows:
    """Every catalog row projected onto the `dims` main directions of the vectors."""

    def __init__(self, basis: np.ndarray, rows: np.ndarray, n: int) -> None:
        if basis.ndim != 2 or rows.ndim != 2 or rows.shape[1] != basis.shape[1]:
            raise ValueError(f"basis {basis.shape} and rows {rows.shape} do not match")
        if n > rows.shape[0]:
            raise ValueError(f"{n} rows asked of a copy holding {rows.shape[0]}")
        self.basis_ = np.ascontiguousarray(basis, dtype=np.float32)  # (dimension, dims)
        self._rows = np.ascontiguousarray(rows, dtype=np.float32)  # (capacity, dims)
        self.n = n

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        *,
        dims: int = COARSE_DIMS,
        sample: int = FIT_SAMPLE,
        seed: int = 0,
        capacity: int | None = None,
    ) -> CoarseRows:
        """The main directions of a seeded sample of `vectors` (same rows, same basis), and
        every row projected onto them; room for `capacity` rows (at least len(vectors))."""
        vectors = np.asarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        dims = max(1, min(dims, d))
        rng = np.random.default_rng(seed)
        picked = vectors if n <= sample else vectors[np.sort(rng.choice(n, sample, replace=False))]
        second = picked.astype(np.float64).T @ picked.astype(np.float64)
        _, eig = np.linalg.eigh(second)  # ascending eigenvalues
        basis = np.ascontiguousarray(eig[:, ::-1][:, :dims], dtype=np.float32)
        rows = np.zeros((max(n, capacity or 0), dims), dtype=np.float32)
        rows[:n] = vectors @ basis
        return cls(basis, rows, n)

    @property
    def dims(self) -> int:
        return int(self.basis_.shape[1])

    @property
    def rows(self) -> np.ndarray:
        return self._rows[: self.n]

    def set_rows(self, positions: np.ndarray | list[int], vectors: np.ndarray, n: int) -> None:
        """These rows' vectors written anew (projected here), the catalog now `n` rows long."""
        if n > self._rows.shape[0]:
            grown = np.zeros((max(n, 2 * self._rows.shape[0]), self.dims), dtype=np.float32)
            grown[: self.n] = self._rows[: self.n]
            self._rows = grown
        self.n = n
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size:
            self._rows[positions] = np.asarray(vectors, dtype=np.float32) @ self.basis_

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Every row's inner product with `query` in the coarse space."""
        coarse_query = np.ascontiguousarray(
            np.asarray(query, dtype=np.float32) @ self.basis_, dtype=np.float32
        )
        return row_dot(self.rows, coarse_query)

    def preselect(self, scores: np.ndarray, rows: np.ndarray, want: int) -> np.ndarray:
        """Indexes into `rows` of the `want` with the highest coarse `scores` (every row's, from
        `scores`), ascending (so exact ties still break by position)."""
        if rows.size <= want:
            return np.arange(rows.size)
        return np.sort(np.argpartition(-scores[rows], want - 1)[:want])
