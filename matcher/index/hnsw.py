"""Graph search: IndexHNSWFlat (M=32), inner product, with tombstones for removal.

faiss's HNSW cannot delete, so every vector lives in an internal slot; `_slot_ids[slot]` is its
external id, or -1 once removed or replaced (a tombstone). Searches skip tombstones inside faiss
(an IDSelectorBitmap of live slots), so k live results come back while enough live vectors exist.
Tombstones still cost memory and traversal: rebuild from the source vectors when
`tombstone_ratio` grows large (we keep vectors elsewhere, never reconstruct them from here).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matcher.atomic import atomic_save_npy, atomic_write_faiss
from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import FaissIndexBase, load_npy, read_faiss_checked
from matcher.index.manifest import Manifest

logger = logging.getLogger(__name__)

SLOTS_FILE = "slot_ids.npy"


class HNSWIndex(FaissIndexBase):
    """HNSW over inner product; `add` of a present id tombstones its old slot."""

    kind = "hnsw"

    def __init__(
        self,
        dimension: int,
        *,
        m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 96,
        threads: int | None = None,
    ) -> None:
        super().__init__(dimension, threads=threads)
        if ef_search < 1 or ef_construction < 1 or m < 2:
            raise ValueError("m >= 2, ef_construction >= 1 and ef_search >= 1 are required")
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        index = faiss.IndexHNSWFlat(self.dimension, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        self._index: Any = index
        self._slot_ids = np.zeros(0, dtype=np.int64)
        self._slot_of: dict[int, int] = {}
        self._live_bitmap: np.ndarray | None = None  # cached packed bits of live slots

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def tombstone_count(self) -> int:
        return int(self._slot_ids.size - len(self._slot_of))

    @property
    def tombstone_ratio(self) -> float:
        return self.tombstone_count / self._slot_ids.size if self._slot_ids.size else 0.0

    def ids(self) -> np.ndarray:
        return np.sort(self._slot_ids[self._slot_ids >= 0])

    def params(self) -> dict[str, Any]:
        return {
            "metric": "inner_product",
            "M": self.m,
            "efConstruction": self.ef_construction,
            "efSearch": self.ef_search,
            "slots": int(self._slot_ids.size),
            "tombstones": self.tombstone_count,
        }

    def _tombstone(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            slot = self._slot_of.pop(i, None)
            if slot is not None:
                self._slot_ids[slot] = -1
                self._live_bitmap = None

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._tombstone(ids)
        first = int(self._index.ntotal)
        self._index.add(vectors)
        self._slot_ids = np.concatenate([self._slot_ids, ids])
        self._slot_of.update(zip(ids.tolist(), range(first, first + ids.size), strict=True))
        self._live_bitmap = None

    def _remove(self, ids: np.ndarray) -> None:
        self._tombstone(ids)

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = max(self.ef_search, k)
        selector = None
        if self.tombstone_count:
            if self._live_bitmap is None:
                self._live_bitmap = np.packbits(self._slot_ids >= 0, bitorder="little")
            bitmap = self._live_bitmap
            selector = faiss.IDSelectorBitmap(self._slot_ids.size, faiss.swig_ptr(bitmap))
            params.sel = selector
        scores, slots = self._index.search(queries, k, params=params)
        labels = np.where(slots >= 0, self._slot_ids[np.maximum(slots, 0)], -1)
        # belt and braces: a tombstoned slot must never surface
        scores = np.where(labels >= 0, scores, -np.inf).astype(np.float32)
        del selector
        return labels, scores

    def _save_files(self, directory: Path) -> None:
        atomic_write_faiss(directory / self.INDEX_FILE, self._index)
        atomic_save_npy(directory / SLOTS_FILE, self._slot_ids)

    @classmethod
    def _load_files(cls, directory: Path, manifest: Manifest) -> HNSWIndex:
        p = manifest.params
        index = cls(
            manifest.dimension,
            m=int(p.get("M", 32)),
            ef_construction=int(p.get("efConstruction", 80)),
            ef_search=int(p.get("efSearch", 96)),
        )
        raw = read_faiss_checked(directory / cls.INDEX_FILE, manifest)
        if (
            not isinstance(raw, faiss.IndexHNSWFlat)
            or raw.metric_type != faiss.METRIC_INNER_PRODUCT
        ):
            raise ArtifactMismatchError(f"{directory}: expected an inner-product IndexHNSWFlat")
        slots = load_npy(directory / SLOTS_FILE)
        if slots.dtype != np.int64 or slots.ndim != 1 or slots.size != raw.ntotal:
            raise ArtifactMismatchError(
                f"{directory}: {SLOTS_FILE} does not match the graph ({raw.ntotal} slots)"
            )
        live = np.flatnonzero(slots >= 0)
        if np.unique(slots[live]).size != live.size:
            raise ArtifactMismatchError(f"{directory}: {SLOTS_FILE} repeats a live id")
        raw.hnsw.efSearch = index.ef_search
        index._index = raw
        index._slot_ids = slots
        index._slot_of = dict(zip(slots[live].tolist(), live.tolist(), strict=True))
        return index
