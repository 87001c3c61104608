"""The pgvector back end as a VectorIndex (the same contract as flat, ivf and hnsw).

Vectors live in a PostgreSQL table (matcher.index.pg_store), not in the process: `save` writes
only a manifest naming the table and the server (without its password: libpq takes it from
PGPASSWORD or ~/.pgpass), and `load` reconnects to it. Search goes through
matcher.index.filtered.filtered_top_k, so an unfiltered search of a small table is exact and a
large one uses HNSW. Scores are inner products of half-precision vectors: within about 1e-3 of
float32 ones (the contract tests allow 2e-3 for this kind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from matcher.domain import Filters
from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import FaissIndexBase, as_vectors
from matcher.index.filtered import DenseHits, filtered_top_k
from matcher.index.manifest import Manifest
from matcher.index.pg_filters import RowAttributes
from matcher.index.pg_store import PgVectorStore

SCORE_TOLERANCE = 2e-3  # half precision: |score - float32 inner product| stays below this


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
        }

    def manifest(self) -> Manifest:
        return Manifest.new(self.kind, self.dimension, len(self), self.params(), uses_faiss=False)

    # writes ----------------------------------------------------------------------------------
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.store.upsert(ids, vectors)

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
    def _load_files(cls, directory: Path, manifest: Manifest) -> PgVectorIndex:
        params = manifest.params
        try:
            url, table = str(params["url"]), str(params["table"])
        except KeyError as exc:
            raise ArtifactMismatchError(f"{directory}: pgvector manifest lacks {exc}") from None
        return cls(
            manifest.dimension,
            url=url,
            table=table,
            exact_threshold=int(params.get("exact_threshold", 5_000)),
            hnsw_m=int(params.get("m", 16)),
            ef_construction=int(params.get("ef_construction", 64)),
            ef_search=int(params.get("ef_search", 100)),
        )

    def close(self) -> None:
        self.store.close()


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
