"""The real-data demo's loader: state subset of a gzip CSV, refusal without the shared data."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

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
    assert state_subset(source, target, {"RI", "DE"}) == 2
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows == [
        ["ein", "name", "state", "mission"],
        ["1", "A, with a comma", "RI", "food"],
        ["3", "C", "de", "homes"],
    ]


def test_missing_shared_data_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["--shared-data", str(tmp_path), "--data-dir", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d").exists()
