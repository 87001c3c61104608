"""Registry importers on small files written here, and on ../shared/data when present."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from matcher import capabilities
from matcher.cli import main
from matcher.engine import Engine
from matcher.errors import ValidationError
from matcher.loaders import load_records
from matcher.settings import Settings
from training.importers import read, store_batch
from training.importers.federal_programs import (
    FUNDING_OFFER,
    applicant_sectors,
    programme_offers,
    required_capabilities,
)
from training.importers.giving360 import funder_sector
from training.importers.irs import NTEE_MAJOR, focus_areas, infer_offers, says_defunct

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

IRS = (
    "ein,name,city,state,zip,ntee_code,revenue,mission,street\n"
    "01-0017496,Harbor Food Pantry,YORK HARBOR,ME,03911-0534,K31,100,"
    "WE PROVIDE FOOD AND VOLUNTEER DRIVERS TO FAMILIES.,1 Main St\n"
    "010017497,Quiet Lodge,PORTLAND,ME,04101,,5,,\n"
    "12-34,Bad Ein,X,ME,1,,1,Text,\n"
    "01-0017496,Duplicate,X,ME,1,,1,Text,\n"
    "02-0000001,Dash Mission,X,VT,1,B20,1,- Teaching children to read,\n"
)
GRANTS = (
    "grant_id,funder_id,funder_name,recipient_id,recipient_name,recipient_org_type,"
    "recipient_locality,title,description,amount_awarded,currency,award_date,grant_programme,"
    "description_is_placeholder\n"
    "g1,GB-CHC-1,Acme Foundation,GB-CHC-9,Food Hub,Registered charity,Leeds,Food project,"
    "Meals for older people,5000,GBP,17/03/2014,Main,False\n"
    "g2,GB-CHC-1,Acme Foundation,GB-COH-8,Code Ltd,Private Limited Company,,Tech,Dummy,"
    "100,GBP,2015-06-10T00:00:00+00:00,,True\n"
    "g3,E08000009,Trafford Metropolitan Borough Council,GB-CHC-9,Food Hub,,Leeds,Winter,"
    "Warm spaces,250,GBP,08/2013,,False\n"
    "g4,GB-CHC-1,Acme Foundation,,No Id,,,T,D,1,GBP,2014-01-01,,False\n"
    "g5,GB-CHC-1,Acme Foundation,GB-CHC-7,Seven,,,T,D,05/12/2014,GBP,GBP,,False\n"
    "g1,GB-CHC-1,Acme Foundation,GB-CHC-9,Food Hub,,,Again,D,1,GBP,2014-01-01,,False\n"
)
PROGRAMS = (
    "program_id,name,popular_name,program_type,top_agency,sub_agency,objective,applicant_types,"
    "beneficiary_types,assistance_types,categories\n"
    '10.1,Farm Help,,assistance_listing,Department of Agriculture,Farm Service,"To help farmers.",'
    '"Private nonprofit institution/organization (includes institutions of higher education and '
    'hospitals)|Small business (less than 500 employees)|Individual/Family",,'
    "Project Grants|Training,Agriculture - Farming\n"
    "10.2,Tribal Roads,,assistance_listing,Department of Agriculture,,To build roads.,"
    "Federally Recognized Indian Tribal Governments|Non-Government - General,,Project Grants,\n"
    "10.3,No Objective,,assistance_listing,Department of Agriculture,,,State,,,\n"
    "TC.1,Exclusion of benefits,,tax_expenditure,Department of the Treasury,"
    "Internal Revenue Service (IRS),Under the baseline tax system all pay is taxable.,,,"
    "Tax Expenditures,Tax Expenditures - Commerce and Housing\n"
)
COMPANIES = (
    "symbol,name,sector,industry,city,state,country,employees,summary\n"
    "AAA,Alpha Corp,Technology,Software,Austin,TX,United States,161000,"
    "Alpha provides software and training to schools.\n"
    "BBB,Beta Ltd,Industrials,Tools,Dublin,,Ireland,40,\n"
    "CCC,Gamma,Energy,Oil,X,,Atlantis,10,Energy.\n"
    "DDD,Delta,Energy,Oil,X,,US,many,Energy.\n"
)


def _w(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return p


@pytest.fixture()
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    eng = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    yield eng
    eng.close()


def test_ntee_map_has_26_letters() -> None:
    assert sorted(NTEE_MAJOR) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert focus_areas("K31") == ["food, agriculture and nutrition"]
    assert focus_areas("Z99") == [] and focus_areas("") == []


def test_offers_are_inferred_lightly() -> None:
    assert infer_offers("We provide food parcels and volunteer drivers.") == [
        "food supply",
        "volunteers",
    ]
    assert infer_offers("It is a club for sailing.") == []  # no offer verb, no " it " match


def test_irs_rows(tmp_path: Path) -> None:
    batch = read("irs", _w(tmp_path, "irs.csv.gz", IRS))
    ids = [o.id for o in batch.organisations]
    assert ids == ["ein-010017496", "ein-010017497", "ein-020000001"]
    pantry = batch.organisations[0]
    assert pantry.sector.value == "nonprofit" and pantry.city == "York Harbor"
    assert pantry.region == "ME" and pantry.postcode == "03911-0534" and pantry.country == "US"
    assert pantry.focus_areas == ["food, agriculture and nutrition"]
    assert "food supply" in pantry.offers and "volunteers" in pantry.offers
    assert pantry.contact == "1 Main St"
    quiet = batch.organisations[1]
    assert "US tax-exempt organisation in Portland, ME" in quiet.description
    errors = {e.row: e for e in batch.rejected}
    assert errors[3].column == "ein" and "not an EIN" in errors[3].reason
    assert errors[4].column == "ein" and "duplicate EIN 010017496 (first at row 1)" in (
        errors[4].reason
    )
    # a mission's bullet dash is dropped, not the row (8 real missions start so: a registry's
    # file is not the analyst's to edit); a formula is rejected (below)
    assert 5 not in errors
    assert batch.organisations[2].description == "Teaching children to read"


def test_a_mission_that_says_the_organisation_stopped_imports_it_inactive(
    tmp_path: Path,
) -> None:
    """A real-data walk (2026-12-04) was pointed to "Fund for Mental Health" for emergency rent
    money; its mission ends "THE CORPORATION IS CURRENTLY INACTIVE". Such a profile is kept
    but inactive (never recommended); a mission that only uses the words otherwise is not."""
    for mission in (
        "TO HOLD DONATIONS FOR A CLINIC. THE CORPORATION IS CURRENTLY INACTIVE.",
        "Retirement community for the elderly (inactive as of May 1, 2014)",
        "TO PROVIDE LONG TERM CARE SERVICES (INACTIVE).",
        "THE ORGANIZATION HAS CEASED OPERATIONS AND IS IN THE PROCESS OF LIQUIDATING.",
        "As of May 2023, we have dissolved. Our website will remain up through 2025.",
        "FORMER COUNTRY CLUB NO LONGER OPERATING.",
        # helper-75's walk (2026-12-06): Foodshare came first for a Wallingford pantry
        "PLEASE NOTE! Foodshare is no longer an operating organization. In January 2021, "
        "Foodshare and Connecticut Food Bank merged operations.",
        "The Lodge Ceased All Operations May 31,2018",
        "The Chapter has closed as of September 2017, but the national office will serve you.",
        "CAHS merged with ACT on 1/1/2023. Services previously provided by CAHS are now being "
        "provided by ACT.",
    ):
        assert says_defunct(mission), mission
    for mission in (
        "To promote and fund voter registration and to activate inactive voters",
        "Assistance for needy teachers who are no longer active in the teaching community",
        "Concordia University Portland ceased operations July 31, 2021. The Foundation "
        "continues the legacy of Concordia University with scholarships.",
        "We provide food and volunteer drivers to families.",
        "To find homes for retired greyhounds that can no longer compete on the racetrack.",
        "Our shelter has closed in winter for repairs in the past; we are open all year now.",
    ):
        assert not says_defunct(mission), mission
    rows = (
        "ein,name,city,state,zip,ntee_code,revenue,mission\n"
        "05-0398269,Fund for Mental Health,WARWICK,RI,02886,,0,"
        "TO HOLD DONATIONS. THE CORPORATION IS CURRENTLY INACTIVE.\n"
        "01-0017496,Harbor Food Pantry,YORK HARBOR,ME,03911,K31,100,WE PROVIDE FOOD.\n"
    )
    batch = read("irs", _w(tmp_path, "irs.csv", rows))
    assert [o.active for o in batch.organisations] == [False, True]


def test_missing_required_column(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ein"):
        read("irs", _w(tmp_path, "x.csv", "name,city\nA,B\n"))


IRS_HEADER = "ein,name,city,state,zip,ntee_code,revenue,mission\n"


def test_irs_rejects_formula_cells_as_the_generic_ingest_does(tmp_path: Path) -> None:
    """An analyst's walk: `=HYPERLINK(...)` in a mission was stored with the '=' stripped, while
    `matcher train ingest` rejects the cell. Both now reject it, with the same reason."""
    formula = '"=HYPERLINK(""http://x"",""y"")"'
    irs = read(
        "irs",
        _w(
            tmp_path,
            "irs.csv",
            IRS_HEADER
            + f"01-0000001,Linked Pantry,Portland,ME,04101,K31,10,{formula}\n"
            + "01-0000002,Plain Pantry,Portland,ME,04101,K31,-10,We feed families.\n"
            + "01-0000003,@Handle Club,Portland,ME,04101,N60,10,Sports.\n",
        ),
    )
    generic = load_records(
        _w(tmp_path, "orgs.csv", f"name,sector,description\nLinked Pantry,nonprofit,{formula}\n")
    )
    assert [o.name for o in irs.organisations] == ["Plain Pantry"]  # a negative revenue is fine
    by_row = {e.row: e for e in irs.rejected}
    assert (by_row[1].column, by_row[1].reason) == ("mission", generic.rejected[0].reason)
    assert by_row[1].reason.startswith("cell starts with '='")
    assert by_row[3].column == "name" and "formula" in by_row[3].reason


def test_irs_missing_expected_column_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A file without a state or ntee_code column (the BMF's own NTEE_CD, say) was imported
    without a word, every profile losing them. A file without a state is refused, naming it;
    any other column missing (the BMF's extracts carry no mission) is one line saying what
    the profiles lose."""
    no_state = _w(tmp_path, "a.csv", "ein,name,city,zip,ntee_cd,revenue,mission\n1,A,B,1,K31,1,M\n")
    with pytest.raises(ValidationError, match=r"required column\(s\) state \(it has"):
        read("irs", no_state)
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "import"]
    assert main([*base, "irs", str(no_state), "--dry-run"]) == 2
    assert "state" in capsys.readouterr().err
    # the BMF's own extract: NTEE_CD for ntee_code (helper-82's walk: "no ntee_code column
    # ... (the BMF calls it NTEE_CD)" beside the very column), and no mission
    bmf = "EIN,NAME,CITY,STATE,ZIP,NTEE_CD\n01-0000001,A Pantry,Portland,ME,04101,K31\n"
    batch = read("irs", _w(tmp_path, "bmf.csv", bmf))
    assert [o.name for o in batch.organisations] == ["A Pantry"]
    assert batch.organisations[0].focus_areas == ["food, agriculture and nutrition"]
    lost = " | ".join(batch.file_warnings)
    assert "ntee" not in lost and "no mission column" in lost, lost
    no_code = read(
        "irs", _w(tmp_path, "nocode.csv", bmf.replace(",NTEE_CD", "").replace(",K31", ""))
    )
    assert "no ntee_code or ntee_cd column: no cause code" in " | ".join(no_code.file_warnings)
    ok = IRS_HEADER + "01-0000001,A Pantry,Portland,ME,04101,K31,10,We feed families.\n"
    batch = read("irs", _w(tmp_path, "b.csv", ok))
    assert len(batch.organisations) == 1 and not batch.warnings
    assert batch.file_warnings == [
        "no street, address, address1 or street_address column: "
        "the profiles get no street address (contact)"
    ]
    with_street = ok.replace("mission\n", "mission,address\n").replace(".\n", ".,1 Main St\n")
    batch = read("irs", _w(tmp_path, "c.csv", with_street))
    assert not batch.file_warnings and batch.organisations[0].contact == "1 Main St"
    # revenue is optional: not stored, nothing lost without it
    no_revenue = ok.replace(",revenue", "").replace(",10,", ",")
    assert len(read("irs", _w(tmp_path, "d.csv", no_revenue)).organisations) == 1


