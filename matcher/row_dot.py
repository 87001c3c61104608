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

Every row of a large matrix (at least `2 * SPLIT_ROWS`) is read in parts, one by the caller and
the others by helper threads (one per other core, at most three): at 100k rows x 384 on two
cores, 6.6 -> 4.0 ms, the same values bit for bit (each row's sum is the same kernel's). A part
no helper has started by the time the caller is done with its own (the helpers busy with other
requests' parts) is taken back and read by the caller, so a loaded server reads as one thread
would, never waiting in a queue.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
        return _every_row(matrix, query)
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


# rows a part holds at least: below this, handing a part to another thread costs more than it saves
SPLIT_ROWS = 32_768
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def helper_count() -> int:
    """Threads that read parts beside the caller: one per other core, at most three."""
    return max(0, min(3, (os.cpu_count() or 1) - 1))


def _helpers() -> ThreadPoolExecutor | None:
    global _pool
    workers = helper_count()
    if workers == 0:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="row-dot")
        return _pool


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it starts its own pool when it needs one."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _read(out: np.ndarray, query: np.ndarray, matrix: np.ndarray, start: int, stop: int) -> None:
    faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]
        faiss.swig_ptr(out[start:stop]),
        faiss.swig_ptr(query),
        faiss.swig_ptr(matrix[start:stop]),
        matrix.shape[1],
        stop - start,
    )


def _every_row(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    n = matrix.shape[0]
    out = np.empty(n, dtype=np.float32)
    parts = min(helper_count() + 1, n // SPLIT_ROWS)
    pool = _helpers() if parts > 1 else None
    if pool is None:
        _read(out, query, matrix, 0, n)
        return out
    bounds = [n * i // parts for i in range(parts + 1)]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    handed = [(pool.submit(_read, out, query, matrix, a, b), a, b) for a, b in spans[1:]]
    _read(out, query, matrix, *spans[0])
    for future, a, b in handed:
        if future.cancel():  # no helper free: read it here rather than wait in the queue
            _read(out, query, matrix, a, b)
        else:
            future.result()
    return out
