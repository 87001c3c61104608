"""Every card of the T4 dev run is true and readable, and nonprofits stay in the need's state.

The T4 dev needs of two states (Rhode Island and Delaware) are asked, as the benchmark asks
them, against the real nonprofits of those states, the S&P 500 companies and the federal agency
registry with its programmes, all loaded with the project's importers. Needs the shared data
(read at run time, never copied); skipped without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.embedding.base import Embedder
from matcher.engine import Engine
from matcher.settings import Settings
from training.benchmarks.card_checks import card_problems
from training.benchmarks.t4_engine import run_engine_t4
from training.benchmarks.t4_task import (
    NONPROFITS_FILE,
    _read,
    agency_organisations,
    build_t4_from_frames,
    company_organisations,
    nonprofit_organisations,
    read_needs,
    store_programmes,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
STATES = ("RI", "DE")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SHARED / "benchmarks" / "t4_needs_dev.jsonl").is_file()
        or not (SHARED / "data" / "us_federal_programs.csv").is_file(),
        reason="needs ../shared/data and ../shared/benchmarks",
    ),
]


@pytest.fixture(scope="module")
def t4_engine(
    real_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, object]]:
    data = SHARED / "data"
    nonprofits = _read(data / NONPROFITS_FILE)
    nonprofits = nonprofits[nonprofits["state"].str.upper().isin(STATES)]
    companies = _read(data / "sp500_companies.csv")
    agencies = _read(data / "us_federal_agencies.csv")
    needs = [
        n for n in read_needs(SHARED / "benchmarks" / "t4_needs_dev.jsonl") if n.state in STATES
    ]
    gov, _ = agency_organisations(data / "us_federal_agencies.csv")
    orgs = [
        *nonprofit_organisations(nonprofits),
        *company_organisations(data / "sp500_companies.csv"),
        *gov,
    ]
    task = build_t4_from_frames(needs, nonprofits, companies, agencies, orgs)
    settings = Settings(data_dir=tmp_path_factory.mktemp("t4-cards"))
    engine = Engine.open(settings, embedder=real_embedder, load=False)
    engine.store.upsert_organisations(orgs)
    store_programmes(data, engine.store)
    engine.build()
    yield engine, task
    engine.close()


def test_every_card_is_true_readable_and_local(t4_engine: tuple[Engine, object]) -> None:
    engine, task = t4_engine
    runs = run_engine_t4(engine, task)  # type: ignore[arg-type]
    assert len(runs) == 4
    problems: list[str] = []
    cards = 0
    for run in runs:
        shown = [*run.coalition, *(m for ms in run.lists.values() for m in ms)]
        for match in shown:
            cards += 1
            problems += [f"{run.need.id} {match.id}: {p}" for p in card_problems(match, run.asked)]
            if match.sector == "nonprofit":
                assert match.region == run.need.state, (run.need.id, match.id, match.region)
    assert cards > 40
    assert problems == []
