"""The `matcher` command end to end (hashing embedder; the real model is covered elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main


@pytest.fixture()
def base(tmp_path: Path) -> list[str]:
    return ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1"]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


GOOD = [
    "org_id,org_name,kind,about,city,state,country,lat,lon,offers",
    "a1,Eastside Food Bank,nonprofit,Food bank feeding hungry families,Portland,Oregon,US,45.5,"
    "-122.6,food parcels|volunteers",
    "a2,Rose Grocers,business,Grocery chain donating surplus produce,Portland,Oregon,US,45.51,"
    "-122.65,surplus produce",
    "a3,City Hall,government,City council food programme,Portland,Oregon,US,45.52,-122.68,permits",
]
MAP = [
    "--map",
    "id=org_id",
    "--map",
    "name=org_name",
    "--map",
    "sector=kind",
    "--map",
    "description=about",
    "--map",
    "region=state",
]


def test_ingest_build_recommend_json(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    assert main([*base, "build", "--json"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                *base,
                "recommend",
                "food bank for hungry families",
                "--near",
                "45.5,-122.6",
                "--radius-km",
                "30",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["id"] == "a1"
    assert {"id", "name", "sector", "score", "components", "reasons"} <= set(out["results"][0])
    assert main([*base, "recommend", "food", "--sector", "business", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["sector"] for r in out["results"]] == ["business"]


def test_ingest_reports_rejected_rows_and_keeps_good_ones(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        *GOOD,
        "a4,Bad Lat,nonprofit,Somewhere,Portland,Oregon,US,123,-122,food",
        "a5,Bad Sector,charity,A charity,Portland,Oregon,US,45.5,-122.6,food",
    ]
    f = write_csv(tmp_path / "orgs.csv", bad)
    assert main([*base, "ingest", str(f), *MAP, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["accepted"] == 3
    rows = {(r["row"], r["column"]) for r in out["rejected"]}
    assert (4, "lat") in rows and (5, "kind") in rows
    assert out["stored"]["inserted"] == 3


def test_usage_errors_exit_2(tmp_path: Path, base: list[str]) -> None:
    assert main([*base, "ingest", str(tmp_path / "missing.csv")]) == 2
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), "--map", "nonsense"]) == 2
    assert main([*base, "recommend", "food", "--radius-km", "5"]) == 2
    with pytest.raises(SystemExit) as exc:
        main([*base, "recommend", "food", "--sector", "charity"])
    assert exc.value.code == 2


def test_batch_recommend_writes_one_line_per_need(tmp_path: Path, base: list[str]) -> None:
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    needs = tmp_path / "needs.jsonl"
    needs.write_text(
        json.dumps({"id": "n1", "text": "food bank", "sectors": ["nonprofit"], "limit": 2})
        + "\n"
        + json.dumps(
            {"id": "n2", "text": "grocery surplus", "near": [45.5, -122.6], "radius_km": 50}
        )
        + "\n"
        + "{not json\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main([*base, "recommend", "--batch", str(needs), "--out", str(out)]) == 1
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x.get("id") for x in lines[:2]] == ["n1", "n2"]
    assert [r["sector"] for r in lines[0]["results"]] == ["nonprofit"]
    assert lines[2]["line"] == 3 and "error" in lines[2]


def test_match_and_needs_for(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    capsys.readouterr()
    assert main([*base, "match", "a2", "--sector", "nonprofit", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in out["results"]] == ["a1"]
    assert main([*base, "needs-for", "a2", "--json"]) == 0
    assert main([*base, "match", "nope"]) == 1


def test_causes_load_list_clear_and_bad_file(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path / "causes.csv", ["code,title,keywords", "F,Food,pantry", "J,Jobs,"])
    assert main([*base, "causes", "load", str(good)]) == 0
    assert "loaded 2 causes" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", ["code,title", "X,Other", "F,"])
    assert main([*base, "causes", "load", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "title" in err
    assert main([*base, "causes", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in listed] == ["F", "J"]  # the bad file changed nothing
    assert main([*base, "causes", "load"]) == 2
    assert main([*base, "causes", "clear"]) == 0
    capsys.readouterr()
    assert main([*base, "causes", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
