"""matcher.row_dot: faiss's kernels give numpy's inner products, for every kind of input."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.row_dot import row_dot


@pytest.fixture()
def rows_and_query() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((1000, 48)).astype(np.float32)
    query = rng.standard_normal(48).astype(np.float32)
    return matrix, query


def test_every_row(rows_and_query: tuple[np.ndarray, np.ndarray]) -> None:
    matrix, query = rows_and_query
    got = row_dot(matrix, query)
    assert got.dtype == np.float32 and got.shape == (1000,)
    np.testing.assert_allclose(got, matrix @ query, rtol=1e-5, atol=1e-5)


def test_chosen_rows_in_any_order_with_repeats(
    rows_and_query: tuple[np.ndarray, np.ndarray],
) -> None:
    matrix, query = rows_and_query
    rows = np.array([999, 0, 17, 17, 500, 3], dtype=np.int32)
    np.testing.assert_allclose(row_dot(matrix, query, rows), matrix[rows] @ query, atol=1e-5)


def test_negative_rows_count_from_the_end(rows_and_query: tuple[np.ndarray, np.ndarray]) -> None:
    matrix, query = rows_and_query
    rows = np.array([-1, -1000, 5])
    np.testing.assert_allclose(row_dot(matrix, query, rows), matrix[rows] @ query, atol=1e-5)


def test_a_row_out_of_range_is_an_index_error(
    rows_and_query: tuple[np.ndarray, np.ndarray],
) -> None:
    matrix, query = rows_and_query
    with pytest.raises(IndexError, match="row 1000 is out of range for 1000 rows"):
        row_dot(matrix, query, np.array([3, 1000]))
    with pytest.raises(IndexError, match="row -1001"):
        row_dot(matrix, query, np.array([-1001]))


def test_no_rows_and_an_empty_matrix(rows_and_query: tuple[np.ndarray, np.ndarray]) -> None:
    matrix, query = rows_and_query
    assert row_dot(matrix, query, np.zeros(0, np.int64)).shape == (0,)
    assert row_dot(np.zeros((0, 48), np.float32), query).shape == (0,)


def test_inputs_the_kernels_cannot_take_as_they_are(
    rows_and_query: tuple[np.ndarray, np.ndarray],
) -> None:
    matrix, query = rows_and_query
    strided = matrix[::2]  # not C-contiguous
    np.testing.assert_allclose(row_dot(strided, query), strided @ query, atol=1e-5)
    as64 = matrix.astype(np.float64)
    np.testing.assert_allclose(row_dot(as64, query), as64 @ query, atol=1e-5)
    q64 = query.astype(np.float64)
    np.testing.assert_allclose(row_dot(matrix, q64, np.array([1, 2])), matrix[[1, 2]] @ q64)
    with pytest.raises(ValueError):  # numpy's own error for a query of the wrong length
        row_dot(matrix, query[:10])


def test_a_memory_mapped_matrix(tmp_path, rows_and_query: tuple[np.ndarray, np.ndarray]) -> None:  # type: ignore[no-untyped-def]
    matrix, query = rows_and_query
    np.save(tmp_path / "v.npy", matrix)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")
    np.testing.assert_allclose(row_dot(mapped, query), matrix @ query, atol=1e-5)
    np.testing.assert_allclose(
        row_dot(mapped, query, np.array([4, 2])), matrix[[4, 2]] @ query, atol=1e-5
    )


def test_the_kernel_runs_on_one_openmp_thread_and_the_setting_comes_back(
    monkeypatch: pytest.MonkeyPatch, rows_and_query: tuple[np.ndarray, np.ndarray]
) -> None:
    """faiss's inner products by index open an OpenMP region even for one query: on a team of
    one thread per core the other core's thread woke and spun for every request (10x the CPU).
    Fails on the code that called it on the caller's default team."""
    import faiss

    matrix, query = rows_and_query
    seen: list[int] = []
    kernel = faiss.fvec_inner_products_by_idx

    def recording(*args: object) -> None:
        seen.append(faiss.omp_get_max_threads())
        kernel(*args)

    monkeypatch.setattr(faiss, "fvec_inner_products_by_idx", recording)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(4)
    try:
        got = row_dot(matrix, query, np.array([2, 9]))
        assert faiss.omp_get_max_threads() == 4  # the caller's own setting, restored
    finally:
        faiss.omp_set_num_threads(before)
    assert seen == [1]
    np.testing.assert_allclose(got, matrix[[2, 9]] @ query, atol=1e-5)


