"""Process-wide thread pools of the numerical libraries.

numpy's (and faiss') OpenBLAS keeps its worker threads spinning for a while after each matrix
product. On a 2-core machine those spinning threads steal the CPU from the next request's query
encoder: at 100k profiles, one-thread BLAS cut `recommend` p50 (query embedding included) from
25-50 ms to 17-23 ms and the embedding itself from 12-16 ms to 6 ms. A request's matrix
products (a few million multiply-adds) gain nothing from a second thread anyway.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_applied: int | None = None


def limit_blas_threads(threads: int | None) -> None:
    """Limit every loaded BLAS library to `threads` (None: leave them alone). The limit is
    process-wide and stays in force; applying the same value again does nothing."""
    global _applied
    if threads is None:
        return
    with _lock:
        if _applied == threads:
            return
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
        _applied = threads
        logger.info("BLAS limited to %d thread(s)", threads)
