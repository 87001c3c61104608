"""Vector helpers shared by the embedders, the engine and the benchmarks."""

from __future__ import annotations

import numpy as np


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def centre(vectors: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """Subtract the corpus mean embedding and re-normalise (no-op without a mean).

    Removes the direction every MiniLM embedding shares, so cosine measures what distinguishes
    a profile (benchmark T1)."""
    if mean is None or np.asarray(vectors).size == 0:
        return np.asarray(vectors, dtype=np.float32)
    return l2_normalise(np.asarray(vectors, dtype=np.float32) - mean.reshape(1, -1))


def inner_products_at(vectors: np.ndarray, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`vectors[rows] @ query` without gathering the rows first (faiss reads them in place):
    about half the time for 20k of 100k rows, where the copy costs as much as the products."""
    import faiss

    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.empty(rows.size, dtype=np.float32)
    if rows.size == 0:
        return out
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    if v.ndim != 2 or q.size != v.shape[1]:
        raise ValueError(f"query of {q.size} dimensions for vectors of shape {v.shape}")
    if rows.min() < 0 or rows.max() >= v.shape[0]:
        raise IndexError(f"rows outside 0..{v.shape[0] - 1}")
    faiss.fvec_inner_products_by_idx(  # type: ignore[attr-defined]
        faiss.swig_ptr(out),
        faiss.swig_ptr(q),
        faiss.swig_ptr(v),
        faiss.swig_ptr(rows),
        v.shape[1],
        1,
        rows.size,
    )
    return out
