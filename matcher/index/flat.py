"""Exact inner-product search: IndexIDMap2(IndexFlatIP)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matcher.atomic import atomic_write_faiss
from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import FaissIndexBase, read_faiss_checked
from matcher.index.manifest import Manifest

logger = logging.getLogger(__name__)


class FlatIndex(FaissIndexBase):
    """Brute force over every vector: exact, no training, about 8 ms per query at 100k."""

    kind = "flat"

    def __init__(self, dimension: int, *, threads: int | None = None) -> None:
        super().__init__(dimension, threads=threads)
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return np.sort(faiss.vector_to_array(self._index.id_map).astype(np.int64))

    def params(self) -> dict[str, Any]:
        return {"metric": "inner_product"}

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(self):
            self._remove(ids)
        self._index.add_with_ids(vectors, ids)

    def _remove(self, ids: np.ndarray) -> None:
        if len(self):
            self._index.remove_ids(faiss.IDSelectorBatch(ids))

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, labels = self._index.search(queries, k)
        return labels, scores

    def _save_files(self, directory: Path) -> None:
        atomic_write_faiss(directory / self.INDEX_FILE, self._index)

    @classmethod
    def _load_files(cls, directory: Path, manifest: Manifest) -> FlatIndex:
        raw = read_faiss_checked(directory / cls.INDEX_FILE, manifest)
        if not isinstance(raw, faiss.IndexIDMap2):
            raise ArtifactMismatchError(f"{directory}: expected IndexIDMap2, got {type(raw)}")
        index = cls(manifest.dimension)
        index._index = raw
        return index
