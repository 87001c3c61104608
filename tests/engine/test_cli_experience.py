"""The CLI as an analyst runs it (`python -m matcher.cli ...` in a fresh process): commands say
when they build, `stats` never builds, and normal use prints no library warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ORGS = [
    "id,name,sector,description,city,region,country,offers",
    "a1,Eastside Food Bank,nonprofit,Food bank feeding hungry families™,Portland,Oregon,US,"
    "food parcels|volunteers",
    "a2,Rose Grocers,business,Grocery chain donating surplus produce,Portland,Oregon,US,"
    "surplus produce",
    "a3,City Hall,government,City council food programme,Portland,Oregon,US,permits",
    "a4,Café Résumé Workshop,community,Naïve bakers teach job skills,Salem,Oregon,US,training",
]


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-m", "matcher.cli", "--data-dir", str(data_dir), "--model", "hashing-v1"]
        + list(args),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture()
def ingested(tmp_path: Path) -> Path:
    data = tmp_path / "var"
    f = tmp_path / "orgs.csv"
    f.write_text("\n".join(ORGS) + "\n", encoding="utf-8")
    done = run(data, "ingest", str(f))
    assert done.returncode == 0, done.stderr
    return data


def test_stats_reports_an_unbuilt_index_without_building_it(ingested: Path) -> None:
    done = run(ingested, "stats", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["organisations"] == 4 and stats["generation"] is None
    assert "no index has been built yet" in stats["index_status"] and stats["to_embed"] == 4
    assert not (ingested / "indexes").exists() or not any((ingested / "indexes").rglob("gen-*"))
    human = run(ingested, "stats")
    assert "run `matcher build`" in human.stderr


def test_a_command_that_must_build_says_so_then_later_ones_do_not(ingested: Path) -> None:
    first = run(ingested, "recommend", "food for hungry families", "--json")
    assert first.returncode == 0, first.stderr
    assert "no index has been built yet" in first.stderr and "building it now" in first.stderr
    assert "about 4 texts to embed" in first.stderr
    assert "index: keyword index" in first.stderr  # the stages are shown
    assert json.loads(first.stdout)["results"]
    second = run(ingested, "recommend", "food for hungry families", "--json")
    assert second.returncode == 0 and second.stderr == ""
    stats = json.loads(run(ingested, "stats", "--json").stdout)
    assert "up to date" in stats["index_status"] and stats["generation"] == 1


def test_changes_since_the_build_are_announced(ingested: Path, tmp_path: Path) -> None:
    assert run(ingested, "build", "--quiet").returncode == 0
    f = tmp_path / "more.csv"
    f.write_text(
        ORGS[0] + "\n" + "a5,Harbor Shelter,nonprofit,Emergency beds for homeless veterans,"
        "Portland,Oregon,US,beds\n",
        encoding="utf-8",
    )
    assert run(ingested, "ingest", str(f)).returncode == 0
    stats = json.loads(run(ingested, "stats", "--json").stdout)
    assert "1 changes behind" in stats["index_status"] and stats["to_embed"] == 1
    done = run(ingested, "coalition", "homeless veterans", "--json")
    assert done.returncode == 0, done.stderr
    assert "1 changes behind" in done.stderr and "about 1 texts to embed" in done.stderr


def test_build_shows_its_stages_and_normal_use_prints_no_library_warning(
    ingested: Path, tmp_path: Path
) -> None:
    """The texts hold '™' and accents: scikit-learn's vectoriser used to warn on every command
    that upper-case vocabulary entries never match."""
    needs = tmp_path / "needs.jsonl"
    needs.write_text(json.dumps({"text": "job skills", "wanted_sectors": ["community"]}) + "\n")
    build = run(ingested, "build")
    assert build.returncode == 0, build.stderr
    assert "matcher build: 4 organisations, about 4 texts to embed" in build.stderr
    for stage in ("4 organisations: 4 profiles to embed", "keyword index", "vector index"):
        assert stage in build.stderr
    assert "indexed 4 organisations" in build.stdout
    assert [line for line in build.stderr.splitlines() if "Warning" in line] == []
    for args in (
        ["stats"],
        ["recommend", "food bank™ volunteers"],
        ["coalition", "hungry families need food"],
        ["match", "a2"],
        ["needs-for", "a1"],
        ["recommend", "--batch", str(needs)],
    ):
        done = run(ingested, *args)
        assert done.returncode == 0, (args, done.stderr)
        warnings = [line for line in done.stderr.splitlines() if "Warning" in line]
        assert warnings == [], (args, warnings)


def test_stats_says_when_saved_scoring_columns_are_stale_and_build_mends_it(
    ingested: Path,
) -> None:
    """Columns saved by other code (an upgrade) are not used; `stats` says so and what to do."""
    assert run(ingested, "build", "--quiet").returncode == 0
    fresh = json.loads(run(ingested, "stats", "--json").stdout)
    assert fresh["scoring_columns"] == "saved with generation 1"
    (manifest,) = (ingested / "indexes").rglob("gen-000001/score/score.json")
    meta = json.loads(manifest.read_text())
    meta["recipe"] = "0" * 64  # as if made by another version of the deriving code
    manifest.write_text(json.dumps(meta))
    stale = json.loads(run(ingested, "stats", "--json").stdout)
    assert "made by other code" in stale["scoring_columns"]
    assert "until `matcher build` saves them" in stale["scoring_columns"]
    assert "run `matcher build` to save scoring columns" in run(ingested, "stats").stderr
    assert run(ingested, "build", "--quiet").returncode == 0
    rebuilt = json.loads(run(ingested, "stats", "--json").stdout)
    assert rebuilt["scoring_columns"] == "saved with generation 2"
