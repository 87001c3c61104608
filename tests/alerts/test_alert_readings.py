"""The alert worker's fast path: a saved need keeps the need as the engine read it (its query and
clause vectors, its required capabilities), and its confirmation ranks with that reading instead
of embedding the text again. It must rank exactly as `recommend` does, on random data: the same
ids, order, scores and relevance; an alert is raised iff the new organisation is in the saved
need's top results by `recommend`; a reading made under another model or mean is read again."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from matcher.alerts import AlertWorker, SavedNeeds
from matcher.alerts.service import save_need
from matcher.domain import Filters, Need, Organisation
from matcher.embedding.base import Embedder
from matcher.engine import Engine, NeedReading
from matcher.notify.outbox import Outbox
from matcher.settings import Settings
from matcher.store.models import SavedNeedRow

WORDS = tuple(
    [
        "food",
        "bank",
        "meals",
        "groceries",
        "hungry",
        "families",
        "shelter",
        "housing",
        "homeless",
        "legal",
        "aid",
        "tenants",
        "eviction",
        "court",
        "jobs",
        "training",
        "coaching",
        "employment",
        "youth",
        "club",
        "sports",
        "mentoring",
        "teenagers",
        "software",
        "cloud",
        "databases",
        "volunteers",
        "transport",
        "vans",
        "funding",
        "grants",
        "building",
        "space",
        "health",
        "clinic",
        "nurses",
        "literacy",
        "reading",
        "library",
        "elderly",
        "care",
        "isolation",
        "garden",
        "compost",
        "climate",
    ]
)
PLACES = [
    ("Portland", "Oregon", 45.52, -122.68),
    ("Salem", "Oregon", 44.94, -123.03),
    ("Leeds", "West Yorkshire", 53.80, -1.55),
    (None, None, None, None),
]
SECTORS = ["nonprofit", "community", "business", "government"]


def text(rng: random.Random, n: int) -> str:
    clauses = [" ".join(rng.choice(WORDS) for _ in range(n)) for _ in range(rng.randint(1, 3))]
    return "; we need ".join(clauses).capitalize() + "."


def random_org(rng: random.Random, i: str) -> Organisation:
    city, region, lat, lon = rng.choice(PLACES)
    return Organisation.model_validate(
        {
            "id": i,
            "name": f"Org {i}",
            "sector": rng.choice(SECTORS),
            "description": text(rng, 8),
            "city": city,
            "region": region,
            "country": "GB" if region == "West Yorkshire" else ("US" if region else None),
            "lat": lat,
            "lon": lon,
        }
    )


def random_need(rng: random.Random) -> tuple[Need, Filters | None]:
    city, region, lat, lon = rng.choice(PLACES)
    need = Need(
        text=text(rng, 6),
        city=city,
        region=region,
        lat=lat,
        lon=lon,
        radius_km=rng.choice([None, 50.0]) if lat is not None else None,
        required_capabilities=rng.choice([[], ["food_supply"], ["volunteers", "funding"]]),
    )
    filters = rng.choice([None, Filters(sectors=[rng.choice(SECTORS)])])
    return need, filters


def listed(results: object) -> list[tuple[str, float, float | None]]:
    return [(r.id, r.score, r.relevance) for r in results]  # type: ignore[attr-defined]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def open_engine(tmp_path: Path, embedder: Embedder | None, seed: int) -> Engine:
    settings = (
        Settings(data_dir=tmp_path, model_name="hashing-v1")
        if embedder is None
        else Settings(data_dir=tmp_path)
    )
    eng = Engine.open(settings, embedder=embedder, load=False)  # type: ignore[arg-type]
    rng = random.Random(seed)
    eng.store.upsert_organisations([random_org(rng, f"o-{k:03d}") for k in range(80)])
    eng.build()
    return eng


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_engine(tmp_path, None, seed=7)
    yield eng
    eng.close()


def check_top_with_reading(engine: Engine, seed: int, n: int) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        need, filters = random_need(rng)
        reading = engine.read_need(need)
        fast = engine.top(need, filters=filters, limit=5, reading=reading)
        rec = engine.recommend(need, filters=filters, limit=5)
        assert listed(fast) == listed(rec.results)
        assert rec.required_capabilities == list(reading.required)


def test_top_with_a_reading_ranks_as_recommend_on_random_needs(engine: Engine) -> None:
    check_top_with_reading(engine, seed=11, n=40)


@pytest.mark.slow
def test_top_with_a_reading_ranks_as_recommend_with_the_real_model(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    """With a model, required capabilities are read from the clauses by meaning."""
    eng = open_engine(tmp_path, real_embedder, seed=3)
    try:
        check_top_with_reading(eng, seed=5, n=15)
    finally:
        eng.close()


def test_a_reading_under_another_key_is_read_again(engine: Engine) -> None:
    need, _ = random_need(random.Random(2))
    wrong = NeedReading("another-model@0", np.zeros(384, np.float32), np.zeros((0, 384)), {})
    assert listed(engine.top(need, reading=wrong)) == listed(engine.recommend(need).results)
    assert engine.read_need(need).key == engine.reading_key()


def test_the_reading_is_stored_with_the_saved_need_and_read_back(engine: Engine) -> None:
    need, filters = random_need(random.Random(4))
    saved, _ = save_need(engine, need, filters=filters, limit=5, owner="k")
    back = SavedNeeds(engine.store.db).get(saved.id).reading
    made = engine.read_need(need)
    assert back is not None and back.key == made.key and back.required == made.required
    assert np.array_equal(back.query, made.query) and np.array_equal(back.clauses, made.clauses)


def test_a_saved_need_without_a_reading_gets_one_at_its_first_confirmation(
    engine: Engine,
) -> None:
    """Saved before readings were kept (an older data directory): read once, then stored."""
    need = Need(text="Hungry families need food bank meals and groceries.")
    saved, _ = save_need(engine, need, limit=3, owner="k")
    with engine.store.db.session() as s:
        row = s.query(SavedNeedRow).filter_by(id=saved.id).one()
        row.reading_key = row.reading_clauses = row.reading_required = None
    assert SavedNeeds(engine.store.db).get(saved.id).reading is None
    worker = AlertWorker(engine, margin=10.0)
    worker.run_once()
    engine.create_organisation(
        Organisation(id="o-new", name="New", sector="nonprofit", description=need.text)
    )
    worker.run_once()
    assert SavedNeeds(engine.store.db).get(saved.id).reading is not None


def test_alerts_are_raised_iff_the_new_organisation_enters_the_top_by_recommend(
    engine: Engine,
) -> None:
    """Random saved needs, random new organisations, one a day (so the day's limit never
    holds an alert back); the screen's margin lets every saved need through, so each alert
    is the confirmation's decision alone, compared with `recommend` on the same data."""
    rng = random.Random(23)
    store = SavedNeeds(engine.store.db)
    saved = []
    for _ in range(25):
        need, filters = random_need(rng)
        saved.append(save_need(engine, need, filters=filters, limit=3, owner="k")[0])
    clock = Clock()
    worker = AlertWorker(engine, Outbox(engine.store.db, clock=clock), clock=clock, margin=10.0)
    worker.run_once()
    raised = 0
    for k in range(12):
        clock.now += timedelta(days=1)
        new = random_org(rng, f"new-{k}")
        if k % 3 == 0:  # some offer exactly what a saved need asks
            new = new.model_copy(update={"description": saved[k].need.text})
        engine.create_organisation(new)
        report = worker.run_once()
        tops = {
            s.id: [m.id for m in engine.recommend(s.need, filters=s.filters, limit=3).results]
            for s in saved
        }
        expected = {sid for sid, ids in tops.items() if new.id in ids}
        got = {a.saved_need_id for a in report.alerts}
        assert got == expected, f"creation {k}"
        for a in report.alerts:
            assert a.organisation_ids == [new.id]
            assert [e.id for e in a.results] == tops[a.saved_need_id]
            assert store.get(a.saved_need_id).snapshot == a.results
        raised += len(got)
    assert raised >= 5  # the test did exercise alerts
