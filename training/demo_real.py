"""A real-data demo: the nonprofits of a few states, the S&P 500 companies, the US federal
agencies and their programmes, loaded with the project's own importers into one data directory.

    python -m training.demo_real --shared-data ../shared/data --data-dir var/demo-real \\
        [--states RI,DE,VT]

`make demo-real` runs this, then serves the page on that data directory. Nothing is copied into
the repository: the state subset of the nonprofit file is written into the data directory. A
second run finds the directory built and does nothing (`--force` loads again).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from matcher.cli import main as matcher

NONPROFITS = "us_nonprofits_dev.csv.gz"
COMPANIES = "sp500_companies.csv"
AGENCIES = "us_federal_agencies.csv"
PROGRAMMES = "us_federal_programs.csv"
NTEE = "ntee_codes.csv"
DONE = "demo-real.done"


@dataclass(frozen=True)
class Subset:
    """What `state_subset` copied: the rows kept, and how many rows each state of the file has."""

    kept: int
    by_state: Counter[str]

    def absent(self, states: set[str]) -> list[str]:
        """The states asked for that the file holds no row of."""
        return sorted(s for s in states if not self.by_state[s])

    def held(self) -> str:
        """The states the file holds, for a message ("CT, DC, ...")."""
        return ", ".join(sorted(s for s in self.by_state if s)) or "none"


def state_subset(source: Path, target: Path, states: set[str]) -> Subset:
    """Copy the header and the rows of `states` (column `state`) of the gzip CSV; the rows kept
    and every state's count (so a state the file does not hold can be named, not loaded as
    nothing)."""
    import csv

    kept = 0
    by_state: Counter[str] = Counter()
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fin:
        reader = csv.reader(fin)
        header = next(reader)
        column = header.index("state")
        tmp = target.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fout:
            writer = csv.writer(fout)
            writer.writerow(header)
            for row in reader:
                state = row[column].strip().upper() if len(row) > column else ""
                by_state[state] += 1
                if state in states:
                    writer.writerow(row)
                    kept += 1
        tmp.replace(target)
    return Subset(kept, by_state)


def run(step: str, argv: list[str]) -> None:
    print(f"\n== {step}", flush=True)
    t0 = time.perf_counter()
    code = matcher(argv)
    if code not in (0, 1):  # 1: some rows rejected, reported above
        raise SystemExit(f"{step} failed (exit {code})")
    print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--data-dir", type=Path, default=Path("var/demo-real"))
    parser.add_argument("--states", default="RI,DE,VT")
    parser.add_argument("--force", action="store_true", help="load again into a built directory")
    args = parser.parse_args(argv)
    shared: Path = args.shared_data
    missing = [
        f for f in (NONPROFITS, COMPANIES, AGENCIES, PROGRAMMES, NTEE) if not (shared / f).is_file()
    ]
    if missing:
        print(f"demo-real: {', '.join(missing)} not found in {shared}", file=sys.stderr)
        return 2
    data: Path = args.data_dir
    created = not data.exists()
    data.mkdir(parents=True, exist_ok=True)
    if (data / DONE).exists() and not args.force:
        print(f"demo-real: {data} is already loaded ({(data / DONE).read_text().strip()})")
        return 0
    states = {s.strip().upper() for s in args.states.split(",") if s.strip()}
    subset = data / "nonprofits-subset.csv"
    found = state_subset(shared / NONPROFITS, subset, states)
    absent = found.absent(states)
    if absent and len(absent) == len(states):
        subset.unlink()
        if created:
            data.rmdir()
        print(
            f"demo-real: {NONPROFITS} holds no nonprofit of {', '.join(absent)}; "
            f"it holds those of {found.held()} (--states)",
            file=sys.stderr,
        )
        return 2
    if absent:
        print(
            f"demo-real: warning: {NONPROFITS} holds no nonprofit of {', '.join(absent)}, so "
            f"none is loaded there; it holds those of {found.held()}",
            file=sys.stderr,
        )
    n = found.kept
    loaded = sorted(set(states) - set(absent))
    print(f"nonprofits of {', '.join(loaded)}: {n} rows -> {subset}")
    base = ["--data-dir", str(data)]
    run("nonprofits (IRS importer)", [*base, "train", "import", "irs", str(subset)])
    run("companies (S&P 500)", [*base, "train", "import", "companies", str(shared / COMPANIES)])
    run("federal agencies", [*base, "train", "import", "federal-agencies", str(shared / AGENCIES)])
    run(
        "federal programmes (linked to their agencies)",
        [*base, "train", "import", "federal-programs", str(shared / PROGRAMMES)],
    )
    # the NTEE codes describe exempt organisations and public bodies, not companies
    describes = "nonprofit,community,government"
    ntee = [*base, "causes", "load", str(shared / NTEE), "--describes", describes]
    run("NTEE cause taxonomy", ntee)
    run("index (embeds every profile once; later runs reuse the cache)", [*base, "build"])
    (data / DONE).write_text(f"states {','.join(loaded)}, {n} nonprofits\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
