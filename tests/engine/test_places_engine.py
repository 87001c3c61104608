"""Places in the engine: geocoding on every write, filters by name or code, a need's place as
its search area, and place words read as location, never topic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher import places
from matcher.domain import Filters, Need, Organisation
from matcher.engine import Engine
from matcher.errors import AmbiguousPlaceError, UnknownPlaceError
from matcher.settings import ScoreWeights, Settings


def _org(i: str, name: str, sector: str, desc: str, **kw: object) -> Organisation:
    return Organisation.model_validate(
        {"id": i, "name": name, "sector": sector, "description": desc, **kw}
    )


CORPUS = [
    _org(
        "dover-corp",
        "Dover Corporation",
        "business",
        "Dover Corporation makes pumps, compressors and industrial equipment.",
        city="Downers Grove",
        region="Illinois",
        country="United States",
        service_level="national",
    ),
    _org(
        "de-flood",
        "Delaware Flood Repair Network",
        "nonprofit",
        "Volunteers repair flooding damage to homes and help families after floods.",
        postcode="19901",
        region="DE",
        country="US",
    ),
    _org(
        "ri-child",
        "Pawtucket Childcare Collective",
        "nonprofit",
        "Affordable childcare and after-school care for working parents.",
        city="Pawtucket",
        region="Rhode Island",
        country="US",
    ),
    _org(
        "ri-pawtucket-arts",
        "Pawtucket Arts Festival",
        "nonprofit",
        "Pawtucket arts festival with music and painting in Pawtucket parks.",
        city="Pawtucket",
        region="RI",
        country="US",
    ),
    _org(
        "fema",
        "Federal Flood Agency",
        "government",
        "Federal grants for flood recovery and home repairs after floods.",
        country="US",
        service_level="national",
    ),
    _org(
        "or-flood",
        "Oregon Flood Helpers",
        "nonprofit",
        "Volunteers repair flooding damage to homes after floods.",
        postcode="97204",
        country="US",
    ),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    data: Path = tmp_path_factory.mktemp("places") / "var"
    # The model-free embedder's "fit" is noise on a corpus this small, so these tests of place
    # handling let coverage and proximity count as much as fit (the earlier default weights).
    weights = ScoreWeights(fit=0.45, coverage=0.25, reciprocity=0.1, proximity=0.15, freshness=0.05)
    eng = Engine.open(Settings(data_dir=data, model_name="hashing-v1", weights=weights), load=False)
    eng.ingest(CORPUS)
    eng.build()
    yield eng
    eng.close()


def test_ingest_geocodes_and_normalises(engine: Engine) -> None:
    flood = engine.store.get_organisation("de-flood").record
    assert (flood.region, flood.country) == ("DE", "US")
    assert flood.lat == places.resolve("19901").lat and flood.city == "Dover"
    child = engine.store.get_organisation("ri-child").record
    assert child.region == "RI" and child.lat == places.resolve("Pawtucket, RI").lat
    dover = engine.store.get_organisation("dover-corp").record
    assert (dover.region, dover.country) == ("IL", "US")
    oregon = engine.store.get_organisation("or-flood").record
    assert oregon.region == "OR" and oregon.lat is not None  # region filled from the ZIP


def test_create_and_update_geocode_too(engine: Engine) -> None:
    stored = engine.create_organisation(
        _org("new", "New Org", "nonprofit", "Food pantry.", postcode="02903", country="USA")
    )
    assert stored.record.country == "US" and stored.record.lat == places.resolve("02903").lat
    pos = engine.catalog.position_of_id("new")
    assert pos is not None and engine.catalog.lat_[pos] == places.resolve("02903").lat
    moved = engine.update_organisation(
        "new", {"lat": None, "lon": None, "postcode": "19901", "region": "Delaware", "city": None}
    )
    assert moved.record.region == "DE" and moved.record.city == "Dover"
    assert moved.record.lat == places.resolve("19901").lat
    assert engine.store.get_organisation("new").record.lat == places.resolve("19901").lat
    engine.delete_organisation("new")


@pytest.mark.parametrize(
    ("region", "country"), [("Rhode Island", None), ("ri", "USA"), ("RI", "United States")]
)
def test_filters_by_name_or_code(engine: Engine, region: str, country: str | None) -> None:
    f = Filters(region=region, country=country)
    rec = engine.recommend(Need(text="childcare for working parents"), filters=f, limit=20)
    ids = {m.id for m in rec.results}
    assert {"ri-child", "ri-pawtucket-arts"} <= ids
    assert "de-flood" not in ids and "or-flood" not in ids
    assert {"fema", "dover-corp"} <= ids  # national bodies serve every state


def test_a_needs_place_is_its_search_area(engine: Engine) -> None:
    need = Need(text="flooding keeps damaging homes", place="Dover, DE")
    assert (need.city, need.region, need.country) == ("Dover", "DE", "US")
    ids = {m.id for m in engine.recommend(need, limit=20).results}
    assert "de-flood" in ids and "fema" in ids
    assert "or-flood" not in ids and "ri-child" not in ids
    # other filters given by the caller win over the place's area
    wider = engine.recommend(need, filters=Filters(country="US"), limit=20)
    assert "or-flood" in {m.id for m in wider.results}


def test_dover_delaware_does_not_match_dover_corporation_on_the_word(engine: Engine) -> None:
    need = Need(text="Flooding keeps damaging homes in Dover, Delaware", place="Dover, DE")
    rec = engine.recommend(need, limit=20)
    assert rec.results[0].id != "dover-corp"
    for m in rec.results:
        assert not any("dover" in r.lower() and "shared terms" in r for r in m.reasons), m.reasons
    assert rec.results[0].id == "de-flood"


def test_a_pawtucket_need_does_not_pull_pawtucket_names(engine: Engine) -> None:
    need = Need(text="Childcare for working parents in Pawtucket", place="Pawtucket, RI")
    rec = engine.recommend(need, limit=5)
    assert rec.results[0].id == "ri-child"
    arts = next(m for m in rec.results if m.id == "ri-pawtucket-arts")
    assert all("pawtucket" not in r.lower() for r in arts.reasons if "shared terms" in r)


def test_unknown_and_ambiguous_places_are_errors() -> None:
    with pytest.raises(UnknownPlaceError, match="Gotham"):
        Need(text="food for families", place="Gotham, RI")
    with pytest.raises(AmbiguousPlaceError) as err:
        Need(text="food for families", place="Portland")
    assert "Portland, ME" in err.value.candidates
    with pytest.raises(ValueError, match="Narnia"):
        Filters(country="Narnia")
