"""The pgvector back end as a VectorIndex (the same contract as flat, ivf and hnsw).

Vectors live in a PostgreSQL table (matcher.index.pg_store), not in the process: `save` writes
only a manifest naming the table and the server (without its password: libpq takes it from
PGPASSWORD or ~/.pgpass), and `load` reconnects to it. Search goes through
matcher.index.filtered.filtered_top_k, so an unfiltered search of a small table is exact and a
large one uses HNSW. Scores are inner products of half-precision vectors: within about 1e-3 of
float32 ones (the contract tests allow 2e-3 for this kind).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy.engine import make_url

from matcher.domain import Filters, Organisation
from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import FaissIndexBase, as_vectors
from matcher.index.filtered import DenseHits, filtered_top_k
from matcher.index.manifest import Manifest, expect_manifest
from matcher.index.pg_filters import RowAttributes
from matcher.index.pg_store import PgVectorStore

logger = logging.getLogger(__name__)

SCORE_TOLERANCE = 2e-3  # half precision: |score - float32 inner product| stays below this
# the organisations of some vector ids (matcher.store.Store.organisations_by_pk)
OrganisationLoader = Callable[[Sequence[int]], dict[int, Organisation]]
# a stored row with no organisation behind it passes no filter
NO_ORGANISATION = RowAttributes(published=False, active=False)
BULK_ROWS = 10_000  # a first load of at least this many rows builds the HNSW index after it
URL_ENV = ("MATCHER_PGVECTOR_URL", "MATCHER_DATABASE_URL")
T = TypeVar("T", bound="PgVectorIndex")


class PgVectorIndex(FaissIndexBase):
    """A VectorIndex whose vectors are rows of a pgvector table."""

    kind = "pgvector"

    def __init__(
        self,
        dimension: int,
        *,
        url: str,
        table: str = "matcher_vectors",
        exact_threshold: int = 5_000,
        threads: int | None = None,
        **store_params: Any,
    ) -> None:
        super().__init__(dimension, threads=threads)
        if exact_threshold < 0:
            raise ValueError("exact_threshold must be >= 0")
        self.exact_threshold = int(exact_threshold)
        self.store = PgVectorStore(url, self.dimension, table=table, **store_params)
        # where `add` reads the filter columns of the rows it writes (None: defaults)
        self.organisations: OrganisationLoader | None = None

    def __len__(self) -> int:
        return len(self.store)

    def ids(self) -> np.ndarray:
        return self.store.ids()

    def params(self) -> dict[str, Any]:
        url = make_url(self.store.url).set(password=None)
        return {
            "metric": "inner_product",
            "storage": "halfvec",
            "url": url.render_as_string(hide_password=False),
            "table": self.store.table,
            "exact_threshold": self.exact_threshold,
            "m": self.store.hnsw_m,
            "ef_construction": self.store.ef_construction,
            "ef_search": self.store.ef_search,
            "partition_by_region": self.store.partition_by_region,
        }

    def manifest(self) -> Manifest:
        return Manifest.new(self.kind, self.dimension, len(self), self.params(), uses_faiss=False)

    # writes ----------------------------------------------------------------------------------
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        attrs = None
        if self.organisations is not None:
            orgs = self.organisations(ids.tolist())
            attrs = [
                RowAttributes.of(orgs[pk]) if pk in orgs else NO_ORGANISATION for pk in ids.tolist()
            ]
        if ids.size < BULK_ROWS or len(self):
            self.store.upsert(ids, vectors, attrs)
            return
        # a first large load: building the HNSW graph once afterwards is several times faster
        # than growing it row by row
        self.store.drop_ann_index()
        self.store.upsert(ids, vectors, attrs)
        self.store.create_ann_index()

    def _remove(self, ids: np.ndarray) -> None:
        self.store.remove(ids)

    def upsert_rows(self, ids: np.ndarray, vectors: np.ndarray, attrs: list[RowAttributes]) -> None:
        """Insert or replace rows with the filter columns the hard filters read."""
        vecs = as_vectors(vectors, self.dimension)
        self.store.upsert(np.asarray(ids, dtype=np.int64), vecs, attrs)

    # reads -----------------------------------------------------------------------------------
    def search_filtered(
        self, query: np.ndarray, k: int, filters: Filters | None = None, admitted: int | None = None
    ) -> DenseHits:
        """Top-k among the rows passing `filters`; exact or HNSW as filtered_top_k decides from
        `admitted` (how many rows pass, when the caller knows) or a count in the database."""
        q = as_vectors(query, self.dimension)[0]
        return filtered_top_k(
            self.store, q, k, filters, exact_threshold=self.exact_threshold, admitted=admitted
        )

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.full((queries.shape[0], k), -1, dtype=np.int64)
        scores = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
        for i, q in enumerate(queries):
            # every stored row counts here, published or not: the plain VectorIndex contract
            hits = filtered_top_k(
                _AllRows(self.store), q, k, None, exact_threshold=self.exact_threshold
            )
            labels[i, : hits.ids.size] = hits.ids
            scores[i, : hits.ids.size] = hits.scores
        return labels, scores

    # persistence -----------------------------------------------------------------------------
    def _save_files(self, directory: Path) -> None:
        """Nothing but the manifest: the rows are in the database."""

    @classmethod
    def load(cls: type[T], directory: Path, *, expected_dimension: int | None = None) -> T:
        """Reconnect to the table a manifest names. Its row count is not checked against the
        manifest: the table is live and moves on with every write after the save."""
        directory = Path(directory)
        manifest = expect_manifest(directory, cls.kind, expected_dimension)
        index = cls._load_files(directory, manifest)
        if len(index) != manifest.count:
            logger.info(
                "pgvector table %s holds %d rows, %d when saved",
                index.store.table,
                len(index),
                manifest.count,
            )
        return index

    @classmethod
    def _load_files(cls: type[T], directory: Path, manifest: Manifest) -> T:
        params = manifest.params
        try:
            url, table = str(params["url"]), str(params["table"])
        except KeyError as exc:
            raise ArtifactMismatchError(f"{directory}: pgvector manifest lacks {exc}") from None
        return cls(
            manifest.dimension,
            url=with_password(url),
            table=table,
            exact_threshold=int(params.get("exact_threshold", 5_000)),
            hnsw_m=int(params.get("m", 16)),
            ef_construction=int(params.get("ef_construction", 64)),
            ef_search=int(params.get("ef_search", 100)),
            # manifests from before partitioning name plain tables
            partition_by_region=bool(params.get("partition_by_region", False)),
        )

    def close(self) -> None:
        self.store.close()


def with_password(url: str) -> str:
    """The manifest's URL (saved without its password) with the password of the configured URL
    ($MATCHER_PGVECTOR_URL, else $MATCHER_DATABASE_URL) when that names the same server,
    database and user; else as saved (libpq then reads PGPASSWORD or ~/.pgpass)."""
    saved = make_url(url)
    for name in URL_ENV:
        configured = os.environ.get(name)
        if not configured or not configured.startswith("postgres"):
            continue
        c = make_url(configured)
        same = (c.host, c.port, c.database, c.username) == (
            saved.host,
            saved.port,
            saved.database,
            saved.username,
        )
        if same and c.password:
            return saved.set(password=c.password).render_as_string(hide_password=False)
    return url


class _AllRows:
    """The store seen without the published/active defaults of the hard filters."""

    def __init__(self, store: PgVectorStore) -> None:
        self.store = store

    def count_upto(self, filters: Filters | None, limit: int | None = None) -> int:
        return self.store.count_upto(filters, limit, include_unpublished=True, include_all=True)

    def exact(
        self, query: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.store.exact(query, k, filters, include_unpublished=True, include_all=True)

    def approximate(
        self, query: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.store.approximate(query, k, filters, include_unpublished=True, include_all=True)
