"""The real-data demo's loader: state subset of a gzip CSV, refusal without the shared data."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from training.demo_real import main, state_subset


def test_state_subset_keeps_the_header_and_the_rows_of_the_states(tmp_path: Path) -> None:
    source = tmp_path / "np.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ein", "name", "state", "mission"])
        w.writerow(["1", "A, with a comma", "RI", "food"])
        w.writerow(["2", "B", "OR", "jobs"])
        w.writerow(["3", "C", "de", "homes"])
    target = tmp_path / "subset.csv"
    assert state_subset(source, target, {"RI", "DE"}).kept == 2
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows == [
        ["ein", "name", "state", "mission"],
        ["1", "A, with a comma", "RI", "food"],
        ["3", "C", "de", "homes"],
    ]


def test_missing_shared_data_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["--shared-data", str(tmp_path), "--data-dir", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d").exists()


def _shared(tmp_path: Path) -> Path:
    """A shared-data folder: a nonprofit file of OR and RI, and the other files present."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with gzip.open(shared / "us_nonprofits_dev.csv.gz", "wt", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ein", "name", "state", "mission"])
        w.writerow(["1", "A", "OR", "food"])
        w.writerow(["2", "B", "RI", "jobs"])
        w.writerow(["3", "C", "or", "homes"])
    for name in (
        "sp500_companies.csv",
        "us_federal_agencies.csv",
        "us_federal_programs.csv",
        "ntee_codes.csv",
    ):
        (shared / name).write_text("x\n")
    return shared


def test_the_subset_counts_every_state_of_the_file(tmp_path: Path) -> None:
    shared = _shared(tmp_path)
    found = state_subset(shared / "us_nonprofits_dev.csv.gz", tmp_path / "s.csv", {"AZ", "OR"})
    assert found.kept == 2
    assert found.absent({"AZ", "OR"}) == ["AZ"]
    assert found.held() == "OR, RI"


def test_states_the_file_does_not_hold_are_refused_by_name_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--states AZ` loaded 0 nonprofits without a word, and the page then said no nonprofit
    was within the filters of a Phoenix need (real data walk): the file holds 12 states."""
    shared = _shared(tmp_path)
    data = tmp_path / "d"
    assert main(["--shared-data", str(shared), "--data-dir", str(data), "--states", "AZ,NV"]) == 2
    err = capsys.readouterr().err
    assert "no nonprofit of AZ, NV" in err
    assert "holds those of OR, RI" in err
    assert not data.exists()


def test_a_state_the_file_does_not_hold_is_named_beside_the_ones_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.demo_real as demo

    steps: list[list[str]] = []
    monkeypatch.setattr(demo, "matcher", lambda argv: steps.append(argv) or 0)
    shared = _shared(tmp_path)
    data = tmp_path / "d"
    assert main(["--shared-data", str(shared), "--data-dir", str(data), "--states", "AZ,RI"]) == 0
    out = capsys.readouterr()
    assert "warning: us_nonprofits_dev.csv.gz holds no nonprofit of AZ" in out.err
    assert "nonprofits of RI: 1 rows" in out.out  # AZ is not said to be loaded
    assert steps and steps[0][-3:-1] == ["import", "irs"]
