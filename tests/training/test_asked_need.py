"""A feedback label trains on the need as the person asked it: its place (and the hard
region/country filter a place brings), radius, sectors, capabilities and filters, carried from
the stored recommendation into the pairs (`ASKED_COLUMNS`) and into the training query."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ranker_history import sample_engine

from matcher.domain import Filters, Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store.models import FeedbackRow, RecommendationRow
from training import ranker
from training.history import ASKED_COLUMNS, PAIR_COLUMNS, labelled_pairs, store_partnerships
from training.partnership import Partnership
from training.ranker import build_queries, candidate_features, data_hash, query_key

OLD_COLUMNS = PAIR_COLUMNS[: PAIR_COLUMNS.index(ASKED_COLUMNS[0])]
TEXT = "Fresh food and van drivers for families skipping meals"


def _org(i: str, city: str, region: str, lat: float, lon: float) -> Organisation:
    return Organisation(
        id=i,
        name=f"Org {i}",
        sector="nonprofit",  # type: ignore[arg-type]
        description="A food bank delivering parcels to families.",
        city=city,
        region=region,
        country="US",
        lat=lat,
        lon=lon,
    )


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    eng.store.upsert_organisations(
        [
            _org("asker-de", "Wilmington", "DE", 39.74, -75.55),
            _org("food-ri", "Providence", "RI", 41.82, -71.41),
            _org("food-de", "Dover", "DE", 39.16, -75.52),
        ]
    )
    yield eng
    eng.close()


def _mark(engine: Engine, rec_id: str, need: Need, marks: dict[str, str], **doc: Any) -> None:
    """A served recommendation of `need` (stored as api/records.py stores it) and key-holder
    feedback on it."""
    subject = need.requester_id or f"need:{need.id}"
    when = datetime(2024, 4, 1, tzinfo=UTC)
    with engine.store.db.session() as s:
        s.add(
            RecommendationRow(
                id=rec_id,
                created_at=when,
                need={**need.model_dump(mode="json"), **doc, "subject": subject},
                result_ids=list(marks),
                model_version="m",
                index_generation=1,
            )
        )
        s.flush()
        for i, (org, outcome) in enumerate(marks.items()):
            s.add(
                FeedbackRow(
                    recommendation_id=rec_id,
                    organisation_id=org,
                    outcome=outcome,
                    created_at=when.replace(hour=i + 1),
                    api_key_id="key-1",
                )
            )


def _providence() -> Need:
    return Need(
        id="n-ri",
        text=TEXT,
        place="Providence, RI",
        radius_km=80,
        wanted_sectors=["nonprofit", "community"],  # type: ignore[list-item]
        required_capabilities=["delivery vans", "food storage"],
    )


def test_the_columns_are_the_ones_the_ranker_reads() -> None:
    assert PAIR_COLUMNS[-len(ASKED_COLUMNS) :] == ASKED_COLUMNS
    assert tuple(ASKED_COLUMNS) == ranker._ASKED_COLUMNS


def test_feedback_pairs_carry_the_need_as_asked(engine: Engine) -> None:
    filters = Filters(sizes=["small"], exclude_ids=["food-de"])  # type: ignore[list-item]
    _mark(
        engine,
        "rec-ri",
        _providence(),
        {"food-ri": "contacted"},
        filters=filters.model_dump(mode="json"),
    )
    store_partnerships(engine.store, [Partnership(id="h1", source_id="asker-de", partner_id="x")])
    pairs = labelled_pairs(engine.store)
    assert list(pairs.columns) == PAIR_COLUMNS
    fb = pairs[pairs["origin"] == "feedback"].iloc[0]
    assert fb["need_place"] == "Providence, RI"
    assert (fb["need_city"], fb["need_region"], fb["need_country"]) == ("Providence", "RI", "US")
    assert fb["need_lat"] == pytest.approx(41.82, abs=0.05)
    assert fb["need_lon"] == pytest.approx(-71.42, abs=0.05)
    assert fb["need_radius_km"] == 80.0
    assert fb["need_sectors"] == "nonprofit|community"
    assert fb["need_capabilities"] == "delivery vans|food storage"
    assert fb["need_filters"] == '{"exclude_ids": ["food-de"], "sizes": ["small"]}'
    hist = pairs[pairs["origin"] == "history"].iloc[0]
    assert hist[ASKED_COLUMNS].isna().all()  # a partnership was asked by no one
    assert pairs["need_lat"].dtype == "float64"


def test_a_need_source_query_is_placed_where_the_need_was_asked(engine: Engine) -> None:
    """Fails on the old code: a `need:` source is no organisation, so its query had no place
    at all (no proximity, no hard region filter) although the person's page had both."""
    _mark(engine, "rec-ri", _providence(), {"food-ri": "contacted", "food-de": "not_relevant"})
    (q,) = build_queries(labelled_pairs(engine.store), engine)
    assert q.source_id == "need:n-ri" and q.need.requester_id is None
    assert q.need.place == "Providence, RI"
    assert (q.need.city, q.need.region, q.need.country) == ("Providence", "RI", "US")
    assert q.need.lat == pytest.approx(41.82, abs=0.05)
    assert q.need.radius_km == 80
    assert [s.value for s in q.need.wanted_sectors] == ["nonprofit", "community"]
    assert q.need.required_capabilities == ["delivery vans", "food storage"]
    assert q.gains == {"food-ri": 0.5} and q.negatives == {"food-de"}
    # the engine reads it as it read the person's need: within 80 km of Providence
    f = engine._effective_filters(q.need, q.filters)
    assert f.near is not None and f.near[0] == pytest.approx(41.82, abs=0.05)
    assert f.radius_km == 80


