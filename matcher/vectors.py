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
