"""Where an imported company works: a regulated utility serves its territory's states, not the
whole country (synthetic companies written here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from matcher.catalog import Catalog, make_profile
from matcher.domain import Filters, Need, Organisation, Sector
from matcher.score import Scored, reasons_for
from training.importers import read

HEADER = "symbol,name,sector,industry,city,state,country,employees,summary\n"
ROWS = (
    # a utility whose summary names where it serves (and where it is headquartered)
    "NEU,Northeast Power,Utilities,Utilities - Regulated Electric,Springfield,MA,United States,"
    '9000,"Northeast Power distributes electricity. It serves customers in Connecticut, '
    "Massachusetts, and New Hampshire. It was founded in 1927 and is headquartered in "
    'Springfield, Massachusetts."\n'
    # a utility whose summary names no state: its home state
    "GAS,Prairie Gas,Utilities,Utilities - Regulated Gas,Topeka,KS,United States,3000,"
    '"Prairie Gas distributes natural gas to homes in the United States."\n'
    # not a utility: names states, stays national
    "TRK,Road Freight,Industrials,Trucking,Boise,ID,United States,20000,"
    '"Road Freight runs trucks in Idaho, Oregon and Washington."\n'
)


def companies_from(tmp_path: Path, rows: str) -> dict[str, Organisation]:
    """The companies of these CSV rows (HEADER's columns), imported as an analyst would."""
    path = tmp_path / "companies.csv"
    path.write_text(HEADER + rows)
    batch = read("companies", path)
    assert not batch.rejected
    return {o.id: o for o in batch.organisations}


def _companies(tmp_path: Path) -> dict[str, Organisation]:
    return companies_from(tmp_path, ROWS)


def region_filter(orgs: dict[str, Organisation]) -> Callable[[str], set[str]]:
    """The ids of `orgs` a business filter on a region (in the US) lets through."""
    rows = list(orgs.values())
    catalog = Catalog(2)
    catalog.upsert(list(range(len(rows))), rows, np.ones((len(rows), 2), np.float32))
    ids = catalog.ids_by_position()

    def passing(region: str) -> set[str]:
        mask = catalog.mask(Filters(sectors=[Sector.business], region=region, country="US"))
        return {str(ids[i]) for i in mask.nonzero()[0]}

    return passing


def test_a_regulated_utility_serves_the_states_its_summary_names(tmp_path: Path) -> None:
    orgs = _companies(tmp_path)
    assert orgs["ticker-NEU"].service_regions == ["MA", "CT", "NH"]
    assert orgs["ticker-GAS"].service_regions == ["KS"]
    assert orgs["ticker-TRK"].service_regions == []
    passing = region_filter(orgs)
    # the utility is no partner for a need in Vermont; the trucking company works nationwide
    assert passing("VT") == {"ticker-TRK"}
    assert passing("CT") == {"ticker-NEU", "ticker-TRK"}
    assert passing("Kansas") == {"ticker-GAS", "ticker-TRK"}


def test_its_card_names_the_states_it_serves_not_nationwide(tmp_path: Path) -> None:
    orgs = _companies(tmp_path)
    prof = make_profile(orgs["ticker-NEU"])
    need = Need(text="Insulate old homes", city="Hartford", region="CT", country="US")
    s = Scored(0, 0.5, {"fit": 0.5}, None, {}, {})
    reasons = reasons_for(s, prof, need, {})
    assert "Serves MA, CT, NH only: its area includes Hartford." in reasons
    assert not any("nationwide" in r for r in reasons)


def test_state_names_are_read_from_where_it_operates_only() -> None:
    from training.importers.companies import is_territorial, named_states, served_regions

    text = (
        "It sells power in the Carolinas and Florida, and gas in Michigan City. "
        "It was incorporated in Delaware and is headquartered in Charlotte, North Carolina. "
        "It has an office in Washington, D.C."
    )
    assert named_states(text) == ["NC", "SC", "FL"]
    assert is_territorial("Utilities - Diversified") and is_territorial("Water Utilities")
    assert not is_territorial("Utilities - Renewable") and not is_territorial("Trucking")
    assert served_regions("Railroads", text, "NC") == []


def test_a_radius_search_keeps_a_utility_to_the_states_it_serves(tmp_path: Path) -> None:
    """A need with a town is searched by radius: a limited utility passes where it serves the
    town's state, not as nationwide and not because its office is near across a state line."""
    from matcher.engine import Engine
    from matcher.settings import Settings

    rows = list(_companies(tmp_path).values())
    catalog = Catalog(2)
    catalog.upsert(list(range(len(rows))), rows, np.ones((len(rows), 2), np.float32))
    ids = catalog.ids_by_position()

    def passing(near: tuple[float, float], radius: float, state: str | None) -> set[str]:
        f = Filters(sectors=[Sector.business], near=near, radius_km=radius, near_region=state)
        return {str(ids[i]) for i in catalog.mask(f).nonzero()[0]}

    brattleboro, new_london, wichita = (42.85, -72.56), (41.36, -72.10), (37.69, -97.34)
    # Springfield, MA is 75 km from Brattleboro, VT, but the utility does not serve Vermont
    assert passing(brattleboro, 100, "VT") == {"ticker-TRK"}
    # New London, CT is 110 km from its office, and in a state it serves
    assert passing(new_london, 30, "CT") == {"ticker-NEU", "ticker-TRK"}
    # the point's state unknown: only its office decides
    assert passing(wichita, 50, None) == {"ticker-TRK"}
    assert passing(wichita, 50, "KS") == {"ticker-GAS", "ticker-TRK"}

    engine = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    try:
        engine.ingest(rows)
        engine.build()
        only = Filters(sectors=[Sector.business])
        wanted = {"Brattleboro, VT": {"ticker-TRK"}, "New London, CT": {"ticker-NEU", "ticker-TRK"}}
        for place, want in wanted.items():
            need = Need(text="Insulate old homes: energy upgrades", place=place, radius_km=30)
            assert {m.id for m in engine.recommend(need, filters=only).results} == want, place
    finally:
        engine.close()
