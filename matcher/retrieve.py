"""Hybrid candidate retrieval: dense plus lexical, fused, over an exactly filtered set.

Filters are applied exactly: the allowed rows come from the Catalog's columns. Small allowed sets
are scanned exactly; large ones go through the approximate index and are topped up with an exact
scan when the index returns too few allowed rows. No result can ever violate a filter because
every candidate is checked against the mask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from matcher.catalog import Catalog
from matcher.index.base import VectorIndex

logger = logging.getLogger(__name__)


class LexicalScorer(Protocol):
    """What retrieval needs of the lexical index (matcher.index.lexical.LexicalIndex)."""

    def scores(self, text: str, candidate_ids: Any = None) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class Candidates:
    positions: np.ndarray  # rows of the catalog, best fused first
    dense: np.ndarray  # cosine similarity to the query
    lexical: np.ndarray  # lexical score, 0 when absent
    fused: np.ndarray  # reciprocal-rank-fusion score
    allowed: int  # how many rows passed the hard filters


def _top(values: np.ndarray, k: int) -> np.ndarray:
    if values.size <= k:
        return np.argsort(-values, kind="stable")
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


def _exact(
    catalog: Catalog, query: np.ndarray, allowed: np.ndarray, mask: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k over the allowed rows; one matrix-vector product over all rows when most
    rows are allowed (cheaper than gathering them)."""
    if allowed.size * 3 >= mask.size:
        scores = catalog.vectors @ query
        scores = scores[allowed]
    else:
        scores = catalog.vectors[allowed] @ query
    order = _top(scores, k)
    return allowed[order], scores[order]


def dense_candidates(
    catalog: Catalog,
    query: np.ndarray,
    mask: np.ndarray,
    k: int,
    *,
    index: VectorIndex | None,
    exact_threshold: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k allowed positions by cosine, with their scores."""
    allowed = np.flatnonzero(mask)
    if allowed.size == 0:
        return allowed, np.zeros(0, np.float32)
    if index is None or allowed.size <= exact_threshold or len(index) == 0:
        return _exact(catalog, query, allowed, mask, k)
    want = min(len(index), max(4 * k, int(k * mask.size / max(allowed.size, 1)) + k))
    ids, sc = index.search(query[None, :], want)
    positions: list[int] = []
    scores_l: list[float] = []
    for pk, s in zip(ids[0], sc[0], strict=True):
        if pk < 0:
            continue
        pos = catalog.position_of_pk(int(pk))
        if pos is not None and mask[pos]:
            positions.append(pos)
            scores_l.append(float(s))
            if len(positions) >= k:
                break
    if len(positions) < min(k, allowed.size):
        return _exact(catalog, query, allowed, mask, k)
    return np.asarray(positions, dtype=np.int64), np.asarray(scores_l, dtype=np.float32)


def lexical_candidates(
    catalog: Catalog, lexical: LexicalScorer | None, text: str, mask: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    if lexical is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    allowed = np.flatnonzero(mask)
    restrict = catalog.pk_array()[allowed] if allowed.size < mask.size else None
    ids, scores = lexical.scores(text, restrict)
    if ids.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    pos = catalog.positions_of_pks(ids)
    keep = pos >= 0
    pos, scores = pos[keep], scores[keep]
    keep = mask[pos]
    pos, scores = pos[keep], scores[keep]
    order = _top(scores, k)
    return pos[order], scores[order].astype(np.float32)


def hybrid(
    catalog: Catalog,
    query: np.ndarray,
    text: str,
    mask: np.ndarray,
    *,
    k: int,
    index: VectorIndex | None,
    lexical: LexicalScorer | None,
    exact_threshold: int,
    rrf_k: int = 60,
    lexical_weight: float = 0.5,
) -> Candidates:
    """Fuse the dense and lexical top-k lists by weighted reciprocal rank fusion."""
    d_pos, d_sc = dense_candidates(
        catalog, query, mask, k, index=index, exact_threshold=exact_threshold
    )
    l_pos, l_sc = lexical_candidates(catalog, lexical, text, mask, k)
    fused: dict[int, float] = {}
    dense_of: dict[int, float] = {}
    lex_of: dict[int, float] = {}
    for rank, (p, s) in enumerate(zip(d_pos.tolist(), d_sc.tolist(), strict=True)):
        fused[p] = fused.get(p, 0.0) + (1.0 - lexical_weight) / (rrf_k + rank + 1)
        dense_of[p] = s
    for rank, (p, s) in enumerate(zip(l_pos.tolist(), l_sc.tolist(), strict=True)):
        fused[p] = fused.get(p, 0.0) + lexical_weight / (rrf_k + rank + 1)
        lex_of[p] = s
    if not fused:
        empty = np.zeros(0, np.float32)
        return Candidates(np.zeros(0, np.int64), empty, empty, empty, int(mask.sum()))
    positions = np.fromiter(fused.keys(), dtype=np.int64)
    missing = [p for p in positions.tolist() if p not in dense_of]
    if missing:
        sims = catalog.vectors[missing] @ query
        dense_of.update(zip(missing, sims.tolist(), strict=True))
    f = np.fromiter(fused.values(), dtype=np.float32)
    order = np.argsort(-f, kind="stable")
    positions = positions[order]
    return Candidates(
        positions=positions,
        dense=np.asarray([dense_of[p] for p in positions.tolist()], dtype=np.float32),
        lexical=np.asarray([lex_of.get(p, 0.0) for p in positions.tolist()], dtype=np.float32),
        fused=f[order],
        allowed=int(mask.sum()),
    )
