"""An engine opened from the columns saved with its index generation (catalog and scoring
columns, memory-mapped) answers exactly as the engine that built it and as one that fills the
scoring columns from the profiles (ids, order, scores, reasons, coalition), also after writes
made before and after it opened. Saved columns that disagree with their manifest, or were made
by other code, are not used; generations saved without them still open."""

from __future__ import annotations

import json
import mmap
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher import score_arrays, score_columns, score_files
from matcher.artifacts import generation_dir
from matcher.domain import Filters, Need, Sector
from matcher.embedding.hashing import HashingEmbedder
from matcher.engine import Engine
from matcher.score_columns import ScoreColumns
from matcher.score_files import DIRNAME, MANIFEST, load_score
from matcher.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)
NEEDS = [
    Need(text="fresh food and volunteers for hungry families"),
    Need(text="legal advice and translation for refugee families", region="Oregon"),
    Need(text="a delivery van and warehouse space for donated furniture", country="US"),
    Need(text="mentors and laptops for an after school coding club", lat=45.52, lon=-122.68),
    Need(text="flood defences, sandbags and emergency shelter", required_capabilities=["funding"]),
]
FILTERS: list[Filters | None] = [
    None,
    Filters(sectors=[Sector.business]),
    Filters(country="US", sectors=[Sector.nonprofit, Sector.government]),
]


class MeaningHashing(HashingEmbedder):
    """The model-free embedder under another name, so the engine reads capabilities by meaning
    (offers from vectors, focus offers) as it does with a real model."""

    model_name = "hashing-meaning-test"


def _answers(engine: Engine) -> list[Any]:
    out = []
    for need in NEEDS:
        for f in FILTERS:
            rec = engine.recommend(need, filters=f, limit=15, now=NOW)
            out.append(rec.model_dump(mode="json"))
    return out


def _open(settings: Settings) -> Engine:
    return Engine.open(settings, embedder=MeaningHashing(dimension=384))


def _score_dir(engine: Engine) -> Path:
    return generation_dir(engine.index_root, engine.index_generation) / DIRNAME


