"""Pick, build and load vector indexes by kind."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.errors import ArtifactMismatchError
from matcher.index.base import VectorIndex
from matcher.index.faiss_common import FaissIndexBase, set_faiss_threads
from matcher.index.flat import FlatIndex
from matcher.index.hnsw import HNSWIndex
from matcher.index.ivf import IVFIndex
from matcher.index.manifest import read_manifest
from matcher.index.pgvector import OrganisationLoader, PgVectorIndex

if TYPE_CHECKING:
    from matcher.settings import Settings

logger = logging.getLogger(__name__)

BACKENDS: dict[str, type[FaissIndexBase]] = {
    FlatIndex.kind: FlatIndex,
    IVFIndex.kind: IVFIndex,
    HNSWIndex.kind: HNSWIndex,
    # vectors in PostgreSQL (needs url=...; the pgvector extension on the server)
    PgVectorIndex.kind: PgVectorIndex,
}
ANN_KINDS = (IVFIndex.kind, HNSWIndex.kind)  # what choose_kind picks above its threshold

__all__ = [
    "BACKENDS",
    "attach_organisations",
    "choose_kind",
    "create_index",
    "load_index",
    "new_vector_index",
    "set_faiss_threads",
]
PG_TABLE_PREFIX = "matcher_org_vectors_g"  # + the generation: one table per index generation


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


def new_vector_index(
    settings: Settings,
    dimension: int,
    n_vectors: int,
    *,
    generation: int,
    organisations: OrganisationLoader | None = None,
) -> VectorIndex:
    """The empty vector index of a new generation, as the settings choose: faiss (flat up to
    ann_threshold vectors, else ann_kind) or, with vector_backend 'pgvector', a fresh table of
    this generation (tables of generations older than the previous one are dropped, as
    matcher.artifacts.prune_generations drops their folders). `organisations` gives pgvector
    the filter columns of the rows it stores."""
    if settings.vector_backend != PgVectorIndex.kind:
        kind = choose_kind(n_vectors, settings.ann_threshold, settings.ann_kind)
        return create_index(kind, dimension)
    url = settings.pgvector_url or settings.sqlalchemy_url
    index = PgVectorIndex(
        dimension,
        url=url,
        table=f"{PG_TABLE_PREFIX}{generation:06d}",
        exact_threshold=settings.pgvector_exact_threshold,
        partition_by_region=settings.pgvector_partition_by_region,
        replace=True,  # a table left by a build of this generation that did not finish
    )
    for table in index.store.sibling_tables(PG_TABLE_PREFIX):
        suffix = table.removeprefix(PG_TABLE_PREFIX)
        if suffix.isdigit() and int(suffix) < generation - 1:
            index.store.drop_table(table)
    index.organisations = organisations
    return index


def attach_organisations(index: VectorIndex | None, organisations: OrganisationLoader) -> None:
    """Give a loaded pgvector index the source of its rows' filter columns (others ignore it)."""
    if isinstance(index, PgVectorIndex):
        index.organisations = organisations
