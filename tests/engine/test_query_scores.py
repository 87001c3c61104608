"""A request's retrievals share one `QueryScores` (cosines, cause agreement, lexical matches
computed once): the recommendations are exactly those of retrieving each role afresh."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from matcher import engine as engine_module
from matcher.causes import Cause
from matcher.domain import Filters, Need, Recommendation
from matcher.engine import Engine
from matcher.query_scores import QueryScores, RowMemo, mean_var
from matcher.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, hashing_embedder: object) -> Iterator[Engine]:
    # a small exact threshold: some roles are scanned exactly, others go through the index
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("shared") / "var", exact_filter_threshold=150
    )
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]
    assert eng.bootstrap_sample()
    yield eng
    eng.close()


def summary(rec: Recommendation) -> object:
    def rows(ms: list) -> list:  # type: ignore[type-arg]
        return [(m.id, m.score, m.relevance, m.reasons) for m in ms]

    return (
        rows(rec.results),
        {k: rows(v) for k, v in rec.by_sector.items()},
        rows(rec.coalition.members),
        rec.coalition.roles,
        rec.coalition.covered,
        rec.gaps,
    )


def needs(eng: Engine, n: int) -> list[tuple[Need, Filters]]:
    rng = random.Random(5)
    texts = [e.need.text for e in eng._needs.values()]
    orgs = [p.org for p in eng.catalog.profiles if p is not None]
    out = []
    for _ in range(n):
        place = rng.choice(orgs)
        fields: dict[str, object] = {"text": rng.choice(texts)}
        kind = rng.choice(["point", "region", "none"])
        if kind == "point" and place.lat is not None:
            fields.update(lat=place.lat, lon=place.lon, radius_km=rng.choice([20, 80, 400]))
        elif kind == "region":
            fields.update(region=place.region, country=place.country)
        sectors = rng.choice([[], ["business"], ["nonprofit", "community"]])
        out.append((Need.model_validate(fields), Filters(sectors=sectors)))
    return out


def test_shared_scores_give_the_same_recommendations(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = needs(engine, 30)
    shared = [summary(engine.recommend(n, filters=f, now=NOW)) for n, f in cases]
    made: list[QueryScores] = []

    class Counting(QueryScores):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr(engine_module, "QueryScores", Counting)
    assert [summary(engine.recommend(n, filters=f, now=NOW)) for n, f in cases] == shared
    assert len(made) == len(cases)
    assert any(m.dense._all for m in made) and any(not m.dense._all for m in made)
    monkeypatch.setattr(engine_module, "QueryScores", lambda *args: None)
    assert [summary(engine.recommend(n, filters=f, now=NOW)) for n, f in cases] == shared


def test_shared_scores_with_a_taxonomy(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    causes = [
        Cause(code="food", title="Food security", definition="Food banks, pantries and meals."),
        Cause(code="jobs", title="Employment", definition="Job training, skills and work."),
        Cause(code="climate", title="Climate", definition="Solar energy, flood resilience."),
    ]
    engine.set_causes(causes)
    try:
        cases = needs(engine, 15)
        with_shared = [summary(engine.recommend(n, filters=f, now=NOW)) for n, f in cases]
        monkeypatch.setattr(engine_module, "QueryScores", lambda *args: None)
        assert [summary(engine.recommend(n, filters=f, now=NOW)) for n, f in cases] == with_shared
    finally:
        engine.set_causes([])


def test_row_memo_computes_each_row_once() -> None:
    values = np.arange(10, dtype=np.float32) * 1.5
    asked: list[object] = []

    def compute(rows: np.ndarray | None) -> np.ndarray:
        asked.append(None if rows is None else rows.tolist())
        return values if rows is None else values[rows]

    memo = RowMemo(10, compute)
    np.testing.assert_array_equal(memo.at(np.array([1, 2])), values[[1, 2]])
    np.testing.assert_array_equal(memo.at(np.array([2, 3])), values[[2, 3]])
    assert asked == [[1, 2], [3]]
    # most rows still to compute: one pass over every row, then nothing more
    np.testing.assert_array_equal(memo.at(np.arange(10)), values)
    np.testing.assert_array_equal(memo.at(np.array([9, 0])), values[[9, 0]])
    assert asked == [[1, 2], [3], None]


def test_row_memo_told_the_rows_to_come_computes_every_row_at_once() -> None:
    values = np.arange(9, dtype=np.float32)
    asked: list[object] = []

    def compute(rows: np.ndarray | None) -> np.ndarray:
        asked.append(None if rows is None else rows.tolist())
        return values if rows is None else values[rows]

    memo = RowMemo(9, compute, expected=3)  # a third of the rows will be read
    np.testing.assert_array_equal(memo.at(np.array([4])), values[[4]])
    np.testing.assert_array_equal(memo.at(np.array([8, 0])), values[[8, 0]])
    assert asked == [None]
    asked.clear()
    few = RowMemo(9, compute, expected=2)
    np.testing.assert_array_equal(few.at(np.array([4])), values[[4]])
    assert asked == [[4]]


def test_a_request_scanning_a_third_of_the_rows_reads_them_in_one_pass(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No place: the roles scanned exactly hold most rows between them, each fewer than a
    third. Computing their cosines role by role read them scattered (at 100k, three times the
    one pass); the request now reads every row once, at its first retrieval."""
    calls: list[int | None] = []
    cosines = QueryScores._cosines

    def counted(self: QueryScores, positions: np.ndarray | None) -> np.ndarray:
        calls.append(None if positions is None else int(positions.size))
        return cosines(self, positions)

    monkeypatch.setattr(engine.settings, "exact_filter_threshold", 25_000)  # every role exact
    need = Need(text="food bank volunteers and funding for a community kitchen")
    before = summary(engine.recommend(need, now=NOW))
    monkeypatch.setattr(QueryScores, "_cosines", counted)
    assert summary(engine.recommend(need, now=NOW)) == before
    assert calls[0] is None, calls
    placed = Need(text=need.text, lat=51.45, lon=-2.58, radius_km=10)  # 36 of 1,260 rows
    calls.clear()
    engine.recommend(placed, now=NOW)
    assert calls and None not in calls  # a place's rows: read role by role, not every row


