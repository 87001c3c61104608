"""Where an imported regional bank or homebuilder works: the states its summary lists as where
its branches are or it operates, else the whole country (synthetic companies written here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_company_areas import companies_from, region_filter

from matcher.catalog import make_profile
from matcher.domain import Filters, Need, Organisation, Sector
from matcher.score import Scored, reasons_for

ROWS = (
    # a regional bank listing its branches' states (its seat, Ohio, among them)
    "RBK,Lakeshore Bancorp,Financial Services,Banks - Regional,Akron,OH,United States,9000,"
    '"Lakeshore Bancorp provides banking services in the United States. It operates 300 '
    "branches in New York, Western Pennsylvania and Ohio. The company was founded in 1850 and "
    'is headquartered in Akron, Ohio."\n'
    # a regional bank whose summary names no state it operates in: national
    "PLN,Plain Bank,Financial Services,Banks - Regional,Dayton,OH,United States,12000,"
    '"Plain Bank provides retail and commercial banking services in the United States. It was '
    'incorporated in Delaware and is headquartered in Dayton, Ohio."\n'
    # customers across the country: national, whatever its branches
    "WID,Wide Bank,Financial Services,Banks\u2014Regional,Tulsa,OK,United States,8000,"
    '"Wide Bank operates branches in Oklahoma and Kansas, and lends to customers across the '
    'United States."\n'
    # a homebuilder listing the states it serves, the capital last
    "HMB,Tidewater Homes,Consumer Cyclical,Residential Construction,Reston,VA,United States,"
    '6000,"Tidewater Homes builds single-family homes. The company primarily serves in '
    'Maryland, Virginia, Eastern Pennsylvania, and Washington, D.C."\n'
    # a homebuilder whose segments are named after a state: national
    "SEG,Compass Homes,Consumer Cyclical,Residential Construction,Miami,FL,United States,"
    '7000,"Compass Homes operates through Homebuilding East, Homebuilding Texas and '
    'Homebuilding West segments."\n'
)


def _companies(tmp_path: Path) -> dict[str, Organisation]:
    return companies_from(tmp_path, ROWS)


def test_a_regional_bank_serves_the_states_of_its_branches(tmp_path: Path) -> None:
    orgs = _companies(tmp_path)
    assert orgs["ticker-RBK"].service_regions == ["OH", "NY", "PA"]
    assert orgs["ticker-HMB"].service_regions == ["VA", "MD", "PA", "DC"]
    for national in ("ticker-PLN", "ticker-WID", "ticker-SEG"):
        assert orgs[national].service_regions == [], national
    passing = region_filter(orgs)
    everywhere = {"ticker-PLN", "ticker-WID", "ticker-SEG"}
    assert passing("VT") == everywhere
    assert passing("NY") == everywhere | {"ticker-RBK"}
    assert passing("PA") == everywhere | {"ticker-RBK", "ticker-HMB"}
    assert passing("DC") == everywhere | {"ticker-HMB"}


def test_its_card_names_the_states_of_its_branches(tmp_path: Path) -> None:
    prof = make_profile(_companies(tmp_path)["ticker-RBK"])
    need = Need(text="Small loans for new bakeries", city="Buffalo", region="NY", country="US")
    reasons = reasons_for(Scored(0, 0.5, {"fit": 0.5}, None, {}, {}), prof, need, {})
    assert "Serves OH, NY, PA only: its area includes Buffalo." in reasons
    assert not any("nationwide" in r for r in reasons)


@pytest.mark.parametrize(
    ("summary", "want"),
    [
        ("It operates branches in New York, Pennsylvania, and Ohio.", ["NY", "PA", "OH"]),
        ("Its 120 banking offices in Maine and New Hampshire serve families.", ["ME", "NH"]),
        ("It serves customers in parts of Ohio and the Commonwealth of Kentucky.", ["OH", "KY"]),
        ("It has a branch network in the Carolinas.", ["NC", "SC"]),
        ("It operates branches in Southeastern Pennsylvania and New Jersey.", ["PA", "NJ"]),
        # a city's state, named for an office, is no footprint
        ("It operates loan production offices in Chicago, Illinois.", None),
        ("It also has offices in Denver, Colorado.", None),
        # a list that runs on into a wider region or a country
        ("It operates branches in Pennsylvania, Ohio, and the Mid-Atlantic.", None),
        ("It operates branches in Texas and Mexico.", None),
        ("It operates branches in the United States and Puerto Rico.", None),
        ("It operates branches in Texas. It serves businesses in the Southeast.", None),
        ("It provides banking in the Mid-Atlantic; its branches in Maryland serve many.", None),
        # across the country
        ("It operates branches in Ohio; it lends nationwide.", None),
        ("Its branches in Iowa serve clients throughout the United States.", None),
        # where it is headquartered or incorporated only
        ("It is headquartered in Columbus, Ohio, and incorporated in Delaware.", None),
        ("It provides banking services in the United States.", None),
        ("It operates through Homebuilding Texas and Homebuilding Florida segments.", None),
    ],
)
def test_a_footprint_is_a_list_of_states_where_it_operates(
    summary: str, want: list[str] | None
) -> None:
    from training.importers.territory import footprint_states

    assert footprint_states(summary) == want


def test_only_banks_and_homebuilders_are_read_for_a_footprint() -> None:
    from training.importers.territory import served_regions, works_in_a_footprint

    text = "It operates branches in New York and Vermont."
    for industry in ("Banks - Regional", "Banks\u2013Regional", "Regional Banks", "Homebuilding"):
        assert works_in_a_footprint(industry), industry
        assert served_regions(industry, text, "NY") == ["NY", "VT"], industry
    # a national lender with a few branches, a diversified bank, a trucking company: national
    for industry in ("Credit Services", "Banks - Diversified", "Trucking"):
        assert served_regions(industry, text, "NY") == [], industry
    # a footprint needs a listed state: the home state alone does not limit a bank
    assert served_regions("Banks - Regional", "It provides banking services.", "NY") == []


def test_a_need_outside_a_banks_states_does_not_list_it(tmp_path: Path) -> None:
    from matcher.engine import Engine
    from matcher.settings import Settings

    rows = list(_companies(tmp_path).values())
    engine = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    try:
        engine.ingest(rows)
        engine.build()
        only = Filters(sectors=[Sector.business])
        found = {}
        for place in ("Burlington, VT", "Buffalo, NY"):
            need = Need(text="Bank branches lending to small businesses", place=place)
            found[place] = {m.id for m in engine.recommend(need, filters=only, limit=10).results}
        assert "ticker-RBK" not in found["Burlington, VT"]
        assert "ticker-RBK" in found["Buffalo, NY"]
    finally:
        engine.close()
