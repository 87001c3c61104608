"""training.ingest: TOML mapping files, validation report, dry run, idempotent upserts, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.errors import ValidationError
from matcher.store import Database, Store
from training.ingest import IngestConfig, config_from_dict, ingest_file, load_config

CONFIG = """
kind = "organisation"
format = "csv"
[map]
id = "ref"
name = "org_name"
description = "mission"
[defaults]
sector = "nonprofit"
country = "US"
focus_areas = ["food", "youth"]
"""

GOOD = (
    "ref,org_name,mission,lat,lon\n"
    "a1,Alpha Food Bank,Feeds families,45.5,-122.6\n"
    "a2,Beta Youth Club,Sport for young people,,\n"
)


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.create_all()
    return Store(db)


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def test_config_file_is_read(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "m.toml", CONFIG))
    assert cfg.kind == "organisation" and cfg.format == "csv"
    assert cfg.mapping == {"id": "ref", "name": "org_name", "description": "mission"}
    assert cfg.defaults["focus_areas"] == "food|youth"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"kind": "person"}, "kind must be"),
        ({"format": "xls"}, "format must be one of"),
        ({"map": {"nmae": "x"}}, "unknown organisation field 'nmae'"),
        ({"map": {"name": 3}}, "must name a column"),
        ({"defaults": {"sector": {"a": 1}}}, "must be text"),
        ({"map": "name=x"}, "[map] must be a table"),
    ],
)
def test_bad_config_names_the_problem(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=None) as info:
        config_from_dict(raw, source="m.toml")
    assert message in str(info.value) and "m.toml" in str(info.value)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_config(_write(tmp_path, "m.toml", "[map\nname = "))
    with pytest.raises(ValidationError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_every_bad_row_is_reported_and_good_rows_are_stored(tmp_path: Path, store: Store) -> None:
    rows = (
        b"ref,org_name,mission,lat,lon,sector\n"
        b"a1,Alpha,Feeds families,45.5,-122.6,\n"  # 1 good
        b"a2,,Sport,,,\n"  # 2 missing name
        b"a3,Gamma,Homes,95,10,\n"  # 3 bad latitude
        b"a4,Delta,Advice,abc,10,\n"  # 4 wrong type
        b"a5,Eps,Food,,,pirate\n"  # 5 unknown sector
        b"a1,Alpha again,Dup,,,\n"  # 6 duplicate id
        b"a7,=HYPERLINK(1),Text,,,\n"  # 7 formula injection
    ) + b"a8,Bad \xff name,Text,,,\n"  # 8 invalid UTF-8
    path = _write(tmp_path, "orgs.csv", rows)
    cfg = load_config(_write(tmp_path, "m.toml", CONFIG))
    result = ingest_file(store, path, cfg)
    by_row = {e.row: e for e in result.report.rejected}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8]
    assert by_row[2].column == "org_name" and "missing" in by_row[2].reason
    assert by_row[3].column == "lat" and "-90..90" in by_row[3].reason
    assert by_row[4].column == "lat" and "not a number" in by_row[4].reason
    assert by_row[5].column == "sector" and "unknown sector 'pirate'" in by_row[5].reason
    assert by_row[6].column == "ref" and "duplicate id 'a1'" in by_row[6].reason
    assert by_row[7].column == "org_name" and "formula" in by_row[7].reason
    assert "UTF-8" in by_row[8].reason
    assert result.stored is not None and result.stored.inserted == ["a1"]
    org = store.get_organisation("a1").record
    assert org.sector.value == "nonprofit" and org.country == "US"
    assert org.focus_areas == ["food", "youth"]


def test_rerun_changes_nothing_and_earlier_data_is_kept(tmp_path: Path, store: Store) -> None:
    cfg = load_config(_write(tmp_path, "m.toml", CONFIG))
    first = _write(tmp_path, "one.csv", GOOD)
    r1 = ingest_file(store, first, cfg)
    assert r1.stored is not None and sorted(r1.stored.inserted) == ["a1", "a2"]
    version = store.get_organisation("a1").version
    r2 = ingest_file(store, first, cfg)
    assert r2.stored is not None and sorted(r2.stored.unchanged) == ["a1", "a2"]
    assert store.get_organisation("a1").version == version
    second = _write(tmp_path, "two.csv", "ref,org_name,mission\na3,Gamma,Homes for all\n")
    ingest_file(store, second, cfg)
    assert store.count_organisations() == 3  # a1 and a2 from the first file are still there


def test_dry_run_stores_nothing(tmp_path: Path, store: Store) -> None:
    cfg = load_config(_write(tmp_path, "m.toml", CONFIG))
    result = ingest_file(store, _write(tmp_path, "one.csv", GOOD), cfg, dry_run=True)
    assert len(result.report.accepted) == 2 and result.stored is None
    assert store.count_organisations() == 0


def test_failed_transaction_stores_none_of_the_rows(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher.errors import StorageError
    from matcher.store import repository

    cfg = load_config(_write(tmp_path, "m.toml", CONFIG))
    ingest_file(store, _write(tmp_path, "one.csv", GOOD), cfg)
    calls = {"n": 0}
    real = repository.org_values

    def flaky(org):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise StorageError("disk full")
        return real(org)

    monkeypatch.setattr(repository, "org_values", flaky)
    new = _write(tmp_path, "new.csv", "ref,org_name,mission\nb1,One,Text one\nb2,Two,Text two\n")
    with pytest.raises(StorageError):
        ingest_file(store, new, cfg)
    ids = sorted(s.record.id for s in store.list_organisations(limit=10)[0])
    assert ids == ["a1", "a2"]  # neither b1 nor b2, and the earlier rows are intact


def test_needs_kind_jsonl(tmp_path: Path, store: Store) -> None:
    cfg = config_from_dict({"kind": "need", "map": {"text": "problem"}})
    path = _write(
        tmp_path,
        "needs.jsonl",
        '{"id": "n1", "problem": "We need volunteers for meals"}\n{"id": "n2", "problem": ""}\n',
    )
    result = ingest_file(store, path, cfg)
    assert [n.id for n in result.report.needs()] == ["n1"]
    assert result.report.rejected[0].row == 2 and result.report.rejected[0].column == "problem"
    assert store.get_need("n1").record.text.startswith("We need")


def test_missing_mapped_column_is_a_file_error(tmp_path: Path, store: Store) -> None:
    cfg = IngestConfig(mapping={"name": "org_name"}, defaults={"sector": "business"})
    path = _write(tmp_path, "x.csv", "name,description\nA,B\n")
    with pytest.raises(ValidationError, match="org_name"):
        ingest_file(store, path, cfg)


def test_cli_ingest_with_config_and_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = _write(tmp_path, "m.toml", CONFIG)
    data = _write(tmp_path, "orgs.csv", GOOD + "a3,,No name,,\n")
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1", "train", "ingest"]
    report = tmp_path / "report.json"
    code = main([*base, str(data), "--config", str(cfg), "--json", "--report", str(report)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["accepted"] == 2 and out["stored"]["inserted"] == 2
    assert out["rejected"] == [{"row": 3, "column": "org_name", "reason": "missing required value"}]
    assert json.loads(report.read_text()) == out
    code = main([*base, str(data), "--config", str(cfg), "--json"])
    assert json.loads(capsys.readouterr().out)["stored"]["unchanged"] == 2
    assert main([*base, str(tmp_path / "nope.csv"), "--config", str(cfg)]) == 2
    bad = _write(tmp_path, "bad.toml", 'kind = "person"\n')
    assert main([*base, str(data), "--config", str(bad)]) == 2
    assert "kind must be" in capsys.readouterr().err


def test_cli_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = _write(tmp_path, "m.toml", CONFIG)
    data = _write(tmp_path, "orgs.csv", GOOD)
    var = tmp_path / "var"
    argv = ["--data-dir", str(var), "--model", "hashing-v1", "train", "ingest", str(data)]
    assert main([*argv, "--config", str(cfg), "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    db = Database(f"sqlite:///{var / 'matcher.db'}")
    db.create_all()
    assert Store(db).count_organisations() == 0