def test_stored_filters_become_the_querys_filters(engine: Engine) -> None:
    need = Need(id="n-x", text=TEXT)
    filters = Filters(region="RI", exclude_ids=["food-de"])
    _mark(engine, "rec-x", need, {"food-ri": "contacted"}, filters=filters.model_dump(mode="json"))
    (q,) = build_queries(labelled_pairs(engine.store), engine)
    assert q.filters == filters
    assert q.need.lat is None  # nothing placed it: none invented


def test_an_organisation_source_keeps_its_place_unless_the_need_named_one(
    engine: Engine,
) -> None:
    # asked by the Wilmington organisation with no place: its home, as before
    _mark(
        engine,
        "rec-home",
        Need(id="n-home", text=TEXT, requester_id="asker-de"),
        {"food-de": "partnered"},
    )
    # the same organisation asking for Providence: what it saw was ranked for Providence
    elsewhere = Need(id="n-away", text=TEXT, requester_id="asker-de", place="Providence, RI")
    _mark(engine, "rec-away", elsewhere, {"food-ri": "partnered"})
    queries = build_queries(labelled_pairs(engine.store), engine)
    assert len(queries) == 2  # same source and text, asked for two places: two queries
    home = next(q for q in queries if "food-de" in q.gains)
    away = next(q for q in queries if "food-ri" in q.gains)
    assert (home.need.city, home.need.region, home.need.lat) == ("Wilmington", "DE", 39.74)
    assert home.need.requester_id == "asker-de" and home.need.place is None
    assert home.id == query_key("asker-de", TEXT)  # nothing asked: the id it always had
    assert (away.need.city, away.need.region) == ("Providence", "RI")
    assert away.need.place == "Providence, RI" and away.need.requester_id == "asker-de"
    assert away.id != home.id


def test_an_older_pairs_frame_or_file_still_builds_queries(engine: Engine) -> None:
    _mark(engine, "rec-ri", _providence(), {"food-ri": "contacted"})
    pairs = labelled_pairs(engine.store)
    old = pairs[OLD_COLUMNS]
    (q,) = build_queries(old, engine)
    assert q.id == query_key("need:n-ri", TEXT) and q.need.lat is None and q.filters is None
    assert data_hash(old) == data_hash(pairs.assign(**{c: None for c in ASKED_COLUMNS}))
    assert data_hash(old) != data_hash(pairs)  # the asked place is part of the data
    # an exported pairs file (`matcher train pairs --out x.csv`) read back builds the same
    buf = io.BytesIO()
    pairs.to_parquet(buf, index=False)
    (fresh,) = build_queries(pairs, engine)
    mine = {"created_at"}  # the moment the query was built
    for back in (
        pd.read_csv(io.StringIO(pairs.to_csv(index=False))),
        pd.read_parquet(io.BytesIO(buf.getvalue())),
    ):
        (again,) = build_queries(back, engine)
        assert again.need.model_dump(exclude=mine) == fresh.need.model_dump(exclude=mine)
        assert again.id == fresh.id


def test_a_place_that_no_longer_resolves_keeps_the_fields_it_resolved_to(
    engine: Engine,
) -> None:
    _mark(engine, "rec-ri", _providence(), {"food-ri": "contacted"})
    pairs = labelled_pairs(engine.store).assign(need_place="Nowhere-at-all, ZZ")
    (q,) = build_queries(pairs, engine)
    assert q.need.place is None and (q.need.city, q.need.region) == ("Providence", "RI")
    assert q.gains == {"food-ri": 0.5}


# --------------------------------------------------------------- through the engine


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = sample_engine(tmp_path_factory.mktemp("asked") / "var")
    yield engine
    engine.close()


def test_the_asked_place_filters_the_training_candidates(sample: Engine) -> None:
    """The sample corpus has partners in Oregon, Washington, California and England: a
    Portland need's training candidates are Oregon's (or serve wider), as the person saw."""
    orgs = {o.id: o for _pk, o in sample.store.organisations()}
    need = Need(id="n-pdx", text="Digital inclusion help for older residents", place="Portland, OR")
    served = sample.recommend(need, limit=30)
    target = served.results[0].id
    _mark(sample, "rec-pdx", need, {target: "contacted"})
    pairs = labelled_pairs(sample.store)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    (q,) = build_queries(pairs, sample)
    feats = candidate_features(sample, [q], negatives_per_query=50, limit=30, now=now)
    regions = {orgs[i].region for i in feats["partner_id"]}
    local = {orgs[m.id].region for m in served.results}
    assert regions <= local and "OR" in regions, regions
    (old,) = build_queries(pairs[OLD_COLUMNS], sample)
    before = candidate_features(sample, [old], negatives_per_query=50, limit=30, now=now)
    assert {orgs[i].region for i in before["partner_id"]} - local  # unplaced: anywhere


def test_every_asked_column_history_writes_is_read_into_the_need() -> None:
    """The columns are listed once (training.history.ASKED_COLUMNS); the ranker reads each."""
    from training.history import ASKED_COLUMNS
    from training.ranker import _ASKED_LISTS, _ASKED_PLACE

    read = {*_ASKED_PLACE, "need_radius_km", *_ASKED_LISTS, "need_filters"}
    assert read == set(ASKED_COLUMNS)
