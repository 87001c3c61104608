"""Vector helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.vectors import inner_products_at


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 50), st.integers(1, 16), st.data())
def test_inner_products_at_equals_gather_then_product(n: int, d: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(n * 31 + d)
    vectors = rng.normal(size=(n, d)).astype(np.float32)
    query = rng.normal(size=d).astype(np.float32)
    rows = np.asarray(data.draw(st.lists(st.integers(0, n - 1), max_size=60)), dtype=np.int64)
    got = inner_products_at(vectors, query, rows)
    assert got.shape == rows.shape
    assert np.allclose(got, vectors[rows] @ query, atol=1e-4)


def test_inner_products_at_refuses_bad_input() -> None:
    v = np.zeros((3, 4), np.float32)
    with pytest.raises(IndexError):
        inner_products_at(v, np.zeros(4, np.float32), np.asarray([3]))
    with pytest.raises(ValueError):
        inner_products_at(v, np.zeros(5, np.float32), np.asarray([0]))
