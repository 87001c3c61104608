"""The drill runner: `python -m tests.drills.run [--rounds N] [--race-rounds M] [--seed S]`.

Prints each round, then per drill `tried/passed/failed` (race drills also the winners per
round), and last `acknowledged writes lost: N` (target 0). PostgreSQL drills run when
MATCHER_TEST_POSTGRES_URL (scripts/with-postgres.sh sets it) or MATCHER_DATABASE_URL names a
PostgreSQL server, each round in a database of its own. Exit status 1 if a round failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.drills import api_writes, build, fit, ingest, race, registry
from tests.drills.common import SQLITE, Backend, Result, postgres_url

RoundFn = Callable[[Path, random.Random, int, Backend], Result]


def each(fn: RoundFn) -> Callable[[Path, random.Random, int, Backend], Iterator[Result]]:
    """A drill of independent rounds, each on its own data dir (and database)."""

    def rounds(root: Path, rng: random.Random, count: int, backend: Backend) -> Iterator[Result]:
        for n in range(count):
            try:
                yield fn(root, rng, n, backend)
            except Exception as exc:  # a round that breaks counts as failed
                yield Result(False, f"error: {type(exc).__name__}: {exc}")

    return rounds


@dataclass(frozen=True)
class Drill:
    name: str
    rounds: Callable[[Path, random.Random, int, Backend], Iterator[Result]]
    postgres: bool = False  # on the PostgreSQL server instead of SQLite
    race: bool = False  # counts --race-rounds, reports winners


DRILLS = [
    Drill("ingest", each(ingest.run_round)),
    Drill("ingest-write", each(ingest.write_round)),
    Drill("api-writes", each(api_writes.run_round)),
    Drill("build", each(build.run_round)),
    Drill("publish", each(registry.publish_round)),
    Drill("rollback", each(registry.rollback_round)),
    Drill("fit", each(fit.run_round)),
    Drill("race", race.rounds, race=True),
    Drill("ingest-pg", each(ingest.run_round), postgres=True),
    Drill("ingest-write-pg", each(ingest.write_round), postgres=True),
    Drill("api-writes-pg", each(api_writes.run_round), postgres=True),
    Drill("build-pg", each(build.run_round), postgres=True),
    Drill("race-pg", race.rounds, postgres=True, race=True),
]
BY_NAME = {d.name: d for d in DRILLS}


@dataclass
class Summary:
    name: str
    results: list[Result]
    seconds: float
    skipped: str | None = None

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def lost(self) -> int:
        return sum(r.lost for r in self.results)

    def line(self) -> str:
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        failed = len(self.results) - self.passed
        text = f"{self.name}: tried {len(self.results)}, passed {self.passed}, failed {failed}"
        winners = Counter(w for r in self.results for w in r.winners)
        if winners:
            spread = ", ".join(f"{w} in {c}" for w, c in sorted(winners.items()))
            text += f"; winners per round: {spread} of {sum(winners.values())}"
        return text + f" ({self.seconds:.0f} s)"


def run_drill(drill: Drill, root: Path, rounds: int, seed: int, echo: bool = True) -> Summary:
    backend = SQLITE
    if drill.postgres:
        url = postgres_url()
        if url is None:
            reason = "no PostgreSQL: set MATCHER_TEST_POSTGRES_URL or use scripts/with-postgres.sh"
            return Summary(drill.name, [], 0.0, skipped=reason)
        backend = Backend("postgresql", url)
    rng = random.Random(f"{seed}-{drill.name}")
    results: list[Result] = []
    t0 = time.monotonic()
    work = root / drill.name
    work.mkdir(parents=True, exist_ok=True)
    try:
        for n, result in enumerate(drill.rounds(work, rng, rounds, backend)):
            results.append(result)
            if echo:
                state = "pass" if result.ok else "FAIL"
                print(f"  {drill.name} round {n}: {state} ({result.note})", flush=True)
    except Exception as exc:  # set-up broke (e.g. the server never started): the rest failed
        missing = rounds - len(results)
        results += [Result(False, f"error: {type(exc).__name__}: {exc}")] * missing
        if echo:
            print(f"  {drill.name}: error, {missing} rounds not run: {exc}", flush=True)
    return Summary(drill.name, results, time.monotonic() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kill -9 drill")
    parser.add_argument("--race-rounds", type=int, default=50, help="races of 8 PATCHes")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--only", help="comma-separated drill names: " + ", ".join(BY_NAME))
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(unknown)}")
    summaries = []
    with tempfile.TemporaryDirectory(prefix="matcher-drill-") as tmp:
        for name in names:
            drill = BY_NAME[name]
            count = args.race_rounds if drill.race else args.rounds
            summary = run_drill(drill, Path(tmp), count, args.seed)
            print(summary.line(), flush=True)
            summaries.append(summary)
    print("summary:")
    for s in summaries:
        print(f"  {s.line()}")
    print(f"acknowledged writes lost: {sum(s.lost for s in summaries)}", flush=True)
    return 1 if any(s.passed < len(s.results) for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
