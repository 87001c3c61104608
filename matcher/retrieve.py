"""Hybrid candidate retrieval: dense plus lexical, fused, over an exactly filtered set.

Filters are applied exactly: the allowed rows come from the Catalog's columns. Small allowed sets
are scanned exactly; large ones go through the approximate index and are topped up with an exact
scan when the index returns too few allowed rows. No result can ever violate a filter because
every candidate is checked against the mask.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matcher.catalog import Catalog
from matcher.causes import agreement
from matcher.coarse_rows import top_indexes as _top
from matcher.domain import Filters
from matcher.index.base import VectorIndex
from matcher.index.filtered import DenseHits
from matcher.query_scores import QueryScores, sampled_spread
from matcher.row_dot import row_dot

logger = logging.getLogger(__name__)


@runtime_checkable
class FilteredIndex(Protocol):
    """A vector back end that applies the hard filters itself (matcher.index.pgvector)."""

    def search_filtered(
        self, query: np.ndarray, k: int, filters: Filters | None = None, admitted: int | None = None
    ) -> DenseHits: ...


class LexicalScorer(Protocol):
    """What retrieval needs of the lexical index (matcher.index.lexical.LexicalIndex)."""

    def scores(self, text: str, candidate_ids: Any = None) -> tuple[np.ndarray, np.ndarray]: ...

    def matches(self, text: str) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class Candidates:
    positions: np.ndarray  # rows of the catalog, best fused first
    dense: np.ndarray  # cosine similarity to the query
    lexical: np.ndarray  # lexical score, 0 when absent
    cause: np.ndarray  # agreement in cause space, 0 without a taxonomy
    fused: np.ndarray  # fused relevance: weighted sum of standardised dense and lexical scores
    allowed: int  # how many rows passed the hard filters
    # extra evidence signals (name -> raw score per candidate, NaN where the row has none)
    extra: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Signal:
    """An extra relevance signal over every catalog row (NaN where a row gives no evidence),
    standardised over the allowed rows and added to the fusion with `weight`."""

    name: str
    scores: np.ndarray
    weight: float
    # the raw score of rows without this evidence (None: such rows count as typical, z = 0)
    absent: float | None = None

    def raw(self, positions: np.ndarray) -> np.ndarray:
        values = self.scores[positions]
        return values if self.absent is None else np.nan_to_num(values, nan=self.absent)

    @cached_property
    def evidence_rows(self) -> np.ndarray:
        """The rows with this evidence, ascending: found once a request, not once a role (a
        pass over every row each time)."""
        return np.flatnonzero(~np.isnan(self.scores))


MIN_EVIDENCE_ROWS = 5  # fewer allowed rows with a signal: too few to standardise it, unused
MAX_SIGNAL_Z = 3.0  # one extreme value must not outweigh every other signal


def _signal_candidates(
    signal: Signal, mask: np.ndarray, k: int
) -> tuple[np.ndarray, _Stats | None]:
    """The top-k allowed rows that have the evidence, and its distribution over them (None
    when too few allowed rows have it to standardise)."""
    rows = signal.evidence_rows
    found = rows[mask[rows]]
    if found.size < MIN_EVIDENCE_ROWS:
        return np.zeros(0, np.int64), None
    values = signal.scores[found]
    stats = _Stats(float(values.mean()), float(values.std()))
    return found[_top(values, k)], stats


@dataclass
class _Stats:
    mean: float = 0.0
    std: float = 1.0

    def z(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / max(self.std, 1e-9)


def _exact(
    catalog: Catalog,
    query: np.ndarray,
    allowed: np.ndarray,
    mask: np.ndarray,
    k: int,
    shared: QueryScores | None = None,
) -> tuple[np.ndarray, np.ndarray, _Stats]:
    """Exact top-k over the allowed rows; one matrix-vector product over all rows when most
    rows are allowed (cheaper than gathering them). With the request's `shared` scores, the
    rows it reads (all, or the ones a coarse copy of a large catalog ranks highest)."""
    if shared is not None:
        order, top, (mean, std) = shared.best_of(allowed, k)
        return allowed[order], top, _Stats(mean, std)
    if allowed.size * 3 >= mask.size:
        scores = row_dot(catalog.vectors, query)[allowed]
    else:
        scores = row_dot(catalog.vectors, query, allowed)
    order = _top(scores, k)
    stats = _Stats(float(scores.mean()), float(scores.std()))
    return allowed[order], scores[order], stats


def dense_candidates(
    catalog: Catalog,
    query: np.ndarray,
    mask: np.ndarray,
    k: int,
    *,
    index: VectorIndex | None,
    exact_threshold: int,
    filters: Filters | None = None,
    shared: QueryScores | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, _Stats]:
    """Top-k allowed positions by cosine, their scores, and the score distribution over the
    allowed rows (exact, or from an evenly spaced sample when the ANN index is used). With
    `filters` (the ones `mask` was made from) and an index that searches under filters itself
    (FilteredIndex: the pgvector back end), the search is the index's. `allowed`: the mask's
    rows, when the caller has them."""
    allowed = np.flatnonzero(mask) if allowed is None else allowed
    if allowed.size == 0:
        return allowed, np.zeros(0, np.float32), _Stats()
    if filters is not None and isinstance(index, FilteredIndex):
        # the back end applies the filters itself (pgvector: in SQL, exact or HNSW as
        # matcher.index.filtered decides); the mask still has the last word on every row
        hits = index.search_filtered(query, k, filters, admitted=int(allowed.size))
        pos = catalog.positions_of_pks(hits.ids)
        ok = pos >= 0
        ok[ok] = mask[pos[ok]]
        if int(ok.sum()) >= min(k, allowed.size):
            stats = _spread(catalog, query, allowed, shared)
            return pos[ok][:k], hits.scores[ok][:k].astype(np.float32), stats
        logger.warning("filtered back end returned too few allowed rows: exact scan instead")
        return _exact(catalog, query, allowed, mask, k, shared)
    if index is None or scans_exactly(index, int(allowed.size), exact_threshold):
        return _exact(catalog, query, allowed, mask, k, shared)
    want = min(len(index), max(4 * k, int(k * mask.size / max(allowed.size, 1)) + k))
    ids, sc = (
        shared.search(index, want) if shared is not None else index.search(query[None, :], want)
    )
    pos = catalog.positions_of_pks(ids[0])
    ok = pos >= 0
    ok[ok] = mask[pos[ok]]
    positions, scores = pos[ok][:k], sc[0][ok][:k].astype(np.float32)
    if positions.size < min(k, allowed.size):
        return _exact(catalog, query, allowed, mask, k, shared)
    return positions, scores, _spread(catalog, query, allowed, shared)


def scans_exactly(index: VectorIndex | None, allowed: int, exact_threshold: int) -> bool:
    """Whether dense retrieval reads every one of `allowed` rows (else the index answers and a
    sample of the rows gives the statistics). A back end that filters itself (FilteredIndex)
    is asked first when given the filters: see `dense_candidates`."""
    return index is None or allowed <= exact_threshold or len(index) == 0


def _spread(
    catalog: Catalog, query: np.ndarray, allowed: np.ndarray, shared: QueryScores | None
) -> _Stats:
    """The cosine's mean and spread over the allowed rows, from an evenly spaced sample of
    them (for the fusion statistics; with the request's `shared` scores, as they measure it)."""
    if shared is not None:
        return _Stats(*shared.spread(allowed))
    return _Stats(*sampled_spread(lambda rows: row_dot(catalog.vectors, query, rows), allowed))


def lexical_candidates(
    catalog: Catalog,
    lexical: LexicalScorer | None,
    text: str,
    mask: np.ndarray,
    k: int,
    shared: QueryScores | None = None,
    allowed_n: int | None = None,
) -> tuple[np.ndarray, np.ndarray, _Stats]:
    if lexical is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), _Stats()
    if allowed_n is None:
        allowed_n = int(np.count_nonzero(mask))
    if shared is not None:
        pos, scores = shared.lexical_matches(lexical.matches)
    else:
        ids, scores = lexical.matches(text)  # every matching row, unsorted; filtered below
        pos = catalog.positions_of_pks(ids)
        keep = pos >= 0
        pos, scores = pos[keep], scores[keep]
    if pos.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), _Stats()
    keep = mask[pos]
    pos, scores = pos[keep], scores[keep].astype(np.float64)
    n = max(allowed_n, 1)  # rows without a shared term score 0
    mean = float(scores.sum()) / n
    var = max(float((scores**2).sum()) / n - mean**2, 0.0)
    order = _top(scores, k)
    return pos[order], scores[order].astype(np.float32), _Stats(mean, var**0.5)