def test_retrievals_asking_the_index_the_same_search_make_it_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overall list and a role holding most rows ask the index the same search (on the
    real T4 catalog: the nonprofit role and the overall list, both 240 hits of the IVF index).
    It is now made once a request, with the same recommendations."""
    need = Need(text="food bank volunteers and funding for a community kitchen")
    wants: list[int] = []
    search = type(engine.ann).search

    def counted(self: object, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        wants.append(k)
        return search(self, queries, k)  # type: ignore[arg-type]

    monkeypatch.setattr(type(engine.ann), "search", counted)
    shared = summary(engine.recommend(need, now=NOW))
    made = list(wants)
    assert len(made) == len(set(made)) >= 1, made  # each distinct search once
    wants.clear()
    monkeypatch.setattr(engine_module, "QueryScores", lambda *args: None)
    assert summary(engine.recommend(need, now=NOW)) == shared
    assert sorted(set(wants)) == sorted(made) and len(wants) > len(made), wants


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 90_000])
def test_mean_var_is_numpys_mean_and_variance(size: int) -> None:
    values = np.random.default_rng(size).normal(0.3, 0.05, size).astype(np.float32)
    mean, var = mean_var(values)
    if size == 0:
        assert (mean, var) == (0.0, 0.0)
        return
    wide = values.astype(np.float64)
    assert mean == pytest.approx(float(wide.mean()), rel=1e-12, abs=1e-15)
    assert var == pytest.approx(float(wide.var()), rel=1e-9, abs=1e-15)
    assert var >= 0.0