# every row of a large matrix, read in parts by the caller and helper threads ---------------------
def _one_pass(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    import faiss

    out = np.empty(matrix.shape[0], dtype=np.float32)
    faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]
        faiss.swig_ptr(out),
        faiss.swig_ptr(query),
        faiss.swig_ptr(matrix),
        matrix.shape[1],
        out.size,
    )
    return out


@pytest.fixture()
def large(monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """A matrix of three parts' worth of rows (parts made small for the test), two helpers."""
    import matcher.row_dot as rd

    monkeypatch.setattr(rd, "SPLIT_ROWS", 1000)
    monkeypatch.setattr(rd, "helper_count", lambda: 2)
    monkeypatch.setattr(rd, "_pool", None)
    rng = np.random.default_rng(11)
    return (
        rng.standard_normal((3500, 64)).astype(np.float32),
        rng.standard_normal(64).astype(np.float32),
    )


def test_a_large_matrix_is_read_in_parts_by_more_than_one_thread_with_the_same_values(
    monkeypatch: pytest.MonkeyPatch, large: tuple[np.ndarray, np.ndarray]
) -> None:
    import threading
    import time

    import matcher.row_dot as rd

    matrix, query = large
    seen: list[tuple[str, int, int]] = []
    read = rd._read

    def recording(out: np.ndarray, q: np.ndarray, m: np.ndarray, a: int, b: int) -> None:
        name = threading.current_thread().name
        if not name.startswith("row-dot"):
            time.sleep(0.2)  # the caller slow enough that the helpers surely start theirs
        seen.append((name, a, b))
        read(out, q, m, a, b)

    monkeypatch.setattr(rd, "_read", recording)
    got = row_dot(matrix, query)
    assert np.array_equal(got, _one_pass(matrix, query))  # bit for bit
    assert sorted((a, b) for _, a, b in seen) == [(0, 1166), (1166, 2333), (2333, 3500)]
    by_helpers = [(a, b) for name, a, b in seen if name.startswith("row-dot")]
    # the caller reads the first part, the helpers the others
    assert sorted(by_helpers) == [(1166, 2333), (2333, 3500)]


def test_parts_no_helper_has_started_are_read_by_the_caller(
    large: tuple[np.ndarray, np.ndarray],
) -> None:
    """Helpers busy with other work: the caller reads every part itself (no waiting on them)."""
    import threading

    import matcher.row_dot as rd

    matrix, query = large
    pool = rd._helpers()
    assert pool is not None
    release = threading.Event()
    busy = [pool.submit(release.wait, 30) for _ in range(2)]  # both helpers held
    try:
        got = row_dot(matrix, query)
        assert not release.is_set() and not any(f.done() for f in busy)
    finally:
        release.set()
    assert np.array_equal(got, _one_pass(matrix, query))


def test_requests_racing_for_the_helpers_each_get_their_own_rows(
    large: tuple[np.ndarray, np.ndarray],
) -> None:
    from tests.support_threads import together

    matrix, _ = large
    rng = np.random.default_rng(5)
    queries = rng.standard_normal((12, matrix.shape[1])).astype(np.float32)
    got = together(12, lambda i: row_dot(matrix, queries[i]))
    for i, values in enumerate(got):
        assert not isinstance(values, Exception), values
        assert np.array_equal(values, _one_pass(matrix, queries[i]))


def test_one_core_reads_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.row_dot as rd

    monkeypatch.setattr(rd.os, "cpu_count", lambda: 1)
    assert rd.helper_count() == 0
    monkeypatch.setattr(rd.os, "cpu_count", lambda: 16)
    assert rd.helper_count() == 3
