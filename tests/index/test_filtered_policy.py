"""filtered_top_k: the engine's choice between exact and approximate search, on a fake back end
(no database needed): exact up to the threshold, HNSW above it, an exact fallback when HNSW
returns fewer rows than were owed."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.domain import Filters
from matcher.index.filtered import APPROXIMATE, EXACT, FALLBACK, filtered_top_k


class FakeBackend:
    def __init__(self, admitted: int, approximate_returns: int) -> None:
        self.admitted, self.approximate_returns = admitted, approximate_returns
        self.calls: list[tuple[str, int | None]] = []

    def count_upto(self, filters: Filters | None, limit: int | None = None) -> int:
        self.calls.append(("count", limit))
        return self.admitted if limit is None else min(self.admitted, limit)

    def _rows(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(n, dtype=np.int64), np.linspace(1, 0, n).astype(np.float32)

    def exact(self, query: np.ndarray, k: int, filters: Filters | None = None) -> tuple:
        self.calls.append(("exact", k))
        return self._rows(min(k, self.admitted))

    def approximate(self, query: np.ndarray, k: int, filters: Filters | None = None) -> tuple:
        self.calls.append(("approximate", k))
        return self._rows(min(k, self.approximate_returns))


Q = np.zeros(4, np.float32)


def test_small_sets_are_scanned_exactly_and_counted_no_further_than_needed() -> None:
    b = FakeBackend(admitted=40, approximate_returns=10)
    hits = filtered_top_k(b, Q, 10, None, exact_threshold=50)
    assert hits.method == EXACT and hits.ids.size == 10 and hits.admitted == 40
    assert b.calls == [("count", 51), ("exact", 10)]


def test_large_sets_go_through_hnsw() -> None:
    b = FakeBackend(admitted=10_000, approximate_returns=10)
    hits = filtered_top_k(b, Q, 10, None, exact_threshold=50)
    assert hits.method == APPROXIMATE and hits.admitted == 51  # counted to threshold + 1 only
    assert b.calls == [("count", 51), ("approximate", 10)]


def test_too_few_from_hnsw_falls_back_to_exact() -> None:
    b = FakeBackend(admitted=10_000, approximate_returns=3)
    hits = filtered_top_k(b, Q, 10, None, exact_threshold=50)
    assert hits.method == FALLBACK and hits.ids.size == 10
    assert b.calls[-1] == ("exact", 10)


def test_a_known_count_is_not_recounted_and_bounds_what_is_owed() -> None:
    # 60 rows admitted, k = 100: HNSW returning all 60 owes nothing more
    b = FakeBackend(admitted=60, approximate_returns=60)
    hits = filtered_top_k(b, Q, 100, None, exact_threshold=50, admitted=60)
    assert hits.method == APPROXIMATE and hits.ids.size == 60
    assert b.calls == [("approximate", 100)]
    # counted by the back end (a lower bound), the same answer is topped up exactly
    b = FakeBackend(admitted=60, approximate_returns=60)
    assert filtered_top_k(b, Q, 100, None, exact_threshold=50).method == FALLBACK


def test_nothing_admitted_or_nothing_asked() -> None:
    b = FakeBackend(admitted=0, approximate_returns=0)
    assert filtered_top_k(b, Q, 10, None).ids.size == 0
    assert b.calls == [("count", 5_001)]
    b = FakeBackend(admitted=100, approximate_returns=100)
    assert filtered_top_k(b, Q, 0, None, admitted=100).ids.size == 0 and b.calls == []
    with pytest.raises(ValueError):
        filtered_top_k(b, Q, -1, None)
    with pytest.raises(ValueError):
        filtered_top_k(b, Q, 1, None, exact_threshold=-1)
