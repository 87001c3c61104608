"""Pick, build and load vector indexes by kind."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import FaissIndexBase, set_faiss_threads
from matcher.index.flat import FlatIndex
from matcher.index.hnsw import HNSWIndex
from matcher.index.ivf import IVFIndex
from matcher.index.manifest import read_manifest
from matcher.index.pgvector import PgVectorIndex

logger = logging.getLogger(__name__)

BACKENDS: dict[str, type[FaissIndexBase]] = {
    FlatIndex.kind: FlatIndex,
    IVFIndex.kind: IVFIndex,
    HNSWIndex.kind: HNSWIndex,
    # vectors in PostgreSQL (needs url=...; the pgvector extension on the server)
    PgVectorIndex.kind: PgVectorIndex,
}
ANN_KINDS = (IVFIndex.kind, HNSWIndex.kind)  # what choose_kind picks above its threshold

__all__ = ["BACKENDS", "choose_kind", "create_index", "load_index", "set_faiss_threads"]


def create_index(kind: str, dimension: int, **params: Any) -> FaissIndexBase:
    """A new empty index: kind "flat", "ivf", "hnsw" or "pgvector" (which needs `url`); params
    go to its constructor."""
    try:
        cls = BACKENDS[kind]
    except KeyError:
        raise ValueError(f"unknown index kind {kind!r}; known: {sorted(BACKENDS)}") from None
    return cls(dimension, **params)


def choose_kind(n_vectors: int, threshold: int, ann_kind: str) -> str:
    """Exact "flat" up to `threshold` vectors, else the approximate `ann_kind`."""
    if ann_kind not in ANN_KINDS:
        raise ValueError(f"ann_kind must be 'ivf' or 'hnsw', got {ann_kind!r}")
    return FlatIndex.kind if n_vectors <= threshold else ann_kind


def load_index(
    directory: Path | str,
    *,
    expected_kind: str | None = None,
    expected_dimension: int | None = None,
    threads: int | None = None,
) -> FaissIndexBase:
    """Load whatever kind of index `directory/manifest.json` names."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if expected_kind is not None and manifest.kind != expected_kind:
        raise ArtifactMismatchError(
            f"{directory} holds a '{manifest.kind}' index, expected '{expected_kind}'"
        )
    cls = BACKENDS.get(manifest.kind)
    if cls is None:
        raise ArtifactMismatchError(f"{directory}: unknown index kind '{manifest.kind}'")
    index = cls.load(directory, expected_dimension=expected_dimension)
    index.threads = threads
    return index