def cause_candidates(
    catalog: Catalog,
    query_dist: np.ndarray | None,
    mask: np.ndarray,
    k: int,
    exact_threshold: int,
    shared: QueryScores | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, _Stats]:
    """Top-k allowed rows by cause-space agreement and its distribution over the allowed rows;
    above `exact_threshold` allowed rows only the distribution (from a sample) is returned and
    the other signals supply the candidates. `allowed`: the mask's rows, when known."""
    empty = np.zeros(0, np.int64), np.zeros(0, np.float32), _Stats()
    if query_dist is None or catalog.cause_idx_.shape[1] == 0:
        return empty
    allowed = np.flatnonzero(mask) if allowed is None else allowed
    if allowed.size == 0:
        return empty

    def agree(rows: np.ndarray) -> np.ndarray:
        if shared is not None and shared.cause_dist is query_dist:
            return shared.cause.at(rows)
        return agreement(query_dist, catalog.cause_idx_[rows], catalog.cause_p_[rows])

    if allowed.size > exact_threshold:
        stats = _Stats(*sampled_spread(agree, allowed))
        return np.zeros(0, np.int64), np.zeros(0, np.float32), stats
    sc = agree(allowed)
    order = _top(sc, k)
    return allowed[order], sc[order], _Stats(float(sc.mean()), float(sc.std()))


