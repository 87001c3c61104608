"""Importers geocode (a ZIP that does not geocode is a per-row warning, the row is kept) and
set service levels: IRS local or state, companies national, federal agencies national."""

from __future__ import annotations

from pathlib import Path

from matcher import places
from matcher.loaders import load_records
from training.importers import read
from training.importers.irs import service_level

IRS = (
    "ein,name,city,state,zip,ntee_code,revenue,mission\n"
    "05-0000001,Rhode Island Community Food Bank,PROVIDENCE,RI,02907-3106,K31,1,"
    "WE DISTRIBUTE FOOD TO PANTRIES.\n"
    "05-0000002,Pawtucket Kids Club,PAWTUCKET,RI,02860,O20,1,AFTER-SCHOOL CARE.\n"
    "05-0000003,Lost Zip Pantry,NOWHERE,RI,00000,K31,1,FOOD.\n"
    "05-0000004,Helping Hands,NEWPORT,RI,02840,P20,1,WE SERVE FAMILIES STATEWIDE.\n"
)
COMPANIES = (
    "symbol,name,sector,industry,city,state,country,employees,summary\n"
    "DOV,Dover Corporation,Industrials,Machinery,Downers Grove,IL,United States,25000,Pumps.\n"
    "SML,Small Shop,Retail,Shops,Providence,RI,United States,12,Groceries.\n"
)
PROGRAMS = (
    "program_id,name,popular_name,program_type,top_agency,sub_agency,objective,applicant_types,"
    "beneficiary_types,assistance_types,categories\n"
    "10.1,Farm Help,,assistance_listing,Department of Agriculture,,To help farmers.,State,,"
    "Project Grants,\n"
)


def _w(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_irs_geocodes_warns_and_sets_levels(tmp_path: Path) -> None:
    batch = read("irs", _w(tmp_path, "irs.csv", IRS))
    orgs = {o.name: o for o in batch.organisations}
    assert len(orgs) == 4 and not batch.rejected  # the bad ZIP row is still imported
    bank = orgs["Rhode Island Community Food Bank"]
    assert bank.lat is not None and (bank.region, bank.country) == ("RI", "US")
    assert bank.service_level is not None and bank.service_level.value == "state"
    assert orgs["Helping Hands"].service_level.value == "state"  # type: ignore[union-attr]
    assert orgs["Pawtucket Kids Club"].service_level.value == "local"  # type: ignore[union-attr]
    lost = orgs["Lost Zip Pantry"]
    assert lost.lat is None
    [warning] = batch.warnings
    assert (warning.row, warning.column) == (3, "zip") and "00000" in warning.reason
    assert "1 warnings" in batch.summary()


def test_statewide_reach_from_the_name() -> None:
    assert service_level("Oregon Food Bank", "", "OR") == "state"
    assert service_level("Delaware Valley Arts", "", "DE") == "local"
    assert service_level("Kansas City Youth", "", "KS") == "local"
    assert service_level("Oregon Food Bank", "", "WA") == "local"
    assert service_level("Small Pantry", "We serve families across the state.", "RI") == "state"


def test_companies_national_with_home_state(tmp_path: Path) -> None:
    batch = read("companies", _w(tmp_path, "c.csv", COMPANIES))
    orgs = {o.id: o for o in batch.organisations}
    dover = orgs["ticker-DOV"]
    assert dover.service_level is not None and dover.service_level.value == "national"
    assert (dover.region, dover.country) == ("IL", "US") and dover.lat is not None
    assert orgs["ticker-SML"].service_level.value == "local"  # type: ignore[union-attr]


def test_federal_agencies_are_national(tmp_path: Path) -> None:
    batch = read("federal-programs", _w(tmp_path, "p.csv", PROGRAMS))
    [agency] = batch.organisations
    assert agency.service_level is not None and agency.service_level.value == "national"
    assert agency.country == "US"


def test_loader_accepts_service_level_and_warns_per_row(tmp_path: Path) -> None:
    csv = (
        "id,name,sector,description,postcode,region,country,service_level\n"
        "a,A,nonprofit,Food,02903,Rhode Island,USA,State\n"
        "b,B,nonprofit,Food,00000,RI,US,\n"
        "c,C,nonprofit,Food,02903,RI,US,galactic\n"
    )
    report = load_records(_w(tmp_path, "o.csv", csv), kind="organisation")
    a, b = report.organisations()
    assert a.service_level is not None and a.service_level.value == "state"
    assert (a.region, a.country, a.lat) == ("RI", "US", places.resolve("02903").lat)
    assert b.lat is None
    assert [(w.row, w.column) for w in report.warnings] == [(2, "postcode")]
    assert [(e.row, e.column) for e in report.rejected] == [(3, "service_level")]


def test_need_rows_with_unknown_places_are_rejected_by_row(tmp_path: Path) -> None:
    csv = 'id,text,place\nn1,We need food,"Providence, RI"\nn2,We need food,Portland\n'
    report = load_records(_w(tmp_path, "n.csv", csv), kind="need")
    [need] = report.needs()
    assert (need.region, need.city) == ("RI", "Providence")
    [err] = report.rejected
    assert err.row == 2 and err.column == "place" and "Portland, OR" in err.reason


def test_federal_agencies_keep_their_short_name(tmp_path: Path) -> None:
    """The registry names USDA "Agriculture Department": its `short_name` is kept, so finding
    "USDA" by name finds it (tests/api/test_api_find_pages.py); a short name too long to be
    one, or the name again, is not kept."""
    agencies = (
        "id,name,short_name,parent_name,agency_url,description\n"
        "12,Agriculture Department,USDA,,,The Department of Agriculture works on farms.\n"
        "15,Air Board,Air Board,,,An air board.\n"
        f"16,Long Board,{'L' * 40},,,A board with a long short name.\n"
    )
    batch = read("federal-agencies", _w(tmp_path, "a.csv", agencies))
    short = {o.name: o.short_name for o in batch.organisations}
    assert short == {"Agriculture Department": "USDA", "Air Board": None, "Long Board": None}
