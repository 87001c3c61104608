"""Bulk loaders: every format, column mapping, defaults and every kind of bad input."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matcher.domain import Need, Organisation
from matcher.errors import StorageError, ValidationError
from matcher.loaders import LoadReport, RowError, load_records, parse_mapping

REPO = Path(__file__).resolve().parents[1]
HEADER = "id,name,sector,description,city,country,lat,lon,offers,needs,size,notes\n"
GOOD_CSV = (
    HEADER
    + "o1,Eastside Pantry,nonprofit,Weekly food parcels.,Portland,us,45.52,-122.6,"
    + "emergency food parcels|volunteers,grant funding;vans,small,ignored\n"
    + "o2,Greenleaf Grocers,business,A grocer.,Portland,US,45.5,-122.7,surplus produce,,large,\n"
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    data = content.encode("utf-8") if isinstance(content, str) else content
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def only_error(report: LoadReport) -> RowError:
    assert len(report.rejected) == 1, report.summary()
    return report.rejected[0]


# ----------------------------------------------------------------------------- happy paths


def check_good(report: LoadReport) -> None:
    assert report.total_rows == 2
    assert report.rejected == []
    first, second = report.organisations()
    assert first.id == "o1" and first.name == "Eastside Pantry"
    assert first.offers == ["emergency food parcels", "volunteers"]
    assert first.needs == ["grant funding", "vans"]
    assert first.lat == pytest.approx(45.52) and first.lon == pytest.approx(-122.6)
    assert first.country == "US" and first.size is not None and first.size.value == "small"
    assert second.needs == [] and second.sector.value == "business"


@pytest.mark.parametrize("name", ["orgs.csv", "orgs.csv.gz"])
def test_csv_happy_path(tmp_path: Path, name: str) -> None:
    check_good(load_records(write(tmp_path, name, GOOD_CSV)))


def jsonl_text() -> str:
    rows = [
        {"id": "o1", "name": "Eastside Pantry", "sector": "nonprofit",
         "description": "Weekly food parcels.", "city": "Portland", "country": "us",
         "lat": "45.52", "lon": -122.6, "offers": ["emergency food parcels", "volunteers"],
         "needs": "grant funding;vans", "size": "small", "notes": {"x": 1}},
        {"id": "o2", "name": "Greenleaf Grocers", "sector": "business", "description": "A grocer.",
         "lat": 45.5, "lon": -122.7, "offers": ["surplus produce"], "size": "large"},
    ]  # fmt: skip
    return "\n".join(json.dumps(r) for r in rows) + "\n\n"


@pytest.mark.parametrize("name", ["orgs.jsonl", "orgs.jsonl.gz", "orgs.ndjson"])
def test_jsonl_happy_path(tmp_path: Path, name: str) -> None:
    check_good(load_records(write(tmp_path, name, jsonl_text())))


def test_parquet_happy_path(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["o1", "o2"],
            "name": ["Eastside Pantry", "Greenleaf Grocers"],
            "sector": ["nonprofit", "business"],
            "description": ["Weekly food parcels.", "A grocer."],
            "country": ["us", None],
            "lat": [45.52, 45.5],
            "lon": [-122.6, -122.7],
            "offers": [["emergency food parcels", "volunteers"], ["surplus produce"]],
            "needs": ["grant funding|vans", None],
            "size": ["small", "large"],
            "extra": [1, 2],
        }
    )
    path = tmp_path / "orgs.parquet"
    pq.write_table(table, path)
    check_good(load_records(path))


def test_explicit_format_overrides_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "orgs.txt", GOOD_CSV)
    with pytest.raises(ValidationError, match="cannot tell the format"):
        load_records(path)
    check_good(load_records(path, format="csv"))
    with pytest.raises(ValidationError, match="unknown format 'xml'"):
        load_records(path, format="xml")


def test_bom_tsv_and_numeric_ids(tmp_path: Path) -> None:
    bom = load_records(write(tmp_path, "o.csv", "\ufeffname,sector,description\nA,business,d\n"))
    assert [o.name for o in bom.organisations()] == ["A"]
    tsv = load_records(write(tmp_path, "o.tsv", "name\tsector\tdescription\nA, Inc\tbusiness\td\n"))
    assert [o.name for o in tsv.organisations()] == ["A, Inc"]
    row = {"id": 7, "name": "A", "sector": "business", "description": "d", "postcode": 97201}
    (org,) = load_records(write(tmp_path, "o.jsonl", json.dumps(row))).organisations()
    assert (org.id, org.postcode) == ("7", "97201")


def test_needs_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "needs.csv",
        "id,text,lat,lon,radius_km,required_capabilities,wanted_sectors\n"
        "n1,We need fresh food weekly.,45.5,-122.6,25,food_supply;volunteers,Business|nonprofit\n"
        "n2,Somewhere to meet.,,,10,,\n"
        "n3,Mentors please.,,,,,charity\n",
    )
    report = load_records(path, kind="need")
    (need,) = report.needs()
    assert isinstance(need, Need)
    assert need.radius_km == 25.0
    assert need.required_capabilities == ["food_supply", "volunteers"]
    assert [s.value for s in need.wanted_sectors] == ["business", "nonprofit"]
    errors = {e.row: e for e in report.rejected}
    assert errors[2].column == "radius_km" and errors[2].reason.startswith(
        "radius_km needs a point to measure from: lat and lon, a place, or a city"
    )
    assert errors[3].column == "wanted_sectors"
    assert errors[3].reason.startswith("unknown sector 'charity' (expected one of business")


# ------------------------------------------------------------------ mapping and defaults


def test_mapping_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ext.csv",
        "Org Name,Type,About,Town,Latitude,Longitude\n"
        "Harbor Bank,business,Regional bank.,,53.48,-2.24\n"
        "Moss Side Pantry,,Food parcels.,Manchester,53.46,-2.23\n",
    )
    mapping = {
        "name": "Org Name",
        "sector": "type",  # matched case-insensitively
        "description": "About",
        "city": "Town",
        "lat": "Latitude",
        "lon": "Longitude",
    }
    report = load_records(
        path, mapping=mapping, defaults={"sector": "nonprofit", "city": "Salford", "country": "GB"}
    )
    assert report.rejected == []
    bank, pantry = report.organisations()
    assert (bank.name, bank.sector.value, bank.city, bank.country) == (
        "Harbor Bank", "business", "Salford", "GB",
    )  # fmt: skip
    assert (pantry.sector.value, pantry.city) == ("nonprofit", "Manchester")


def test_row_errors_name_the_mapped_source_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ext.csv",
        "org_name,kind,about,latitude,longitude\n"
        "Fine,community,ok,10,10\n"
        "Far North,community,ok,123,10\n"
        "Odd,charity,ok,,\n",
    )
    mapping = parse_mapping(
        ["name=org_name", "sector=kind", "description=about", "lat=latitude", "lon=longitude"]
    )
    report = load_records(path, mapping=mapping)
    assert [o.name for o in report.organisations()] == ["Fine"]
    assert report.rejected == [
        RowError(2, "latitude", "latitude 123 is outside -90..90"),
        RowError(
            3,
            "kind",
            "unknown sector 'charity' (expected one of business, government, nonprofit, "
            "community, academic)",
        ),
    ]
    assert str(report.rejected[0]) == "row 2, column 'latitude': latitude 123 is outside -90..90"


def test_mapping_to_unknown_field_is_rejected_up_front(tmp_path: Path) -> None:
    path = write(tmp_path, "orgs.csv", GOOD_CSV)
    with pytest.raises(ValidationError, match="unknown organisation field 'nmae'") as info:
        load_records(path, mapping={"nmae": "name"})
    assert info.value.field == "nmae"
    with pytest.raises(ValidationError, match="mapped column 'town' for field 'city'"):
        load_records(path, mapping={"city": "town"})
    with pytest.raises(ValidationError, match="unknown need field 'sector'"):
        load_records(path, kind="need", defaults={"sector": "business"})


def test_missing_required_column_is_rejected_up_front(tmp_path: Path) -> None:
    path = write(tmp_path, "orgs.csv", "name,description\nA,b\n")
    with pytest.raises(ValidationError, match="missing required column 'sector'") as info:
        load_records(path)
    assert info.value.field == "sector"
    # a default fills the gap instead
    report = load_records(path, defaults={"sector": "community"})
    assert [o.sector.value for o in report.organisations()] == ["community"]
    mapped = write(tmp_path, "m.csv", "title,sector,description\nA,business,b\n")
    with pytest.raises(ValidationError, match="'org_name'"):
        load_records(mapped, mapping={"name": "org_name"})
    needs = write(tmp_path, "needs.jsonl", '{"title": "no text"}\n')
    with pytest.raises(ValidationError, match="missing required column 'text'"):
        load_records(needs, kind="need")


def test_parse_mapping() -> None:
    assert parse_mapping([" name = org name ", "city=town"]) == {"name": "org name", "city": "town"}
    assert parse_mapping(["description=a=b"]) == {"description": "a=b"}
    for bad in (["name"], ["=col"], ["name="], ["name=a", "name=b"]):
        with pytest.raises(ValidationError):
            parse_mapping(bad)
    with pytest.raises(ValidationError, match="'colour'"):
        parse_mapping(["colour=x"], kind="organisation")


# ------------------------------------------------------------------------------ bad rows


def test_bad_rows_are_rejected_and_good_rows_kept(tmp_path: Path) -> None:
    body = (
        b"id,name,sector,description,lat,lon,offers,contact\n"
        b"a,Acme,business,Sells things,45.5,-122.6,food|vans,+44 161 496 0000\n"  # 1
        b"b,Bad Sector,charity,Something,45,-122,,\n"  # 2
        b"c,Far,nonprofit,Far away,123,-122,,\n"  # 3
        b"a,Dup,nonprofit,dup,,,,\n"  # 4
        b'e,"=HYPERLINK(""http://x"")",nonprofit,desc,,,,\n'  # 5
        b"f,Bad \xff bytes,nonprofit,desc,,,,\n"  # 6
        b"g,South,nonprofit,desc,-3.5,10,,\n"  # 7: a plain negative number is fine
        b"h,Formula In List,nonprofit,desc,,,food|@SUM(A1),\n"  # 8
        b"i,NoNumber,nonprofit,desc,north,10,,\n"  # 9
        b"\n"  # 10: blank, skipped but numbered
        b"j,,nonprofit,desc,,,,\n"  # 11
        b"k,Long West,community,desc,10,-200,,\n"  # 12
    )
    report = load_records(write(tmp_path, "orgs.csv", body))
    assert [o.id for o in report.accepted] == ["a", "g"]
    assert report.total_rows == 11
    assert report.rejected_rows == 9
    got = {(e.row, e.column): e.reason for e in report.rejected}
    assert got[(2, "sector")].startswith("unknown sector 'charity'")
    assert got[(3, "lat")] == "latitude 123 is outside -90..90"
    assert got[(4, "id")] == "duplicate id 'a' (first at row 1)"
    assert "formula" in got[(5, "name")] and got[(5, "name")].startswith("cell starts with '='")
    assert got[(6, "name")] == "invalid UTF-8: byte 0xFF ('Bad ÿ bytes' if read as Windows-1252)"
    assert got[(8, "offers")].startswith("cell starts with '@'")
    assert got[(9, "lat")] == "not a number: 'north'"
    assert got[(11, "name")] == "missing required value"
    assert got[(12, "lon")] == "longitude -200 is outside -180..180"
    assert len(got) == 9


def test_bad_jsonl_lines(tmp_path: Path) -> None:
    good = json.dumps({"name": "A", "sector": "community", "description": "d"}).encode()
    body = b"\n".join(
        [
            good,  # 1
            b'{"name": "B", "sector": "community", "description": ',  # 2 malformed
            b'{"name": "C\xff", "sector": "community", "description": "d"}',  # 3 bad bytes
            b"[1, 2]",  # 4 not an object
            b"",  # 5 blank
            json.dumps({"name": "E", "sector": "community", "description": "-rm"}).encode(),  # 6
            json.dumps({"name": "F", "sector": "community", "description": "d", "lat": 1}).encode(),
            good,  # 8: no id given, so not a duplicate
        ]
    )
    report = load_records(write(tmp_path, "orgs.jsonl", body))
    assert [o.name for o in report.organisations()] == ["A", "A"]
    by_row = {e.row: e for e in report.rejected}
    assert sorted(by_row) == [2, 3, 4, 6, 7]
    assert by_row[2].column is None and by_row[2].reason.startswith("malformed JSON")
    assert by_row[3].reason.startswith('invalid UTF-8: byte 0xFF (\'{"name": "Cÿ"')
    assert by_row[4].reason == "expected a JSON object, got list"
    assert by_row[6].column == "description" and "formula" in by_row[6].reason
    assert (by_row[7].column, by_row[7].reason) == ("lon", "lat and lon must be given together")


def test_csv_row_with_too_many_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path, "orgs.csv", "name,sector,description\nA,business,d,surprise\nB,community,d\n"
    )
    report = load_records(path)
    assert [o.name for o in report.organisations()] == ["B"]
    assert only_error(report) == RowError(1, None, "has 4 cells but the header has 3")


def test_csv_row_with_too_few_cells(tmp_path: Path) -> None:
    """A short row was read with blanks for its missing cells while a long one was rejected;
    both are rejected (a line break in an unquoted cell splits a row into two short ones)."""
    path = write(
        tmp_path, "orgs.csv", "name,sector,description,city\nA,business,d\nB,community,d,\n"
    )
    report = load_records(path)
    assert [o.name for o in report.organisations()] == ["B"]
    assert only_error(report) == RowError(
        1,
        None,
        "has 3 cells but the header has 4 (cells missing, or a line break in an unquoted cell "
        "split a row)",
    )


def test_datetime_and_size_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "orgs.csv",
        "name,sector,description,size,updated_at\n"
        "A,business,d,Huge,\n"
        "B,business,d,LARGE,yesterday\n"
        "C,business,d,,2025-01-02T03:04:05+00:00\n",
    )
    report = load_records(path)
    (c,) = report.accepted
    assert isinstance(c, Organisation) and c.updated_at.year == 2025
    got = {(e.row, e.column): e.reason for e in report.rejected}
    assert got == {
        (1, "size"): "unknown size 'huge' (expected one of micro, small, medium, large)",
        (2, "updated_at"): "not a valid date-time: 'yesterday'",
    }


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="file not found"):
        load_records(tmp_path / "nope.csv")
    with pytest.raises(StorageError, match="file not found"):
        load_records(tmp_path / "nope.parquet")
    with pytest.raises(StorageError, match="Parquet"):
        load_records(write(tmp_path, "bad.parquet", b"this is not parquet"))
    with pytest.raises(StorageError, match="gzip"):
        load_records(write(tmp_path, "bad.csv", b"\x1f\x8b\x08garbage"))
    with pytest.raises(ValidationError, match="no header"):
        load_records(write(tmp_path, "empty.csv", b""))
    with pytest.raises(ValidationError, match="header row is not valid UTF-8"):
        load_records(write(tmp_path, "hdr.csv", b"na\xffme,sector,description\nA,b,c\n"))


def test_summary_lists_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "orgs.csv", "name,sector,description\nA,business,d\nB,charity,d\n")
    summary = load_records(path).summary()
    assert summary.startswith("accepted 1 of 2 rows from orgs.csv; rejected 1:")
    assert "row 2, column 'sector': unknown sector 'charity'" in summary
    clean = load_records(write(tmp_path, "ok.csv", "name,sector,description\nA,business,d\n"))
    assert clean.summary() == "accepted 1 of 1 rows from ok.csv; rejected 0"


# --------------------------------------------------------------------- sample corpus, scale


def test_sample_corpus_loads_without_rejections() -> None:
    orgs = load_records(REPO / "data" / "organisations.jsonl")
    assert orgs.rejected == [] and orgs.total_rows == len(orgs.accepted) >= 1200
    needs = load_records(REPO / "data" / "needs.jsonl", kind="need")
    assert needs.rejected == [] and needs.total_rows == len(needs.accepted) >= 80


@pytest.mark.slow
def test_fifty_thousand_rows_load_in_seconds(tmp_path: Path) -> None:
    lines = [HEADER]
    for i in range(50_000):
        sector = "charity" if i % 1000 == 999 else "nonprofit"
        lines.append(
            f"x{i},Org {i},{sector},Description number {i}.,Leeds,GB,53.8,-1.5,"
            f"food|vans,grant funding,small,\n"
        )
    path = write(tmp_path, "big.csv.gz", "".join(lines))
    start = time.perf_counter()
    report = load_records(path)
    elapsed = time.perf_counter() - start
    assert report.total_rows == 50_000
    assert len(report.accepted) == 49_950 and report.rejected_rows == 50
    assert (
        report.rejected[0] == RowError(1000, "sector", report.rejected[0].reason)
        and "charity" in report.rejected[0].reason
    )
    assert elapsed < 30, f"took {elapsed:.1f}s"


def test_a_region_that_is_no_us_state_is_a_warning_on_its_row_and_column(tmp_path: Path) -> None:
    """Real data walk (2026-12-04, night): `state=ZZ` was stored without a word, and no search
    by place ever found the organisation (with its coordinates given, nothing was checked)."""
    rows = (
        "id,name,sector,description,city,state,country,lat,lon\n"
        "m1,Good State Org,nonprofit,Rides for seniors.,Cranston,RI,US,41.78,-71.44\n"
        "m2,Bad State Org,nonprofit,Rides for seniors.,Cranston,ZZ,US,41.78,-71.44\n"
        "m3,No Point Org,nonprofit,Rides for seniors.,Cranston,XX,US,,\n"
    )
    report = load_records(
        write(tmp_path, "m.csv", rows), kind="organisation", mapping={"region": "state"}
    )
    assert len(report.accepted) == 3  # a warning, not a refusal: the row is kept as given
    warned = {(w.row, w.column) for w in report.warnings}
    assert warned == {(2, "state"), (3, "state")}  # rows count from the first data row
    assert all("is not a US state" in w.reason for w in report.warnings)
