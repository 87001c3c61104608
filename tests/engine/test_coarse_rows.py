"""A large catalog's coarse copy of its vectors (matcher.coarse_rows): which rows a request
scores exactly. What a request returns is always the exact cosine; the copy only chooses which
rows are read, follows every write, and is not made for catalogs below `coarse_scan_rows`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from matcher import engine as engine_module
from matcher.catalog import Catalog
from matcher.coarse_rows import MARGIN, CoarseRows
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.query_scores import COARSE_SPREAD_SAMPLE, QueryScores
from matcher.retrieve import Candidates, hybrid
from matcher.row_dot import row_dot
from matcher.settings import Settings

D = 384


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def low_rank(n: int, rank: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in a `rank`-dimension subspace of D: a 128-dimension copy holds them whole."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((D, rank)))[0]
    return unit(rng.standard_normal((n, rank)) @ basis.T)


def catalog_of(vectors: np.ndarray) -> Catalog:
    orgs = [
        Organisation(id=f"o{i}", name=f"n{i}", sector="business", description="d")
        for i in range(len(vectors))
    ]
    cat = Catalog(vectors.shape[1])
    cat.upsert(list(range(len(vectors))), orgs, vectors)
    return cat


def test_the_basis_is_orthonormal_and_the_same_for_the_same_rows() -> None:
    x = low_rank(3000, 200)
    a, b = CoarseRows.fit(x, sample=1000), CoarseRows.fit(x, sample=1000)
    assert a.basis_.shape == (D, 128)
    np.testing.assert_allclose(a.basis_.T @ a.basis_, np.eye(128), atol=1e-5)
    np.testing.assert_array_equal(a.basis_, b.basis_)
    np.testing.assert_allclose(a.rows, x @ a.basis_, atol=1e-5)


def test_vectors_within_the_copy_s_dimensions_score_as_exactly() -> None:
    x = low_rank(2000, 64, seed=1)
    coarse = CoarseRows.fit(x)
    q = x[17]
    np.testing.assert_allclose(coarse.scores(q), x @ q, atol=1e-4)


def test_writes_are_projected_and_the_copy_grows() -> None:
    x = low_rank(100, 32)
    coarse = CoarseRows.fit(x[:60], capacity=60)
    coarse.set_rows([5, 60, 99], x[[5, 60, 99]], n=100)  # one rewritten, two appended
    assert coarse.n == 100 and coarse.rows.shape == (100, coarse.dims)
    np.testing.assert_allclose(coarse.rows[[5, 60, 99]], x[[5, 60, 99]] @ coarse.basis_, atol=1e-6)
    np.testing.assert_allclose(coarse.rows[:5], x[:5] @ coarse.basis_, atol=1e-5)  # kept


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        CoarseRows(np.zeros((D, 8), np.float32), np.zeros((4, 9), np.float32), 4)
    with pytest.raises(ValueError, match="asked of a copy holding"):
        CoarseRows(np.zeros((D, 8), np.float32), np.zeros((4, 8), np.float32), 5)


def exact_best(cat: Catalog, q: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    values = row_dot(cat.vectors, q, rows)
    return rows[np.argsort(-values, kind="stable")[:k]]


def test_best_of_finds_the_exact_top_k_reading_few_rows() -> None:
    x = low_rank(20_000, 96, seed=2)
    cat = catalog_of(x)
    cat.fit_coarse()
    rows = np.arange(0, 20_000, 2)  # a role: every other row
    for qi in (3, 4, 5):
        shared = QueryScores(cat, x[qi], "t", expected_rows=rows.size)
        order, top, (mean, std) = shared.best_of(rows, 20)
        np.testing.assert_array_equal(rows[order], exact_best(cat, x[qi], rows, 20))
        np.testing.assert_allclose(top, row_dot(cat.vectors, x[qi], rows[order]), rtol=0, atol=0)
        exact = row_dot(cat.vectors, x[qi], rows)
        assert mean == pytest.approx(float(exact.mean()), abs=1e-4)
        assert std == pytest.approx(float(exact.std()), rel=1e-3)
        # rows read exactly: the MARGIN x 20 it ranked highest and the sample for the spread
        memo = shared.dense._values
        assert memo is not None
        assert (
            int((~np.isnan(memo)).sum())
            <= MARGIN * 20 + rows[:: rows.size // COARSE_SPREAD_SAMPLE].size
        )


def test_a_pre_filter_is_picked_by_the_copy_alone_without_reading_rows_exactly() -> None:
    x = low_rank(20_000, 96, seed=7)  # the copy holds these rows whole: its top k is exact
    cat = catalog_of(x)
    cat.fit_coarse()
    rows = np.arange(1, 20_000, 3)
    shared = QueryScores(cat, x[8], "t")
    picked = shared.nearest(rows, 50)
    assert np.all(np.diff(picked) > 0)  # ascending indexes into rows
    assert set(rows[picked].tolist()) == set(exact_best(cat, x[8], rows, 50).tolist())
    memo = shared.dense._values
    assert memo is None or bool(np.isnan(memo).all())  # no row was read exactly
    # without a copy: the exact top k
    plain = QueryScores(catalog_of(x[:3000]), x[8], "t")
    few = np.arange(0, 3000, 2)
    assert set(few[plain.nearest(few, 20)].tolist()) == set(
        exact_best(plain.catalog, x[8], few, 20).tolist()
    )
    assert plain.nearest(few[:5], 20).tolist() == [0, 1, 2, 3, 4]


def test_the_spread_is_estimated_closer_than_its_sample_alone_would() -> None:
    # clustered full-rank rows: the copy holds most, not all, of each row
    rng = np.random.default_rng(6)
    centres = rng.standard_normal((40, D))
    x = unit(centres[rng.integers(0, 40, 30_000)] + 0.6 * rng.standard_normal((30_000, D)))
    cat = catalog_of(x)
    cat.fit_coarse()
    rows = np.arange(1, 30_000, 3)
    ours, alone = [], []
    for qi in range(0, 40, 2):
        q = x[qi]
        exact = row_dot(cat.vectors, q, rows)
        mean, std = QueryScores(cat, q, "t").spread(rows)
        sample = exact[:: rows.size // COARSE_SPREAD_SAMPLE]
        ours.append(abs(std - float(exact.std())) + abs(mean - float(exact.mean())))
        alone.append(
            abs(float(sample.std()) - float(exact.std()))
            + abs(float(sample.mean()) - float(exact.mean()))
        )
    assert float(np.mean(ours)) < 0.5 * float(np.mean(alone))


def test_a_catalog_without_the_copy_reads_every_allowed_row() -> None:
    x = low_rank(2000, 96, seed=3)
    cat = catalog_of(x)
    rows = np.arange(2000)
    shared = QueryScores(cat, x[0], "t")
    order, top, (mean, std) = shared.best_of(rows, 10)
    exact = row_dot(cat.vectors, x[0], rows)
    np.testing.assert_array_equal(rows[order], exact_best(cat, x[0], rows, 10))
    assert (mean, std) == (float(exact.mean()), float(exact.std()))


def test_returned_cosines_are_exact_even_where_the_copy_misjudges() -> None:
    # full-rank rows: the copy keeps a third of the dimensions and misranks some rows
    x = unit(np.random.default_rng(4).standard_normal((6000, D)))
    cat = catalog_of(x)
    cat.fit_coarse()
    q = x[9]
    order, top, _ = QueryScores(cat, q, "t").best_of(np.arange(6000), 10, margin=4)
    assert 9 in order.tolist()  # the row itself: its cosine 1 is far above every other
    np.testing.assert_array_equal(top, row_dot(cat.vectors, q, order))
    assert np.all(np.diff(top) <= 0)


@pytest.fixture(scope="module")
def coarse_engine(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: object
) -> Iterator[Engine]:
    # every catalog keeps a copy; small candidate pools so that roles are read coarsely
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("coarse") / "var", coarse_scan_rows=1, candidate_pool=10
    )
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]
    assert eng.bootstrap_sample()
    yield eng
    eng.close()


def assert_in_step(cat: Catalog) -> None:
    coarse = cat.coarse_
    assert coarse is not None
    assert coarse.n == cat.vectors.shape[0]
    np.testing.assert_allclose(coarse.rows, cat.vectors @ coarse.basis_, atol=1e-5)


def test_an_installed_catalog_has_its_copy_and_the_sample_default_has_none(
    coarse_engine: Engine, tmp_path_factory: pytest.TempPathFactory, hashing_embedder: object
) -> None:
    assert_in_step(coarse_engine.catalog)
    plain = Engine.open(
        Settings(data_dir=tmp_path_factory.mktemp("plain") / "var"),
        embedder=hashing_embedder,  # type: ignore[arg-type]
        load=False,
    )
    try:
        assert plain.bootstrap_sample()
        assert plain.settings.coarse_scan_rows > len(plain.catalog)
        assert plain.catalog.coarse_ is None
    finally:
        plain.close()


def test_recommendations_read_coarsely_score_with_exact_cosines(
    coarse_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Candidates] = []

    def spying(*args: Any, **kwargs: Any) -> Candidates:
        cands = hybrid(*args, **kwargs)
        seen.append(cands)
        return cands

    preselected: list[int] = []
    preselect = CoarseRows.preselect

    def counting(self: CoarseRows, scores: np.ndarray, rows: np.ndarray, want: int) -> np.ndarray:
        preselected.append(rows.size)
        return preselect(self, scores, rows, want)

    monkeypatch.setattr(engine_module, "hybrid", spying)
    monkeypatch.setattr(CoarseRows, "preselect", counting)
    need = Need(text="meals and groceries for older people living alone")
    rec = coarse_engine.recommend(need)
    assert any(rec.by_sector.values())
    assert preselected  # some role was read coarsely
    q = coarse_engine.read_need(need).query
    assert seen
    for cands in seen:
        np.testing.assert_array_equal(
            cands.dense, row_dot(coarse_engine.catalog.vectors, q, cands.positions)
        )


def test_writes_beside_readers_keep_the_copy_in_step(coarse_engine: Engine) -> None:
    failures: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                coarse_engine.recommend(Need(text="jobs and training for young adults"))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for batch in range(4):
            coarse_engine.ingest(
                [
                    Organisation(
                        id=f"race-{batch}-{i}",
                        name=f"Race Works {batch} {i}",
                        sector="business",
                        description="apprenticeships, job training and hiring for young adults",
                    )
                    for i in range(30)
                ]
            )
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == []
    assert_in_step(coarse_engine.catalog)
    assert coarse_engine.catalog.position_of_id("race-3-29") is not None
