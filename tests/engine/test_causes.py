"""The cause taxonomy: loading it, cause space, and its effect through the engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher.causes import Cause, CauseSpace, agreement, read_causes, shared_cause
from matcher.domain import Filters, Need, Organisation
from matcher.engine import Engine
from matcher.errors import ValidationError
from matcher.settings import Settings
from matcher.vectors import l2_normalise

SAMPLE_CAUSES = Path(__file__).resolve().parents[2] / "data" / "causes.jsonl"


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- loading ---------------------------------------------------------------------------------
def test_bundled_sample_taxonomy_loads() -> None:
    causes = read_causes(SAMPLE_CAUSES)
    assert len(causes) >= 15
    assert len({c.code for c in causes}) == len(causes)
    assert all(c.title and c.definition for c in causes)


def test_csv_taxonomy_with_optional_columns(tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "t.csv", "code,title,definition\nK31,Food Banks,Food pantries.\n")
    (cause,) = read_causes(f)
    assert cause == Cause(code="K31", title="Food Banks", definition="Food pantries.")
    assert cause.text() == "Food Banks. Food pantries."


def test_missing_column_is_named(tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "t.csv", "code,name\nK31,Food Banks\n")
    with pytest.raises(ValidationError) as err:
        read_causes(f)
    assert err.value.field == "title" and "title" in str(err.value)


def test_duplicate_code_names_row_and_first_occurrence(tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "t.csv", "code,title\nA,Arts\nB,Books\nA,Again\n")
    with pytest.raises(ValidationError) as err:
        read_causes(f)
    assert err.value.row == 3 and err.value.field == "code"
    assert "first on row 1" in str(err.value)


def test_empty_title_names_row_and_column(tmp_path: Path) -> None:
    rows = [{"code": "A", "title": "Arts"}, {"code": "B", "title": "  "}]
    f = tmp_path / "t.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(ValidationError) as err:
        read_causes(f)
    assert err.value.row == 2 and err.value.field == "title"


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no causes"):
        read_causes(_write_csv(tmp_path / "t.csv", "code,title\n"))


# -- cause space -----------------------------------------------------------------------------
def _space(n_causes: int, dim: int = 8, seed: int = 0, top: int = 3) -> CauseSpace:
    rng = np.random.default_rng(seed)
    causes = [Cause(code=f"C{i}", title=f"cause {i}") for i in range(n_causes)]
    return CauseSpace(temperature=0.1, top=top).fit(causes, rng.normal(size=(n_causes, dim)))


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float32, (5, 8), elements=st.floats(-1, 1, width=32)),
    st.integers(1, 6),
)
def test_sparse_keeps_the_most_probable_causes_in_order(x: np.ndarray, top: int) -> None:
    space = _space(6, top=top)
    full = space.distribution(x)
    assert np.allclose(full.sum(axis=1), 1.0, atol=1e-5)
    idx, prob = space.sparse(x)
    assert idx.shape == (5, min(top, 6))
    assert np.allclose(prob, np.take_along_axis(full, idx, axis=1))
    assert np.all(np.diff(prob, axis=1) <= 1e-7)  # most probable first
    kth_best = -np.sort(-full, axis=1)[:, prob.shape[1] - 1]
    assert np.all(prob[:, -1] >= kth_best - 1e-6)


def test_agreement_equals_the_dot_product_of_distributions_when_nothing_is_truncated() -> None:
    space = _space(4, top=4)
    x = l2_normalise(np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32))
    q = space.distribution(x[:1])[0]
    idx, prob = space.sparse(x)
    assert np.allclose(agreement(q, idx, prob), space.distribution(x) @ q, atol=1e-6)


def test_agreement_of_a_row_is_the_same_alone_among_some_rows_or_among_all() -> None:
    # a request's shared scores (QueryScores) compute some rows role by role and the rest in
    # one pass over every row: a row's agreement must not depend on which
    space = _space(12, top=3)
    rng = np.random.default_rng(7)
    x = l2_normalise(rng.normal(size=(500, 8)).astype(np.float32))
    q = space.distribution(x[:1])[0]
    idx, prob = space.sparse(x)
    every = agreement(q, idx, prob)
    some = np.sort(rng.choice(500, 37, replace=False))
    assert np.array_equal(agreement(q, idx[some], prob[some]), every[some])
    assert np.array_equal(agreement(q, idx[[5]], prob[[5]]), every[[5]])
    expected = (q[idx].astype(np.float64) * prob).sum(axis=1)  # the definition, in float64
    assert every.dtype == np.float32 and np.allclose(every, expected, rtol=1e-6, atol=1e-9)
    assert agreement(q, idx[:0], prob[:0]).shape == (0,)


def test_shared_cause_names_the_cause_both_sides_are_about() -> None:
    causes = [Cause(code="F", title="Food"), Cause(code="J", title="Jobs")]
    space = CauseSpace(temperature=0.05, top=2).fit(causes, np.eye(2, 4, dtype=np.float32))
    food = np.asarray([[1.0, 0.05, 0, 0]], np.float32)
    jobs = np.asarray([[0.05, 1.0, 0, 0]], np.float32)
    idx, prob = space.sparse(food)
    assert shared_cause(space, space.distribution(food)[0], idx[0], prob[0]) == causes[0]
    assert shared_cause(space, space.distribution(jobs)[0], idx[0], prob[0]) is None


def test_fit_refuses_mismatched_vectors() -> None:
    with pytest.raises(ValueError):
        CauseSpace().fit([Cause(code="A", title="a")], np.zeros((2, 4), np.float32))


# -- through the engine (model-free embedder) ------------------------------------------------
def test_taxonomy_is_stored_applied_and_survives_a_reopen(engine: Engine, tmp_path: Path) -> None:
    causes = read_causes(SAMPLE_CAUSES)
    assert engine.stats()["causes"] == 0
    assert engine.set_causes(causes) == len(causes)
    assert engine.stats()["causes"] == len(causes)
    assert engine.catalog.cause_idx_.shape == (len(engine.catalog.pks), engine.settings.cause_top)
    engine.recommend(Need(text="hungry families need food parcels"), limit=3)
    reopened = Engine.open(engine.settings, embedder=engine.embedder)
    try:
        assert [c.code for c in reopened.causes()] == [c.code for c in causes]
        assert reopened.catalog.cause_idx_.shape[1] == engine.settings.cause_top
    finally:
        reopened.close()
    engine.set_causes([])
    assert engine.stats()["causes"] == 0 and engine.store.causes() == []


def test_profiles_added_after_the_taxonomy_get_causes(engine: Engine) -> None:
    engine.set_causes(read_causes(SAMPLE_CAUSES))
    new = Organisation(name="Late Pantry", sector="nonprofit", description="A food pantry.")
    engine.create_organisation(new.model_copy(update={"id": "late"}))
    pos = engine.catalog.position_of_id("late")
    assert pos is not None and engine.catalog.cause_p_[pos].sum() > 0


def test_settings_refuse_weights_above_one() -> None:
    with pytest.raises(ValueError, match="cause_weight"):
        Settings(lexical_weight=0.6, cause_weight=0.5)


# -- with the real model ---------------------------------------------------------------------
@pytest.mark.slow
def test_cause_space_explains_and_keeps_filters(tmp_path: Path, real_embedder: object) -> None:
    settings_ = Settings(data_dir=tmp_path / "var")
    eng = Engine.open(settings_, embedder=real_embedder, load=False)  # type: ignore[arg-type]
    try:
        assert eng.bootstrap_sample()
        assert eng.stats()["causes"] == len(read_causes(SAMPLE_CAUSES))
        need = Need(text="Older people living alone are lonely and need someone to visit them.")
        rec = eng.recommend(need, filters=Filters(country="GB"), limit=10)
        assert all(m.country == "GB" for m in rec.results)
        reasons = " ".join(r for m in rec.results[:5] for r in m.reasons)
        assert "Works on the same cause: Older people" in reasons
    finally:
        eng.close()


def test_cause_agreement_ranks_only_the_sectors_the_taxonomy_describes(
    engine_settings: Settings,
) -> None:
    """With cause_sectors, a business list ranks as if no taxonomy were loaded, while the
    nonprofit list still uses it."""
    from matcher.domain import Sector
    from tests.engine.conftest import small_corpus

    taxonomy = read_causes(SAMPLE_CAUSES)

    said: dict[str, bool] = {}

    def ranked(eng: Engine, sector: Sector) -> list[str]:
        need = Need(text="food for hungry families")
        rec = eng.recommend(need, filters=Filters(sectors=[sector]))
        key = f"{eng.settings.data_dir.name}-{sector.value}"
        said[key] = any("same cause" in r for m in rec.results for r in m.reasons)
        return [m.id for m in rec.results]

    results = {}
    for name, causes, only in (
        ("plain", [], None),
        ("all", taxonomy, None),
        ("nonprofit", taxonomy, ["nonprofit", "community"]),
    ):
        settings = engine_settings.model_copy(
            update={"data_dir": engine_settings.data_dir / name, "cause_sectors": only}
        )
        eng = Engine.open(settings, load=False)
        eng.store.upsert_organisations(small_corpus())
        eng.build()
        if causes:
            eng.set_causes(causes)
        results[name] = {s: ranked(eng, s) for s in (Sector.business, Sector.nonprofit)}
        eng.close()
    assert results["nonprofit"][Sector.business] == results["plain"][Sector.business]
    assert results["nonprofit"][Sector.nonprofit] == results["all"][Sector.nonprofit]
    # and no card claims a shared cause in a sector the taxonomy does not describe
    assert said["all-business"] and not said["nonprofit-business"]
    assert said["nonprofit-nonprofit"]


def test_the_sectors_a_taxonomy_describes_are_kept_with_it(engine_settings: Settings) -> None:
    """helper-75's walk (2026-12-06): a server started without MATCHER_CAUSE_SECTORS said of
    Coca-Cola "Works on the same cause: Substance Abuse Treatment" (the NTEE codes, which
    describe no company). The sectors given when the taxonomy is loaded are stored with it:
    a process opening the data directory later, without the setting, keeps to them."""
    from matcher.domain import Sector
    from tests.engine.conftest import small_corpus

    def cause_said(eng: Engine, sector: Sector) -> bool:
        need = Need(text="food for hungry families")
        rec = eng.recommend(need, filters=Filters(sectors=[sector]))
        return any("same cause" in r for m in rec.results for r in m.reasons)

    eng = Engine.open(engine_settings, load=False)
    eng.store.upsert_organisations(small_corpus())
    eng.build()
    eng.set_causes(read_causes(SAMPLE_CAUSES), describes=["nonprofit", "community"])
    assert not cause_said(eng, Sector.business) and cause_said(eng, Sector.nonprofit)
    eng.close()
    reopened = Engine.open(engine_settings)  # no cause_sectors set
    assert reopened.store.causes_describe() == ["nonprofit", "community"]
    assert not cause_said(reopened, Sector.business) and cause_said(reopened, Sector.nonprofit)
    # loaded again without them, the taxonomy describes every sector
    reopened.set_causes(read_causes(SAMPLE_CAUSES))
    assert reopened.store.causes_describe() is None and cause_said(reopened, Sector.business)
    reopened.close()
