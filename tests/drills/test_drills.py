"""The short version of `make drill`: one seeded round of each kill -9 drill and 10 races, on
SQLite and, when a server is given (.ci/run starts one), on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drills.common import postgres_url
from tests.drills.run import BY_NAME, DRILLS, run_drill

RACE_ROUNDS = 10


def _param(name: str) -> object:
    if BY_NAME[name].postgres:
        return pytest.param(name, marks=pytest.mark.postgres)
    return name


@pytest.mark.parametrize("name", [_param(d.name) for d in DRILLS])
def test_drill_round(name: str, tmp_path: Path) -> None:
    drill = BY_NAME[name]
    if drill.postgres and postgres_url() is None:
        pytest.skip("no PostgreSQL server: set MATCHER_TEST_POSTGRES_URL (.ci/run starts one)")
    summary = run_drill(drill, tmp_path, RACE_ROUNDS if drill.race else 1, seed=9, echo=False)
    notes = [r.note for r in summary.results]
    assert summary.results and summary.passed == len(summary.results), notes
    assert summary.lost == 0, notes
    if drill.race:
        assert [w for r in summary.results for w in r.winners] == [1] * RACE_ROUNDS, notes
    if name.startswith(("ingest", "build", "fit")):
        assert "killed=True" in notes[0], notes  # the kill landed mid-way, not after the end
    if name.startswith("ingest-write"):
        assert "in write=True" in notes[0], notes  # the kill landed inside the database write