def _union(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The positions of `parts`, each once, in the order they first occur."""
    joined = np.concatenate([np.asarray(p, dtype=np.int64) for p in parts])
    _, first = np.unique(joined, return_index=True)
    return joined[np.sort(first)]


def _lookup(
    keys: np.ndarray, values: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each of `positions`: the value of the key equal to it (float32; 0 where none),
    and whether there is one. Keys are unique."""
    out = np.zeros(positions.size, dtype=np.float32)
    if keys.size == 0:
        return out, np.zeros(positions.size, dtype=bool)
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    at = np.minimum(np.searchsorted(ranked, positions), ranked.size - 1)
    found = ranked[at] == positions
    out[found] = np.asarray(values)[order][at[found]]
    return out, found


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
    lexical_weight: float = 0.1,
    cause_dist: np.ndarray | None = None,
    cause_weight: float = 0.0,
    signals: Sequence[Signal] = (),
    filters: Filters | None = None,
    shared: QueryScores | None = None,
) -> Candidates:
    """Union of the dense, lexical and cause-space top-k, ranked by
    (1 - w_l - w_c) * z(dense) + w_l * z(lexical) + w_c * z(cause), each standardised over the
    rows that pass the filters (the cause term only when `cause_dist` is given). `shared`: the
    request's scores, computed once for all its retrievals (ignored when of another query)."""
    if shared is not None and not shared.serves(catalog, query, text):
        shared = None
    allowed = np.flatnonzero(mask)  # once for every signal's candidates
    d_pos, d_sc, d_stats = dense_candidates(
        catalog,
        query,
        mask,
        k,
        index=index,
        exact_threshold=exact_threshold,
        filters=filters,
        shared=shared,
        allowed=allowed,
    )
    l_pos, l_sc, l_stats = lexical_candidates(
        catalog, lexical, text, mask, k, shared, allowed_n=int(allowed.size)
    )
    c_pos, _, c_stats = cause_candidates(
        catalog, cause_dist, mask, k, exact_threshold, shared, allowed=allowed
    )
    s_found = [_signal_candidates(sig, mask, k) for sig in signals]
    positions = _union([d_pos, l_pos, c_pos, *(pos for pos, _ in s_found)])
    if positions.size == 0:
        empty = np.zeros(0, np.float32)
        return Candidates(np.zeros(0, np.int64), empty, empty, empty, empty, int(allowed.size))
    dense, known = _lookup(d_pos, d_sc, positions)
    if not known.all():
        rows = positions[~known]
        dense[~known] = (
            shared.dense.at(rows) if shared is not None else row_dot(catalog.vectors, query, rows)
        )
    lex, matched = _lookup(l_pos, l_sc, positions)
    if lexical is not None and not matched.all():
        rest = positions[~matched]
        if shared is not None:
            found = shared.lexical_at(lexical.matches, rest)
            lex[~matched] = np.where(found > 0, found, 0.0)
        else:
            # candidates found only densely may still share terms below the lexical top-k
            ids, sc = lexical.scores(text, catalog.pk_array()[rest])
            got, hit = _lookup(catalog.positions_of_pks(ids), np.asarray(sc), rest)
            lex[~matched] = np.where(hit, got, 0.0)
    w_cause = 0.0
    cause = np.zeros(positions.size, np.float32)
    if cause_dist is not None and catalog.cause_idx_.shape[1] > 0:
        if shared is not None and shared.cause_dist is cause_dist:
            cause = shared.cause.at(positions)
        else:
            cause = agreement(
                cause_dist, catalog.cause_idx_[positions], catalog.cause_p_[positions]
            )
        w_cause = cause_weight
    fused = (1.0 - lexical_weight - w_cause) * d_stats.z(dense)
    if lexical is not None:
        fused = fused + lexical_weight * l_stats.z(lex)
    if w_cause:
        fused = fused + w_cause * c_stats.z(cause)
    extra: dict[str, np.ndarray] = {}
    for sig, (_, stats) in zip(signals, s_found, strict=True):
        extra[sig.name] = sig.scores[positions]
        if stats is None:
            continue
        # rows without this evidence: `absent`, or typical (z = 0)
        z = np.clip(stats.z(sig.raw(positions)), -MAX_SIGNAL_Z, MAX_SIGNAL_Z)
        fused = fused + sig.weight * np.nan_to_num(z, nan=0.0)
    order = np.argsort(-fused, kind="stable")
    return Candidates(
        positions=positions[order],
        dense=dense[order],
        lexical=lex[order],
        cause=cause[order],
        fused=fused[order].astype(np.float32),
        allowed=int(allowed.size),
        extra={name: v[order] for name, v in extra.items()},
    )
