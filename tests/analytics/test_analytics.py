"""The analytics figures on a hand-built history (SQLite and PostgreSQL), and the pure parts:
grouping by cause, lazily expired requests, empty groups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from matcher.analytics import (
    Facts,
    GroupStats,
    IntroFact,
    OrgFact,
    RecordFact,
    analytics,
    cause_key,
    summarise,
)
from tests.analytics.analytics_world import (
    EXPECTED_CAUSES,
    EXPECTED_PAIRS,
    EXPECTED_TOTALS,
    NTEE_TITLES,
    History,
    build,
)
from tests.support_databases import database_for


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[History]:
    with database_for(request.param, tmp_path) as db:
        yield build(db)


def _check(stats: GroupStats, expected: dict[str, object]) -> None:
    for name, value in expected.items():
        assert getattr(stats, name) == value, (stats.key, name)


def test_figures_by_sector_pair_cause_and_in_all(history: History) -> None:
    # every group on its own (min_group 1): the small-group rule is tested on its own
    result = analytics(history.db, cause_titles=NTEE_TITLES, now=history.now, min_group=1)
    pairs = {g.key: g for g in result.by_sector_pair}
    assert set(pairs) == set(EXPECTED_PAIRS)
    for key, expected in EXPECTED_PAIRS.items():
        _check(pairs[key], expected)
    causes = {g.key: g for g in result.by_cause}
    assert set(causes) == set(EXPECTED_CAUSES)
    for key, expected in EXPECTED_CAUSES.items():
        _check(causes[key], expected)
    _check(result.totals, EXPECTED_TOTALS)
    assert causes["K"].label == "food, agriculture and nutrition (K)"
    assert pairs["nonprofit->business"].label == "nonprofit → business"
    # largest groups first
    assert [g.requests for g in result.by_sector_pair] == sorted(
        (g.requests for g in result.by_sector_pair), reverse=True
    )


def test_cause_key_groups_ntee_codes_by_major_group() -> None:
    assert cause_key(OrgFact("nonprofit", "K31", ("food",))) == "K"
    assert cause_key(OrgFact("nonprofit", "k31")) == "K"
    assert cause_key(OrgFact("nonprofit", "food_security")) == "food_security"
    assert cause_key(OrgFact("business", None, ("", "health"))) == "health"
    assert cause_key(OrgFact("business")) == "(none)"
    assert cause_key(None) == "(none)"


def test_an_overdue_request_counts_as_expired_before_the_service_marks_it() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    facts = Facts(
        orgs={"a": OrgFact("business"), "b": OrgFact("nonprofit")},
        intros=[IntroFact("i1", "a", "b", "requested", t0, None, t0 + timedelta(days=30))],
    )
    before = summarise(facts, now=t0 + timedelta(days=29))
    after = summarise(facts, now=t0 + timedelta(days=31))
    assert (before.totals.open, before.totals.expired, before.totals.response_rate) == (1, 0, None)
    assert (after.totals.open, after.totals.expired, after.totals.response_rate) == (0, 1, 0.0)


def test_unknown_organisations_and_an_empty_history() -> None:
    empty = summarise(Facts())
    assert empty.totals.requests == 0 and empty.by_sector_pair == [] and empty.by_cause == []
    assert empty.totals.acceptance_rate is None and empty.totals.mean_rating is None
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    facts = Facts(
        intros=[IntroFact("i1", "gone", "b", "accepted", t0, t0 + timedelta(minutes=30))],
        records=[RecordFact("r1", "gone", "b", "i-unknown", "closed", "not_achieved", (1,))],
    )
    (pair,) = summarise(facts, now=t0, min_group=1).by_sector_pair
    assert pair.key == "unknown->unknown"
    assert (pair.median_hours_to_answer, pair.not_achieved, pair.mean_rating) == (0.5, 1, 1.0)
