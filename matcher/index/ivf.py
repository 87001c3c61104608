"""Approximate search with an inverted file: IndexIVFFlat, inner product, ids stored in the lists.

nlist (about 4·sqrt(n), at least 39 training points per list) is chosen when it trains, on the
first batch added or an explicit `train(vectors)`. nprobe is then calibrated on the training
vectors: the smallest nprobe whose simulated recall@10 (a true neighbour is found exactly when
its list is probed) reaches `target_recall`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matcher.atomic import atomic_write_faiss
from matcher.errors import ArtifactMismatchError
from matcher.index.faiss_common import (
    FaissIndexBase,
    as_vectors,
    read_faiss_checked,
    set_faiss_threads,
)
from matcher.index.manifest import Manifest

logger = logging.getLogger(__name__)

MIN_POINTS_PER_LIST = 39
MAX_TRAINING_POINTS_PER_LIST = 256


def choose_nlist(n: int) -> int:
    """About 4·sqrt(n) lists, but never fewer than 39 training points per list."""
    if n < 1:
        raise ValueError("cannot train on zero vectors")
    return max(1, min(round(4 * math.sqrt(n)), n // MIN_POINTS_PER_LIST))


def calibrate_nprobe(
    quantizer: Any,
    vectors: np.ndarray,
    nlist: int,
    target: float,
    k: int = 10,
    n_queries: int = 300,
) -> tuple[int, float]:
    """Smallest nprobe reaching `target` recall@k on held-out training points (self excluded)."""
    n = vectors.shape[0]
    if nlist == 1 or n <= k + 1:
        return 1, 1.0
    rng = np.random.default_rng(0)
    qidx = rng.choice(n, size=min(n_queries, n), replace=False)
    queries = vectors[qidx]
    _, assign = quantizer.search(vectors, 1)
    assign = assign.ravel()
    _, probe_order = quantizer.search(queries, nlist)  # lists by closeness, per query
    rank_of_list = np.empty_like(probe_order)
    rows = np.arange(len(qidx))[:, None]
    rank_of_list[rows, probe_order] = np.arange(nlist)[None, :]
    needed: list[np.ndarray] = []
    for start in range(0, len(qidx), 100):
        sims = queries[start : start + 100] @ vectors.T
        sims[np.arange(sims.shape[0]), qidx[start : start + 100]] = -np.inf  # not itself
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        # the probe rank each true neighbour's list has for this query
        needed.append(rank_of_list[rows[start : start + 100], assign[top]])
    ranks = np.concatenate(needed).ravel()
    counts = np.bincount(ranks, minlength=nlist)
    recall_at = np.cumsum(counts) / ranks.size  # recall_at[p-1] = recall with nprobe p
    nprobe = int(np.searchsorted(recall_at, target) + 1)
    nprobe = min(max(nprobe, 1), nlist)
    return nprobe, float(recall_at[nprobe - 1])


class IVFIndex(FaissIndexBase):
    """IVF-Flat over inner product; supports removal; trains itself on the first batch."""

    kind = "ivf"

    def __init__(
        self,
        dimension: int,
        *,
        nlist: int | None = None,
        nprobe: int | None = None,
        target_recall: float = 0.97,
        threads: int | None = None,
    ) -> None:
        super().__init__(dimension, threads=threads)
        if not 0 < target_recall <= 1:
            raise ValueError("target_recall must be in (0, 1]")
        self.requested_nlist = nlist
        self.target_recall = target_recall
        self._fixed_nprobe = nprobe
        self.calibrated_recall: float | None = None
        self._index: Any = None

    @property
    def is_trained(self) -> bool:
        return self._index is not None

    @property
    def nlist(self) -> int | None:
        return int(self._index.nlist) if self._index is not None else None

    @property
    def nprobe(self) -> int | None:
        return int(self._index.nprobe) if self._index is not None else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self._index is None:
            raise ValueError("train the index before setting nprobe")
        self._index.nprobe = max(1, min(int(value), int(self._index.nlist)))

    def train(self, vectors: np.ndarray) -> None:
        """Choose nlist, run k-means on (a sample of) `vectors`, calibrate nprobe. Adds nothing."""
        if self._index is not None:
            raise ValueError("IVF index is already trained")
        vecs = as_vectors(vectors, self.dimension)
        n = vecs.shape[0]
        nlist = self.requested_nlist or choose_nlist(n)
        if n < 1000:
            logger.warning("IVF index trained on only %d vectors (nlist=%d)", n, nlist)
        if n > nlist * MAX_TRAINING_POINTS_PER_LIST:
            pick = np.random.default_rng(0).choice(n, nlist * MAX_TRAINING_POINTS_PER_LIST, False)
            vecs = vecs[np.sort(pick)]
        set_faiss_threads(self.threads)
        quantizer = faiss.IndexFlatIP(self.dimension)
        index = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = 1234
        index.cp.min_points_per_centroid = 1  # choose_nlist already keeps >= 39 per list
        index.train(vecs)
        if self._fixed_nprobe is not None:
            index.nprobe = max(1, min(self._fixed_nprobe, nlist))
        else:
            index.nprobe, self.calibrated_recall = calibrate_nprobe(
                index.quantizer, vecs, nlist, self.target_recall
            )
        self._index = index
        logger.info(
            "trained IVF on %d vectors: nlist=%d nprobe=%d (calibrated recall@10 %s)",
            n,
            nlist,
            index.nprobe,
            self.calibrated_recall,
        )

    def __len__(self) -> int:
        return int(self._index.ntotal) if self._index is not None else 0

    def ids(self) -> np.ndarray:
        if self._index is None or self._index.ntotal == 0:
            return np.zeros(0, dtype=np.int64)
        invlists = self._index.invlists
        parts = []
        for lst in range(self._index.nlist):
            size = invlists.list_size(lst)
            if size:
                parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy())
        return np.sort(np.concatenate(parts).astype(np.int64))

    def params(self) -> dict[str, Any]:
        return {
            "metric": "inner_product",
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "target_recall": self.target_recall,
            "calibrated_recall": self.calibrated_recall,
        }

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            self.train(vectors)
        elif len(self):
            self._remove(ids)
        self._index.add_with_ids(vectors, ids)

    def _remove(self, ids: np.ndarray) -> None:
        if self._index is not None and len(self):
            self._index.remove_ids(faiss.IDSelectorBatch(ids))

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, labels = self._index.search(queries, k)
        return labels, scores

    def _save_files(self, directory: Path) -> None:
        if self._index is not None:
            atomic_write_faiss(directory / self.INDEX_FILE, self._index)

    @classmethod
    def _load_files(cls, directory: Path, manifest: Manifest) -> IVFIndex:
        p = manifest.params
        index = cls(manifest.dimension, target_recall=float(p.get("target_recall", 0.97)))
        index.requested_nlist = p.get("nlist")
        index.calibrated_recall = p.get("calibrated_recall")
        path = directory / cls.INDEX_FILE
        if p.get("nlist") is None and not path.exists():
            return index  # saved before training: empty
        raw = read_faiss_checked(path, manifest)
        if not isinstance(raw, faiss.IndexIVFFlat) or raw.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ArtifactMismatchError(f"{directory}: expected an inner-product IndexIVFFlat")
        raw.nprobe = int(p.get("nprobe") or raw.nprobe)
        index._index = raw
        return index
