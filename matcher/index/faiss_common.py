"""What the faiss backends share: input checks, padding, thread control, save/load skeleton."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from matcher.atomic import atomic_directory, read_faiss
from matcher.errors import ArtifactMismatchError
from matcher.index.manifest import Manifest, expect_manifest

logger = logging.getLogger(__name__)

T = TypeVar("T", bound="FaissIndexBase")


def set_faiss_threads(n: int | None) -> None:
    """Set faiss's OpenMP pool size for the *calling* thread (pools set in the main thread do not
    reach server worker threads). None leaves the current setting."""
    if n is None:
        return
    if n < 1:
        raise ValueError("threads must be >= 1")
    import faiss

    faiss.omp_set_num_threads(int(n))


def as_ids(ids: np.ndarray | list[int]) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ids must be integers, got {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < 0:
        raise ValueError("ids must be >= 0 (-1 marks padding in search results)")
    return np.ascontiguousarray(arr)


def as_vectors(vectors: np.ndarray, dimension: int) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dimension:
        raise ValueError(f"vectors must have shape (n, {dimension}), got {np.shape(vectors)}")
    if not np.isfinite(arr).all():
        raise ValueError("vectors contain NaN or infinity")
    return np.ascontiguousarray(arr)


def last_occurrence(ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated ids within one batch, keeping the last vector given for each."""
    if ids.size < 2:
        return ids, vectors
    _, first_in_reversed = np.unique(ids[::-1], return_index=True)
    if first_in_reversed.size == ids.size:
        return ids, vectors
    keep = np.sort(ids.size - 1 - first_in_reversed)
    return ids[keep], vectors[keep]


def empty_results(n_queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.full((n_queries, k), -1, dtype=np.int64),
        np.full((n_queries, k), -np.inf, dtype=np.float32),
    )


def clean_results(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    scores = np.ascontiguousarray(scores, dtype=np.float32)
    scores[labels < 0] = -np.inf
    labels[labels < 0] = -1
    return labels, scores


def read_faiss_checked(path: Path, manifest: Manifest) -> Any:
    """Deserialise a faiss index and check its dimension against the manifest."""
    try:
        index = read_faiss(path)
    except (OSError, RuntimeError) as exc:
        raise ArtifactMismatchError(f"unreadable faiss index {path}: {exc}") from exc
    if int(index.d) != manifest.dimension:
        raise ArtifactMismatchError(
            f"{path}: faiss index has dimension {index.d}, manifest says {manifest.dimension}"
        )
    return index


def load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ArtifactMismatchError(f"unreadable array {path}: {exc}") from exc


class FaissIndexBase(ABC):
    """Template for a VectorIndex: subclasses implement the `_`-prefixed hooks."""

    kind: ClassVar[str]
    INDEX_FILE: ClassVar[str] = "index.faiss"

    def __init__(self, dimension: int, *, threads: int | None = None) -> None:
        if dimension < 1:
            raise ValueError("dimension must be >= 1")
        self.dimension = int(dimension)
        self.threads = threads

    # -- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def ids(self) -> np.ndarray:
        """The live ids, ascending."""

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _remove(self, ids: np.ndarray) -> None: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def params(self) -> dict[str, Any]: ...

    @abstractmethod
    def _save_files(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def _load_files(cls: type[T], directory: Path, manifest: Manifest) -> T: ...

    # -- public API --------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert vectors; an id already present gets the new vector."""
        id_arr = as_ids(ids)
        vecs = as_vectors(vectors, self.dimension)
        if id_arr.shape[0] != vecs.shape[0]:
            raise ValueError(f"{id_arr.shape[0]} ids for {vecs.shape[0]} vectors")
        if id_arr.size == 0:
            return
        id_arr, vecs = last_occurrence(id_arr, vecs)
        set_faiss_threads(self.threads)
        self._add(id_arr, vecs)

    def remove(self, ids: np.ndarray) -> None:
        """Remove ids; unknown ids are ignored."""
        id_arr = np.unique(as_ids(ids))
        if id_arr.size:
            set_faiss_threads(self.threads)
            self._remove(id_arr)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by inner product: (ids int64, scores float32), shape (n_queries, k)."""
        if k < 0:
            raise ValueError("k must be >= 0")
        q = as_vectors(queries, self.dimension)
        if k == 0 or q.shape[0] == 0 or len(self) == 0:
            return empty_results(q.shape[0], k)
        set_faiss_threads(self.threads)
        labels, scores = self._search(q, k)
        return clean_results(labels, scores)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int | np.integer):
            return False
        return bool(np.isin(np.int64(item), self.ids()))

    def manifest(self) -> Manifest:
        return Manifest.new(self.kind, self.dimension, len(self), self.params(), uses_faiss=True)

    def save(self, directory: Path) -> None:
        """Write the index as a directory (files + manifest.json), replacing it atomically."""
        directory = Path(directory)
        with atomic_directory(directory) as tmp:
            self._save_files(tmp)
            self.manifest().write(tmp)
        logger.info("saved %s index (%d vectors) to %s", self.kind, len(self), directory)

    @classmethod
    def load(cls: type[T], directory: Path, *, expected_dimension: int | None = None) -> T:
        """Load a directory written by `save`; ArtifactMismatchError if it is not this kind,
        dimension or count."""
        directory = Path(directory)
        manifest = expect_manifest(directory, cls.kind, expected_dimension)
        index = cls._load_files(directory, manifest)
        manifest.check_count(len(index), f"{cls.kind} index at {directory}")
        return index

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dimension={self.dimension}, count={len(self)})"
