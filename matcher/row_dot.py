"""A query's inner products with the rows of a matrix, by faiss's SIMD kernels.

Retrieval scores a need against the catalog's rows at every request (`QueryScores`, exact
scans). numpy computes `vectors @ q` with BLAS sgemv and `vectors[rows] @ q` by copying the
rows first; at 100k rows x 384 dimensions, on these machines, that took 12.4 ms for every row
and 8.9 ms for 20k of them. faiss's `fvec_inner_products_ny` and `fvec_inner_products_by_idx`
read the rows where they lie: 6.4 and 3.6 ms, the same values to within 1e-7 (the order of the
additions). They release the GIL, like BLAS. Anything faiss's kernels cannot take as it is (not
float32, not C-contiguous, not 2-D) goes to numpy, with the same result.

`fvec_inner_products_by_idx` opens an OpenMP parallel region even for one query: with the
default team (one thread per core) each call woke the other core's thread, which then spun
waiting for more work (0.98 against 0.10 ms of CPU for 2k rows, and 3.6 ms more while the
caller slept between calls: the CPU the other requests' model passes need). The calling
thread's OpenMP team is set to one thread for the call and restored after it (the setting is
per thread: index builds elsewhere keep theirs). An earlier session reverted this same kernel
for that reason without finding it (README, "Speed").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import faiss
import numpy as np


def _kernel_ready(matrix: np.ndarray, query: np.ndarray) -> bool:
    return (
        matrix.ndim == 2
        and matrix.dtype == np.float32
        and matrix.flags.c_contiguous
        and query.ndim == 1
        and query.dtype == np.float32
        and query.flags.c_contiguous
        and query.shape[0] == matrix.shape[1]
    )


def row_dot(matrix: np.ndarray, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """`matrix @ query` (rows None) or `matrix[rows] @ query`, as float32.

    `rows` are row numbers of `matrix` (any integer dtype; an IndexError names one out of
    range, as numpy would)."""
    matrix = np.asarray(matrix)
    query = np.asarray(query)
    if rows is not None:
        rows = np.asarray(rows)
        if rows.size == 0:
            return np.zeros(0, dtype=np.float32)
        n = matrix.shape[0]
        low, high = int(rows.min()), int(rows.max())
        if low < -n or high >= n:
            bad = low if low < -n else high
            raise IndexError(f"row {bad} is out of range for {n} rows")
        if low < 0:
            rows = np.where(rows < 0, rows + n, rows)
    if not _kernel_ready(matrix, query) or matrix.shape[0] == 0:
        picked = matrix if rows is None else matrix[rows]
        return np.asarray(picked @ query, dtype=np.float32)
    d = matrix.shape[1]
    if rows is None:
        out = np.empty(matrix.shape[0], dtype=np.float32)
        faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]
            faiss.swig_ptr(out), faiss.swig_ptr(query), faiss.swig_ptr(matrix), d, out.size
        )
        return out
    ids = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
    out = np.empty(ids.size, dtype=np.float32)
    with one_openmp_thread():
        faiss.fvec_inner_products_by_idx(  # type: ignore[attr-defined]
            faiss.swig_ptr(out),
            faiss.swig_ptr(query),
            faiss.swig_ptr(matrix),
            faiss.swig_ptr(ids),
            d,
            1,
            ids.size,
        )
    return out.reshape(np.shape(rows))


@contextmanager
def one_openmp_thread() -> Iterator[None]:
    """faiss's OpenMP team of the calling thread set to one thread, then restored."""
    before = faiss.omp_get_max_threads()
    if before == 1:
        yield
        return
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
