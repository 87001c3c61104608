"""The `matcher` command end to end (hashing embedder; the real model is covered elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    # each line says what the API says of the need's reading ("food bank": two words)
    assert lines[0]["few_words"] is True and lines[1]["few_words"] is True
    assert lines[0]["unread_words"] == [] and lines[0]["withheld"] == []


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


def test_causes_load_keeps_the_sectors_it_describes(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path / "causes.csv", ["code,title", "F,Food", "J,Jobs"])
    load = [*base, "causes", "load", str(good)]
    assert main([*load, "--describes", "nonprofit,community,government"]) == 0
    assert "describing nonprofit, community, government" in capsys.readouterr().out
    assert main([*base, "causes", "list"]) == 0
    assert "2 causes, describing nonprofit, community, government" in capsys.readouterr().out
    assert main([*load, "--describes", "nonprofit,charities"]) == 2
    assert "unknown sector 'charities'" in capsys.readouterr().err
    assert main([*base, "causes", "list"]) == 0  # the bad flag changed nothing
    assert "describing nonprofit, community, government" in capsys.readouterr().out
    assert main([*base, "causes", "clear", "--describes", "nonprofit"]) == 2


def _batch(tmp_path: Path, base: list[str], *lines: object) -> tuple[int, list[dict[str, Any]]]:
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    needs = tmp_path / "needs.jsonl"
    needs.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    code = main([*base, "recommend", "--batch", str(needs), "--out", str(out)])
    return code, [json.loads(x) for x in out.read_text().splitlines()]


def test_batch_takes_the_api_field_names(tmp_path: Path, base: list[str]) -> None:
    code, out = _batch(
        tmp_path,
        base,
        {"id": "s", "text": "food", "wanted_sectors": ["business"], "limit": 5},
        {"id": "c", "text": "food", "required_capabilities": ["permits"], "country": "US"},
        {"id": "f", "text": "food", "filters": {"exclude_ids": ["a1", "a2"]}},
        {"id": "r", "text": "food", "lat": 45.5, "lon": -122.6, "radius_km": 3},
        {"id": "q", "text": "food", "requester_id": "a3", "city": "Portland"},
    )
    assert code == 0
    by_id = {x["id"]: [r["id"] for r in x["results"]] for x in out}
    assert by_id["s"] == ["a2"]  # wanted_sectors was ignored before: all three came back
    assert by_id["f"] == ["a3"]
    assert "a3" not in by_id["q"]


def test_batch_rejects_unknown_fields_by_line_and_name(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _batch(
        tmp_path,
        base,
        {"id": "ok", "text": "food bank"},
        {"id": "typo", "text": "food bank", "wanted_sector": ["business"]},
        {"id": "bad", "text": "food bank", "wanted_sectors": ["charity"]},
        {"id": "half", "text": "food bank", "lat": 45.5},
        {"text": "food", "filters": {"sector": "business"}},
    )
    assert code == 1
    assert [x["id"] for x in out[:1]] == ["ok"]
    errors = {x["line"]: x["error"] for x in out[1:]}
    assert "wanted_sector: unknown field" in errors[2]
    assert errors[3].startswith("wanted_sectors.0:")
    assert "lat and lon go together" in errors[4]
    assert "filters.sector: unknown field" in errors[5]
    err = capsys.readouterr().err
    assert "needs.jsonl: line 2: wanted_sector: unknown field" in err


def test_batch_measures_a_radius_from_a_place_or_a_city(tmp_path: Path, base: list[str]) -> None:
    """A batch line takes the fields of POST /v1/recommendations: a radius around `place`, or
    around `city` with its region, was refused ("radius_km needs lat and lon"); a place that
    names no one place was no error of its line but stopped the whole batch."""
    code, out = _batch(
        tmp_path,
        base,
        {"id": "p", "text": "food", "place": "Portland, OR", "radius_km": 30},
        {"id": "c", "text": "food", "city": "Portland", "region": "Oregon", "radius_km": 30},
        {"id": "far", "text": "food", "city": "Salem", "region": "OR", "radius_km": 10},
        {"id": "amb", "text": "food", "city": "Portland", "radius_km": 30},
        {"id": "none", "text": "food", "region": "OR", "radius_km": 30},
    )
    assert code == 1
    by_id = {x["id"]: {r["id"] for r in x["results"]} for x in out if "id" in x}
    assert by_id["p"] == by_id["c"] == {"a1", "a2", "a3"}
    assert by_id["far"] == set()  # Salem is 70 km from Portland
    errors = {x["line"]: x["error"] for x in out if "line" in x}
    assert "field 'city': 'Portland' could be several places" in errors[4]
    assert "radius_km needs a point to measure from" in errors[5]


def test_batch_reads_the_older_names_once(tmp_path: Path, base: list[str]) -> None:
    code, out = _batch(
        tmp_path,
        base,
        {"id": "old", "text": "food", "sectors": ["government"], "requester": "a1"},
        {"id": "both", "text": "food", "sectors": ["business"], "wanted_sectors": ["business"]},
    )
    assert code == 1
    assert [r["id"] for r in out[0]["results"]] == ["a3"]
    assert out[1] == {"line": 2, "error": "sectors: give wanted_sectors or sectors, not both"}


def test_build_counts_texts_as_texts() -> None:
    """Real data walk: "indexed 11636 organisations (1174 embedded, 21540 from cache)" read as
    more organisations cached than there were; the counts are of texts."""
    from matcher.cli_commands import build_line

    line = build_line(
        {
            "organisations": 11636,
            "embedded": 1174,
            "from_cache": 21540,
            "generation": 3,
            "index": "ivf",
            "total_seconds": 12.5,
        }
    )
    assert line.startswith("indexed 11636 organisations as generation 3")
    texts = "22714 texts (profiles and offering clauses): 1174 embedded, 21540 from the cache"
    assert texts in line


def test_ingest_says_its_warnings(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A helper's check on real data: `matcher ingest` printed nothing of a row with state
    ZZ (stored, and found by no place search), where `train ingest` warned of it."""
    rows = [*GOOD, "a4,Zed Pantry,nonprofit,Food bank,Portland,ZZ,US,45.5,-122.6,food"]
    f = write_csv(tmp_path / "orgs.csv", rows)
    assert main([*base, "ingest", str(f), *MAP, "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(w["row"], w["column"]) for w in out["warnings"]] == [(4, "state")]
    assert main([*base, "ingest", str(f), *MAP, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "Warnings (rows stored all the same)" in text and "not a US state" in text


def test_commands_rank_with_the_published_model(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """helper-76's walk (2026-12-06): after `matcher models publish v0001`, `matcher stats` and
    `matcher recommend` still said "@default-weights" while the service served "@v0001"."""
    from training.registry import Registry

    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    assert main([*base, "build", "--json"]) == 0
    registry = Registry(tmp_path / "var")
    weights = {"fit": 0.2, "coverage": 0.1, "reciprocity": 0.1, "proximity": 0.5, "freshness": 0.1}
    version = registry.create(
        {"weights": weights, "metrics": {}, "settings": {"embedding_model": "hashing-v1"}}
    )
    registry.publish(version, force=True)
    capsys.readouterr()
    assert main([*base, "recommend", "food bank for hungry families", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert str(out["model_version"]).endswith(f"@{version}"), out["model_version"]
    assert main([*base, "stats", "--json"]) == 0
    assert str(json.loads(capsys.readouterr().out)["model_version"]).endswith(f"@{version}")


def test_ingest_counts_rejected_rows_not_errors(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """helper-76's walk (2026-12-06): 8 rows, 6 of them rejected, read "2 accepted, 7 rejected"
    (7 errors: a row can have several)."""
    bad = [*GOOD, "a4,Two Errors,nonprofit,Somewhere,Portland,Oregon,US,123,-222,food"]
    f = write_csv(tmp_path / "orgs.csv", bad)
    assert main([*base, "ingest", str(f), *MAP, "--dry-run"]) == 1
    said = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "4 rows, 3 accepted, 1 rejected" in said
    assert main([*base, "ingest", str(f), *MAP, "--dry-run", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["rejected_rows"] == 1 and len(out["rejected"]) == 2


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path, base: list[str]) -> None:
    """helper-76's walk (2026-12-06): `matcher causes list --json | head` ended in a
    BrokenPipeError traceback."""
    import subprocess
    import sys

    rows = ["code,title,definition"] + [f"C{i},Cause {i},{'word ' * 60}" for i in range(800)]
    assert main([*base, "causes", "load", str(write_csv(tmp_path / "c.csv", rows))]) == 0
    cmd = [sys.executable, "-m", "matcher.cli", *base, "causes", "list", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)  # then the reader goes, as `head` does
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in err, err


def test_recommend_says_what_the_page_says_of_a_need_too_short_to_read(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`matcher recommend food` answered a full list at the terminal, and `--json` carried none
    of the notices the page and the API give (a need of a word or two, words not read)."""
    f = write_csv(tmp_path / "orgs.csv", GOOD)
    assert main([*base, "ingest", str(f), *MAP]) == 0
    capsys.readouterr()
    assert main([*base, "recommend", "food"]) == 0
    assert "This need is very short" in capsys.readouterr().out
    assert main([*base, "recommend", "food", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["few_words"] is True
    assert main([*base, "coalition", "food bank for hungry families", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["few_words"] is False and out["unread_words"] == []
    assert main([*base, "recommend", "food bank for hungry families"]) == 0
    assert "very short" not in capsys.readouterr().out