def test_irs_bad_codes_revenue_and_zips_keep_the_row_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Bad NTEE codes, revenue that is no number and ZIP codes that are not 5 or 9 digits were
    dropped without a word; the row is kept and each is a warning naming row and column."""
    path = _w(
        tmp_path,
        "irs.csv",
        IRS_HEADER
        + "01-0000001,Nine Club,Portland,ME,04101,9ZZ,10,Sports.\n"
        + "01-0000002,Tick Club,Portland,ME,04101,Q9`x,lots,Sports.\n"
        + "01-0000003,Long Zip,Portland,ME,041011,K31,10,Food.\n"
        + "01-0000004,Lost Zero,Portland,ME,4101,K31,1,Food.\n"
        + "01-0000005,Nine Digits,Portland,ME,041012345,A6B,1,Arts.\n"
        + "01-0000006,Fine,Portland,ME,04101-2345,P20Z,1e3,Help.\n",
    )
    batch = read("irs", path)
    orgs = {o.name: o for o in batch.organisations}
    assert len(orgs) == 6 and not batch.rejected
    got = {(w.row, w.column): w.reason for w in batch.warnings}
    assert sorted(got) == [
        (1, "ntee_code"),
        (2, "ntee_code"),
        (2, "revenue"),
        (3, "zip"),
        (4, "zip"),
    ]
    assert got[(1, "ntee_code")].startswith("not an NTEE code: '9ZZ'")
    assert "not an NTEE code: 'Q9`x'" in got[(2, "ntee_code")]
    assert got[(2, "revenue")] == "not a number: 'lots'"
    assert got[(3, "zip")].startswith("not a ZIP code: '041011' (expected 5 or 9 digits")
    assert "read as '04101'" in got[(4, "zip")]
    # a bad code gives no focus area nor cause; a bad ZIP is not stored, the city places it
    assert orgs["Tick Club"].focus_areas == [] and orgs["Tick Club"].cause_code is None
    assert orgs["Long Zip"].postcode is None and orgs["Long Zip"].lat is not None
    assert orgs["Lost Zero"].postcode == "04101"
    assert orgs["Nine Digits"].postcode == "04101-2345" and orgs["Nine Digits"].focus_areas
    # a revenue of "-" (accounting's blank) is no formula and no bad number (helper-82's walk:
    # it rejected the row as "possible formula injection")
    dash = read(
        "irs",
        _w(tmp_path, "dash.csv", IRS_HEADER + "01-0000008,Dash,Portland,ME,04101,K31,-,Food.\n"),
    )
    assert [o.name for o in dash.organisations] == ["Dash"] and not dash.warnings
    # a code cut short (4 rows of the dev file: 'S4', 'G8') keeps its major group's focus
    cut = read(
        "irs", _w(tmp_path, "cut.csv", IRS_HEADER + "01-0000007,Cut,Portland,ME,04101,S4,1,Help.\n")
    )
    assert cut.organisations[0].focus_areas == ["community improvement and capacity building"]
    assert "cut short" in cut.warnings[0].reason and cut.warnings[0].column == "ntee_code"
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "import"]
    assert main([*base, "irs", str(path), "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {(w["row"], w["column"]) for w in out["warnings"]} == set(got)
    kinds = {
        (p["column"], p["rows"], tuple(p["example_rows"])) for p in out["problems"]["warnings"]
    }
    assert kinds == {
        ("ntee_code", 2, (1, 2)),
        ("revenue", 1, (2,)),
        ("zip", 1, (3,)),
        ("zip", 1, (4,)),
    }
    assert main([*base, "irs", str(path), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "warning: row 2, column 'revenue': not a number: 'lots'" in text
    assert "warning: column 'ntee_code', 2 rows, e.g. row 1: not an NTEE code: '9ZZ'" in text


def test_irs_warnings_on_many_rows_are_summarised_not_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A file opened and saved in a spreadsheet loses every ZIP's leading zero: one line says
    how many rows and shows a few, the JSON lists them all."""
    rows = "".join(f"01-{i:07d},Club {i},Portland,ME,4101,N60,{i},Sports.\n" for i in range(1, 301))
    path = _w(tmp_path, "irs.csv", IRS_HEADER + rows)
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "import"]
    assert main([*base, "irs", str(path), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    zips = [line for line in lines if "ZIP" in line or line.strip().startswith("also")]
    assert len(zips) == 2, lines
    assert "column 'zip', 300 rows, e.g. row 1: ZIP code '4101' has 4 digits" in zips[0]
    assert zips[1].strip() == "also row 2 ('4101', '04101'), row 3 ('4101', '04101') and 297 more"
    assert main([*base, "irs", str(path), "--dry-run", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["warnings"]) == 300


def test_irs_short_and_long_rows_are_both_rejected_naming_the_row(tmp_path: Path) -> None:
    """A row with fewer cells than the header was read with blanks, one with more rejected;
    both are rejected now (a cell lost, or a line break or comma in an unquoted cell)."""
    batch = read(
        "irs",
        _w(
            tmp_path,
            "irs.csv",
            IRS_HEADER
            + "01-0000001,Short,Portland,ME,04101,K31\n"
            + "01-0000002,Long,Portland,ME,04101,K31,1,Food,surprise\n"
            + "01-0000003,Trailing Commas,Portland,ME,04101,K31,1,Food,,\n",
        ),
    )
    assert [o.name for o in batch.organisations] == ["Trailing Commas"]
    assert [str(e) for e in batch.rejected] == [
        "row 1: has 6 cells but the header has 8 (cells missing, or a line break in an unquoted "
        "cell split a row)",
        "row 2: has 9 cells but the header has 8",
    ]


def test_irs_latin1_file_names_row_byte_and_how_to_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A Windows-1252 file said only "invalid UTF-8" on each row with an accent: now the row,
    column and byte, the text as Windows-1252 reads it, and once how to convert the file."""
    text = (
        IRS_HEADER
        + "01-0000001,Café Pantry,Portland,ME,04101,K31,1,Food.\n"
        + "01-0000002,Plain Pantry,Portland,ME,04101,K31,1,Food.\n"
        + "01-0000003,Niños Club,Portland,ME,04101,O20,1,We serve children’s needs.\n"
    )
    path = tmp_path / "irs.csv"
    path.write_bytes(text.encode("cp1252"))
    batch = read("irs", path)
    assert [o.name for o in batch.organisations] == ["Plain Pantry"]
    assert [str(e) for e in batch.rejected] == [
        "row 1, column 'name': invalid UTF-8: byte 0xE9 ('Café Pantry' if read as Windows-1252)",
        "row 3, column 'name': invalid UTF-8: byte 0xF1 ('Niños Club' if read as Windows-1252)",
    ]
    [advice] = [w for w in batch.file_warnings if "UTF-8" in w]
    assert advice.startswith("2 rows are not valid UTF-8 and were rejected; the file looks ")
    assert "Latin-1 / Windows-1252" in advice
    assert "iconv -f WINDOWS-1252 -t UTF-8 irs.csv > irs-utf8.csv" in advice
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "import"]
    assert main([*base, "irs", str(path), "--dry-run", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert advice in out["file_warnings"]
    assert [(r["row"], r["column"]) for r in out["rejected"]] == [(1, "name"), (3, "name")]
    gz = tmp_path / "irs.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("cp1252")))
    assert "gunzip -c irs.csv.gz | iconv -f WINDOWS-1252 -t UTF-8 > irs-utf8.csv" in " ".join(
        read("irs", gz).file_warnings
    )
    header = tmp_path / "h.csv"
    header.write_bytes("ein,name,city,state,zip,ntee_code,revenue,mission,rés\n".encode("cp1252"))
    with pytest.raises(ValidationError, match=r"header row is not valid UTF-8 \(byte 0xE9.*iconv"):
        read("irs", header)


def test_360giving(tmp_path: Path) -> None:
    batch = read("360giving", _w(tmp_path, "grants.csv", GRANTS))
    orgs = {o.id: o for o in batch.organisations}
    assert orgs["GB-CHC-1"].sector.value == "nonprofit"
    assert orgs["E08000009"].sector.value == "government"
    assert orgs["GB-COH-8"].sector.value == "business"
    assert "funded by Acme Foundation, Trafford" in orgs["GB-CHC-9"].description
    assert orgs["GB-CHC-9"].city == "Leeds" and orgs["GB-CHC-9"].country == "GB"
    grants = {p.id: p for p in batch.partnerships}
    assert sorted(grants) == ["g1", "g2", "g3"]
    g1 = grants["g1"]
    assert (g1.source_id, g1.partner_id, g1.amount, g1.outcome) == (
        "GB-CHC-1",
        "GB-CHC-9",
        5000.0,
        "funded",
    )
    assert g1.started_at is not None and g1.started_at.isoformat() == "2014-03-17T00:00:00+00:00"
    assert g1.text() == "Food project. Meals for older people"
    assert grants["g2"].description is None  # placeholder "Dummy" is dropped
    assert grants["g3"].started_at is not None and grants["g3"].started_at.month == 8
    errors = {e.row: e for e in batch.rejected}
    assert errors[4].column == "recipient_id"
    assert errors[5].column == "amount_awarded" and "not a number" in errors[5].reason
    assert errors[6].column == "grant_id" and "duplicate" in errors[6].reason
    assert funder_sector("GB-GOR-PB188", "The National Lottery Community Fund") == "government"
    assert funder_sector("GB-CHC-2", "Leeds City Council Trust") == "government"


def test_federal_programs(tmp_path: Path) -> None:
    batch = read("federal-programs", _w(tmp_path, "p.csv", PROGRAMS))
    orgs = {o.id: o for o in batch.organisations}
    assert set(orgs) == {
        "agency-department-of-agriculture",
        "agency-department-of-agriculture--farm-service",
    }
    assert all(o.sector.value == "government" for o in orgs.values())
    needs = {n.id: n for n in batch.needs}
    farm = needs["fpi-10.1"]
    assert farm.requester_id == "agency-department-of-agriculture--farm-service"
    assert [s.value for s in farm.wanted_sectors] == [
        "business",
        "nonprofit",
        "community",
        "academic",
    ]
    assert farm.required_capabilities == ["funding", "training"]
    assert farm.text.startswith("To help farmers.") and "Eligible applicants:" in farm.text
    roads = needs["fpi-10.2"]
    assert roads.requester_id == "agency-department-of-agriculture"
    assert [s.value for s in roads.wanted_sectors] == ["government", "nonprofit"]
    assert [(e.row, e.column) for e in batch.rejected] == [(3, "objective")]
    # a tax expenditure is no programme to join: flagged, no need, no agency made from it
    assert "fpi-TC.1" not in needs
    assert [(f.row, f.record_id) for f in batch.flagged] == [(4, "fpi-TC.1")]
    assert applicant_sectors(["State"]) == ["government"]
    assert required_capabilities(["Sale, Exchange, or Donation of Property or Goods"]) == [
        "equipment",
        "goods",
    ]


def test_an_agency_offers_what_its_programmes_are_for_not_what_one_title_names() -> None:
    # before: every agency offered "public programme funding" only, so a card said HUD does
    # not cover housing and shelter for a homeless shelter's need
    hud = [
        "Housing Choice Voucher Program",
        "Supportive Housing for the Elderly",
        "Emergency Housing Vouchers",
        *[f"Community Development Grant {i}" for i in range(17)],
    ]
    assert programme_offers(hud) == ["housing and shelter programmes"]
    # a word in one title of a large department is not its work (1 of 40 is under 5%)
    homeland = ["Intercity Bus Security Grants", *[f"Agency Grant {i}" for i in range(39)]]
    assert programme_offers(homeland) == []
    # a body of one programme offers what that programme is for
    assert programme_offers(["Emergency Food and Shelter National Board Program"]) == [
        "food supply programmes",
        "housing and shelter programmes",
    ]
    # Children and Families runs Head Start and child care grants (real inventory: 66 titles)
    acf = [
        "Child Care and Development Block Grant",
        "Child Care Disaster Relief",
        "Head Start",
        *[f"Family Programme {i}" for i in range(17)],
    ]
    assert programme_offers(acf) == ["child care and early learning programmes"]
    # an offer names no capability the titles do not: "environment and green spaces" read
    # facilities too until green spaces stopped naming space (2026-12-03), and now stands whole
    parks = ["Environmental Quality Incentives", "Conservation of Wetlands and Environment"]
    assert programme_offers(parks) == ["environment and green spaces programmes"]
    assert "facilities" not in capabilities.capabilities_in(programme_offers(parks)[0])


def test_federal_programme_agencies_list_their_programme_offers(tmp_path: Path) -> None:
    rows = ["program_id,name,top_agency,sub_agency,objective,assistance_types"]
    rows += [
        f"14.{i},Housing Voucher {i},Department of Housing,,To house families.,Grants"
        for i in range(3)
    ]
    batch = read("federal-programs", _w(tmp_path, "p.csv", "\n".join(rows) + "\n"))
    (hud,) = batch.organisations
    assert hud.offers == [FUNDING_OFFER, "housing and shelter programmes"]
    from matcher.catalog import Profile

    assert set(Profile(hud).offers) == {"funding", "public_programmes", "housing"}


def test_companies(tmp_path: Path) -> None:
    batch = read("companies", _w(tmp_path, "c.csv", COMPANIES))
    orgs = {o.id: o for o in batch.organisations}
    assert set(orgs) == {"ticker-AAA", "ticker-BBB"}
    alpha = orgs["ticker-AAA"]
    assert alpha.sector.value == "business" and alpha.size is not None
    assert alpha.size.value == "large" and alpha.country == "US"
    assert alpha.focus_areas == ["technology", "software"]
    beta = orgs["ticker-BBB"]
    assert beta.size is not None and beta.size.value == "small" and beta.country == "IE"
    assert beta.description == "Beta Ltd is a company (Tools, Industrials) based in Dublin."
    errors = {e.row: e for e in batch.rejected}
    assert errors[3].column == "country" and "Atlantis" in errors[3].reason
    assert errors[4].column == "employees" and "not a number" in errors[4].reason


def test_a_company_of_two_share_classes_is_imported_once(tmp_path: Path) -> None:
    """helper-72's walk (2026-12-06): the S&P 500 lists Alphabet (GOOG, GOOGL), Fox (FOXA,
    FOX) and News Corp (NWSA, NWS) twice, and each was shown twice on one page."""
    rows = COMPANIES + (
        "EEE,Alpha Corp,Technology,Software,Austin,TX,United States,161000,"
        "Alpha provides software and training to schools.\n"
        # one name, another business: another company
        "FFF,Alpha Corp,Industrials,Tools,Dublin,,Ireland,40,Alpha makes hand tools.\n"
    )
    batch = read("companies", _w(tmp_path, "c.csv", rows))
    ids = {o.id for o in batch.organisations}
    assert "ticker-AAA" in ids and "ticker-EEE" not in ids and "ticker-FFF" in ids
    again = {e.row: e for e in batch.rejected}[5]
    assert again.column == "symbol" and "another share class of 'ticker-AAA' (row 1)" in (
        again.reason
    )


def test_store_is_idempotent_and_searchable(tmp_path: Path, engine: Engine) -> None:
    batch = read("360giving", _w(tmp_path, "grants.csv", GRANTS))
    first = store_batch(engine.store, batch).as_dict()
    assert first["organisations"]["inserted"] == 4 and first["partnerships"]["inserted"] == 3
    again = store_batch(engine.store, read("360giving", tmp_path / "grants.csv")).as_dict()
    assert again["organisations"] == {"inserted": 0, "updated": 0, "unchanged": 4}
    assert again["partnerships"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    store_batch(engine.store, read("federal-programs", _w(tmp_path, "p.csv", PROGRAMS)))
    assert engine.store.count_organisations() == 6  # the grant organisations are kept
    engine.build()
    rec = engine.recommend(engine.store.get_need("fpi-10.1").record)
    assert rec.results  # imported needs and organisations go through the engine


def test_cli_import_limit_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _w(tmp_path, "irs.csv", IRS)
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "import"]
    assert main([*base, "irs", str(path), "--limit", "2", "--json", "--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 2 and out["organisations"] == 2 and out["stored"] == {}
    assert main([*base, "irs", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["stored"]["organisations"]["inserted"] == 3
    assert {r["row"] for r in out["rejected"]} == {3, 4}
    assert main([*base, "irs", str(tmp_path / "missing.csv")]) == 2
    assert main([*base, "irs", str(path), "--limit", "0"]) == 2


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not present")
def test_shared_files(tmp_path: Path) -> None:
    irs = read("irs", SHARED / "us_nonprofits_dev.csv.gz", limit=5000)
    assert irs.total_rows == 5000 and len(irs.organisations) >= 4990
    grants = read("360giving", SHARED / "uk_360giving_grants.csv.gz")
    assert grants.total_rows == 11088 and len(grants.partnerships) > 10_900
    funders = {p.source_id for p in grants.partnerships}
    assert {"GB-CHC-327114", "GB-CHC-200051"} <= funders
    gov = {o.id for o in grants.organisations if o.sector.value == "government"}
    assert "E08000009" in gov  # Trafford Metropolitan Borough Council
    programs = read("federal-programs", SHARED / "us_federal_programs.csv")
    taxes = [f for f in programs.flagged if "tax expenditure" in f.note]
    assert len(programs.needs) == 2650 - 174 and len(taxes) == 174 and not programs.rejected
    assert len(programs.organisations) > 100
    companies = read("companies", SHARED / "sp500_companies.csv")
    # Alphabet, Fox and News Corp are listed under two share classes each: imported once
    assert len(companies.organisations) == 500
    assert {e.reason.split("'")[1] for e in companies.rejected} == {
        "ticker-GOOGL",
        "ticker-FOXA",
        "ticker-NWSA",
    }


def test_registry_ids_are_brought_into_the_id_grammar() -> None:
    import re

    from matcher.domain import ID_PATTERN
    from training.importers.base import RowRejected, registry_id

    assert registry_id({"rid": "GB-REV-1639/73"}, "rid") == "GB-REV-1639-73"
    assert (
        registry_id({"rid": "360G-ocf-org:299786 / 1157084"}, "rid")
        == "360G-ocf-org:299786-1157084"
    )
    long = "360G-x-org:" + "very-long-name-" * 12
    a, b = registry_id({"rid": long}, "rid"), registry_id({"rid": long + "2"}, "rid")
    assert len(a) == 128 and a != b and re.fullmatch(ID_PATTERN, a)
    with pytest.raises(RowRejected):
        registry_id({"rid": "///"}, "rid")


def test_a_description_the_importer_made_up_never_replaces_a_stored_one(
    tmp_path: Path, engine: Engine
) -> None:
    """helper-76's walk (2026-12-06): an IRS row with a blank mission replaced the stored
    mission with "... is a US tax-exempt organisation in ME.", and a second import of the
    360Giving file undid `train enrich` (its recipients' made-up descriptions again)."""
    header = "ein,name,city,state,zip,ntee_code,revenue,mission\n"
    full = header + "01-0017496,Harbor Food Pantry,YORK HARBOR,ME,03911,K31,100,WE PROVIDE FOOD.\n"
    store_batch(engine.store, read("irs", _w(tmp_path, "full.csv", full)))
    blank = header + "01-0017496,Harbor Food Pantry,,ME,,,,\n"
    batch = read("irs", _w(tmp_path, "blank.csv", blank))
    assert "tax-exempt organisation" in batch.organisations[0].description  # made up
    store_batch(engine.store, batch)
    assert engine.store.get_organisation("ein-010017496").record.description == ("WE PROVIDE FOOD.")
    # a new organisation still gets the made-up description, and a real one replaces it
    new = header + "02-0000001,New Pantry,YORK,ME,03909,K31,1,\n"
    store_batch(engine.store, read("irs", _w(tmp_path, "new.csv", new)))
    assert "tax-exempt" in engine.store.get_organisation("ein-020000001").record.description
    real = header + "02-0000001,New Pantry,YORK,ME,03909,K31,1,WE FEED FAMILIES.\n"
    store_batch(engine.store, read("irs", _w(tmp_path, "real.csv", real)))
    assert engine.store.get_organisation("ein-020000001").record.description == (
        "WE FEED FAMILIES."
    )
    # 360Giving: a recipient's description, enriched since, survives the file's second import
    store_batch(engine.store, read("360giving", _w(tmp_path, "grants.csv", GRANTS)))
    enriched = engine.store.get_organisation("GB-CHC-9").record
    longer = enriched.description + " Partnered on a food project with Trafford Council."
    engine.store.upsert_organisations([enriched.model_copy(update={"description": longer})])
    store_batch(engine.store, read("360giving", tmp_path / "grants.csv"))
    assert engine.store.get_organisation("GB-CHC-9").record.description == longer
