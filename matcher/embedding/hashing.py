"""A deterministic lexical embedder: hashed word uni/bigrams, then a fixed sparse projection.

Needs no model: fast unit tests and a fallback when the neural model is unavailable. Texts
that share words get a positive cosine; texts with no shared words are near-orthogonal.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

HASHING_MODEL_NAME = "hashing-v1"
_N_FEATURES = 2**18
_NNZ_PER_FEATURE = 8
_SEED = 20261127


@functools.lru_cache(maxsize=4)
def _projection(n_features: int, dimension: int, nnz: int, seed: int) -> sp.csr_matrix:
    """A sparse (n_features, dimension) matrix: `nnz` random ±1/sqrt(nnz) entries per row."""
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, dimension, size=n_features * nnz, dtype=np.int32)
    signs = rng.integers(0, 2, size=n_features * nnz).astype(np.float32) * 2.0 - 1.0
    data = signs / np.float32(np.sqrt(nnz))
    indptr = np.arange(0, n_features * nnz + 1, nnz, dtype=np.int64)
    matrix = sp.csr_matrix((data, cols, indptr), shape=(n_features, dimension))
    matrix.sum_duplicates()  # a rare repeated column simply adds up
    return matrix


class HashingEmbedder:
    """Embedder without a model: `model_name` is "hashing-v1"; output float32, L2-normalised.

    An empty (or stop-words-only) text has no features and embeds to the zero vector.
    """

    model_name = HASHING_MODEL_NAME

    def __init__(self, dimension: int = 384) -> None:
        if dimension < 8:
            raise ValueError("dimension must be >= 8")
        self.dimension = dimension
        self._vectorizer: Any = None

    def _hasher(self) -> Any:
        """scikit-learn's HashingVectorizer, imported on first use (importing scikit-learn
        takes seconds; opening an engine does not need it)."""
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import HashingVectorizer

            self._vectorizer = HashingVectorizer(
                n_features=_N_FEATURES,
                ngram_range=(1, 2),
                lowercase=True,
                strip_accents="unicode",
                stop_words="english",
                alternate_sign=False,
                norm="l2",
                dtype=np.float32,
            )
        return self._vectorizer

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        hashed = self._hasher().transform(list(texts))
        proj = _projection(_N_FEATURES, self.dimension, _NNZ_PER_FEATURE, _SEED)
        dense = np.asarray((hashed @ proj).toarray(), dtype=np.float32)
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        np.divide(dense, norms, out=dense, where=norms > 0)
        return np.ascontiguousarray(dense, dtype=np.float32)