@pytest.fixture()
def built(tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    settings = Settings(data_dir=tmp_path / "var")
    engine = Engine.open(settings, embedder=MeaningHashing(dimension=384), load=False)
    assert engine.bootstrap_sample()
    yield engine, settings
    engine.close()


def _mapped(a: np.ndarray) -> bool:
    base: object = a
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return isinstance(base, mmap.mmap)


def _count_fills(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    filled: list[int] = []
    real = ScoreColumns._fill_row

    def counting(self: ScoreColumns, pos: int, *args: Any) -> None:
        filled.append(pos)
        real(self, pos, *args)

    monkeypatch.setattr(ScoreColumns, "_fill_row", counting)
    return filled


def test_saved_columns_answer_as_the_engine_that_built_them(
    built: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = built
    assert engine.meaning is not None
    assert (_score_dir(engine) / MANIFEST).is_file()
    before = _answers(engine)
    filled = _count_fills(monkeypatch)
    reopened = _open(settings)
    cols = reopened._columns
    assert cols is not None and cols.filled_[reopened.catalog.alive_].all()
    # memory-mapped from the generation's files, not rebuilt (the vectors saved centred)
    assert all(_mapped(a) for a in (reopened.catalog.alive_, cols.offers_))
    assert _mapped(reopened.catalog.vectors)
    assert _answers(reopened) == before
    assert filled == []  # no row's scoring columns were read from a profile


def test_writes_before_and_after_opening_are_seen(
    built: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = built
    ids = [engine.catalog.ids_by_position()[p] for p in range(3)]
    # written in the database after the build, before opening: caught up at open
    stored = engine.store.get_organisation(str(ids[0])).record
    engine.store.upsert_organisations(
        [
            stored.model_copy(
                update={"offers": ["refrigerated delivery vans"], "needs": ["grant funding"]}
            )
        ]
    )
    engine.store.delete_organisation(str(ids[1]))
    engine.store.upsert_organisations(  # a row the generation does not have
        [
            stored.model_copy(
                update={
                    "id": "new-before-open",
                    "name": "Harbour Legal Clinic",
                    "description": "Free legal advice and translation for refugee families.",
                    "offers": ["legal advice", "translation"],
                }
            )
        ]
    )

    fast = _open(settings)  # saved columns, the rows written since filled from profiles
    # the reference, on a copy of the data: every row's columns filled from its profile
    copy = Settings(data_dir=settings.data_dir.with_name("var-ref"))
    shutil.copytree(settings.data_dir, copy.data_dir)
    shutil.rmtree(copy.data_dir / _score_dir(fast).relative_to(settings.data_dir))
    slow = _open(copy)
    assert slow._columns is None and fast._columns is not None
    assert not fast._columns.filled_[fast.catalog.position_of_id(str(ids[0])) or 0]
    assert fast._columns.filled_.size == len(fast.catalog.pks) > len(engine.catalog.pks)
    fast_before, slow_before = _answers(fast), _answers(slow)
    assert fast_before == slow_before
    assert any(m["id"] == "new-before-open" for a in fast_before for m in a["results"])

    # writes through each engine after it opened
    for eng in (fast, slow):
        eng.update_organisation(
            str(ids[2]),
            {"offers": ["legal advice", "translation"], "focus_areas": ["refugee legal aid"]},
        )
        eng.create_organisation(
            stored.model_copy(
                update={
                    "id": "new-van-lender",
                    "name": "Van Lenders",
                    "description": "We lend delivery vans and drivers to food banks.",
                    "offers": ["delivery vans", "volunteer drivers"],
                }
            )
        )
        eng.delete_organisation(str(ids[0]))
    filled = _count_fills(monkeypatch)
    fast_after = _answers(fast)
    fast_filled = set(filled)
    slow_after = _answers(slow)
    assert fast_after == slow_after
    assert any(m["id"] == "new-van-lender" for a in fast_after for m in a["results"])
    assert not any(m["id"] == ids[0] for a in fast_after for m in a["results"])
    # the fast engine read again only the rows written after it opened
    written = {fast.catalog.position_of_id(i) for i in (str(ids[2]), "new-van-lender")}
    assert fast_filled and fast_filled <= written


def test_columns_that_disagree_with_their_manifest_are_not_used(
    built: tuple[Engine, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    engine, settings = built
    before = _answers(engine)
    meta_file = _score_dir(engine) / MANIFEST
    meta = json.loads(meta_file.read_text())
    meta["arrays"]["offers_"]["shape"][1] += 1
    meta_file.write_text(json.dumps(meta))
    assert load_score(generation_dir(engine.index_root, engine.index_generation)) is None
    assert "offers_.npy holds" in caplog.text
    reopened = _open(settings)
    assert reopened._columns is None  # filled from the profiles on use, as before
    assert _answers(reopened) == before


def test_columns_made_by_other_code_are_not_used(
    built: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = built
    before = _answers(engine)
    meta_file = _score_dir(engine) / MANIFEST
    meta = json.loads(meta_file.read_text())
    meta["recipe"] = "0" * 64
    meta_file.write_text(json.dumps(meta))
    reopened = _open(settings)
    assert reopened._columns is None
    assert _answers(reopened) == before


def _edited(module: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`module` as if its source had been edited (score_files digests the modules' files)."""
    edited = tmp_path / f"edited-{module.__name__}.py"
    edited.write_bytes(Path(module.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(module, "__file__", str(edited))
    score_files._source_digest.cache_clear()


def test_a_change_to_how_candidates_are_ranked_keeps_the_saved_columns(
    built: tuple[Engine, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the code that derives the columns is in their recipe: an edit to the ranking code
    (score_arrays) must not send every saved generation back to reading profiles."""
    engine, settings = built
    before = _answers(engine)
    try:
        _edited(score_arrays, tmp_path, monkeypatch)
        reopened = _open(settings)
        assert reopened._columns is not None  # the saved columns are used
        assert _answers(reopened) == before
        reopened.close()
        _edited(score_columns, tmp_path, monkeypatch)  # the deriving code: refused
        assert _open(settings)._columns is None
    finally:
        score_files._source_digest.cache_clear()


def test_a_generation_saved_without_columns_still_opens(built: tuple[Engine, Settings]) -> None:
    engine, settings = built
    before = _answers(engine)
    gen = generation_dir(engine.index_root, engine.index_generation)
    shutil.rmtree(gen / DIRNAME)
    shutil.rmtree(gen / "catalog")
    reopened = _open(settings)  # reads every row, as before the columns were saved
    assert all(p is not None for p in reopened.catalog._profiles)
    assert _answers(reopened) == before


def test_catalog_vectors_that_disagree_with_their_manifest_are_not_used(
    built: tuple[Engine, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    engine, settings = built
    before = _answers(engine)
    catalog_dir = generation_dir(engine.index_root, engine.index_generation) / "catalog"
    vectors = np.load(catalog_dir / "vectors.npy")
    np.save(catalog_dir / "vectors.npy", vectors[:-1])  # a row short
    reopened = _open(settings)
    assert "vectors.npy does not hold what its manifest describes" in caplog.text
    assert all(p is not None for p in reopened.catalog._profiles)  # read every row instead
    assert _answers(reopened) == before


def test_a_snapshot_saved_without_vectors_centres_the_generations(
    built: tuple[Engine, Settings],
) -> None:
    """Catalog snapshots saved before the vectors were (no vectors.npy) still open."""
    engine, settings = built
    before = _answers(engine)
    catalog_dir = generation_dir(engine.index_root, engine.index_generation) / "catalog"
    meta = json.loads((catalog_dir / "catalog.json").read_text())
    del meta["vectors"], meta["arrays"]
    (catalog_dir / "catalog.json").write_text(json.dumps(meta))
    (catalog_dir / "vectors.npy").unlink()
    reopened = _open(settings)
    assert all(p is None for p in reopened.catalog._profiles)  # the snapshot was used
    assert not _mapped(reopened.catalog.vectors)
    np.testing.assert_array_equal(reopened.catalog.vectors, engine.catalog.vectors)
    assert _answers(reopened) == before


def test_profiles_are_read_for_what_is_shown_only(built: tuple[Engine, Settings]) -> None:
    """With the scoring columns saved, ranking needs no profile: `top` reads those of the
    results it returns, not those of every candidate."""
    engine, settings = built
    expected = engine.top(NEEDS[0], limit=3)
    reopened = _open(settings)
    assert reopened.top(NEEDS[0], limit=3) == expected
    read = [p for p in reopened.catalog._profiles if p is not None]
    assert 0 < len(read) <= 3
    rec = reopened.recommend(NEEDS[0], limit=5, now=NOW)
    shown = {m.id for m in rec.results} | {m.id for ms in rec.by_sector.values() for m in ms}
    read = [p for p in reopened.catalog._profiles if p is not None]
    assert len(shown) <= len(read) < len(reopened.catalog) // 4


def test_a_row_written_while_the_columns_are_filled_is_filled_again(
    built: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build fills the columns it saves without the engine's lock: a row the catalog
    writes meanwhile is neither used nor saved as filled."""
    engine, _ = built
    cat = engine.catalog
    cols = ScoreColumns(cat, engine.meaning, engine._focus_offers, engine._history_column)
    pk, org = cat.pks[0], cat.profile(0).org
    real = cat.prefetch

    def write_meanwhile(positions: Any) -> None:
        monkeypatch.setattr(cat, "prefetch", real)
        cat.upsert([pk], [org.model_copy(update={"needs": ["legal advice"]})], cat.vectors_of([pk]))
        real(positions)

    monkeypatch.setattr(cat, "prefetch", write_meanwhile)
    cols.fill(np.arange(5))
    assert cols._valid(np.arange(1, 5)).all() and not cols._valid(np.asarray([0]))[0]
    arrays, _, _ = cols.saved_arrays()
    assert arrays["filled_"].tolist()[:5] == [False, True, True, True, True]
    cols.fill(np.asarray([0]))
    assert cols._valid(np.asarray([0]))[0] and cols.needs_[0, cols.caps["legal_aid"]]


def test_an_offer_of_a_key_without_a_column_gets_one(
    built: tuple[Engine, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row offering a key the columns have no column for yet (the lenders' pseudo column,
    matcher.funding_kinds) widens them and is marked in the new column. The code before
    wrote `offers_[pos, _column(key)]`: the subscript widened `offers_` after the old array
    was taken, and the write raised IndexError (the first build of real data with a bank)."""
    engine, _ = built
    cat = engine.catalog
    cols = ScoreColumns(cat, engine.meaning, engine._focus_offers, engine._history_column)
    width = cols.offers_.shape[1]
    monkeypatch.setattr(
        score_columns,
        "partner_offers",
        lambda _c, _m, _f, positions: [{"a-new-key": "x", "funding": "mortgages"}] * positions.size,
    )
    cols.fill(np.arange(3))
    assert cols.offers_.shape[1] == width + 2 and cols.needs_.shape[1] == width + 2
    for key in ("a-new-key", "funding", "funding:lends-only"):
        assert cols.offers_[:3, cols.caps[key]].all(), key
    assert not cols.offers_[3:, cols.caps["a-new-key"]].any()
