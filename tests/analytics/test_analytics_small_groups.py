"""Small groups in the analytics: a sector pair or cause with fewer than `min_group` requests
(or records) is never shown on its own, so an analyst cannot read that one organisation
declined; it is merged into 'other (small groups)', which itself is made at least `min_group`
large (else the totals minus the shown rows would give it away)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from matcher.analytics import OTHER, Facts, IntroFact, OrgFact, analytics, summarise
from matcher.settings import Settings
from tests.analytics.analytics_world import (
    LARGE_MERGED_CAUSES,
    LARGE_MERGED_PAIRS,
    LARGE_OTHER_REQUESTS,
    LARGE_SHOWN_CAUSES,
    LARGE_SHOWN_PAIRS,
    LARGE_TOTAL_REQUESTS,
    NTEE_TITLES,
    History,
    build_with_large_groups,
)
from tests.support_databases import database_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECTORS = {"a": "nonprofit", "b": "business", "c": "government", "d": "community", "e": "academic"}


def facts(groups: dict[tuple[str, str], list[str]]) -> Facts:
    """Requests from sector to sector with these statuses (one organisation per sector)."""
    intros = []
    for (src, dst), statuses in groups.items():
        for n, status in enumerate(statuses):
            decided = T0 + timedelta(hours=1) if status in ("accepted", "declined") else None
            intros.append(IntroFact(f"{src}{dst}{n}", src, dst, status, T0, decided))
    return Facts(orgs={k: OrgFact(v) for k, v in SECTORS.items()}, intros=intros)


def test_small_groups_are_merged_into_other_and_large_ones_shown() -> None:
    result = summarise(
        facts(
            {
                ("a", "b"): ["accepted"] * 6,
                ("a", "c"): ["accepted"] * 5,
                ("d", "c"): ["declined"] * 3,
                ("e", "c"): ["accepted"] * 3,
            }
        ),
        now=T0,
        min_group=5,
    )
    keys = [g.key for g in result.by_sector_pair]
    assert keys == ["nonprofit->business", "nonprofit->government", OTHER]
    other = result.by_sector_pair[-1]
    assert (other.label, other.groups, other.requests) == ("other (small groups)", 2, 6)
    assert (other.accepted, other.declined, other.acceptance_rate) == (3, 3, 0.5)
    assert result.merged_sector_pairs == 2 and result.min_group == 5
    assert result.totals.requests == 17


def test_a_lone_decline_is_never_readable_even_from_the_totals() -> None:
    """One small group (a single declined request): 'other' would be that group alone, and
    the totals minus the shown rows would be its figures, so the smallest shown group is merged
    into 'other' too."""
    result = summarise(
        facts(
            {
                ("a", "b"): ["accepted"] * 6,
                ("a", "c"): ["accepted"] * 5,
                ("d", "c"): ["declined"],
            }
        ),
        now=T0,
        min_group=5,
    )
    assert [g.key for g in result.by_sector_pair] == ["nonprofit->business", OTHER]
    other = result.by_sector_pair[-1]
    assert (other.groups, other.requests, other.accepted, other.declined) == (2, 6, 5, 1)
    assert all("community" not in g.label for g in result.by_sector_pair)
    shown = sum(g.requests for g in result.by_sector_pair[:-1])
    assert result.totals.requests - shown == other.requests >= 5


def test_no_group_is_small_and_min_group_one_shows_every_group() -> None:
    data = facts({("a", "b"): ["accepted"] * 5, ("d", "c"): ["declined"]})
    assert [g.key for g in summarise(data, now=T0, min_group=1).by_sector_pair] == [
        "nonprofit->business",
        "community->government",
    ]
    big = facts({("a", "b"): ["accepted"] * 5, ("a", "c"): ["declined"] * 5})
    result = summarise(big, now=T0, min_group=5)
    assert OTHER not in {g.key for g in result.by_sector_pair} and result.merged_sector_pairs == 0


def test_everything_small_is_one_other_row() -> None:
    result = summarise(facts({("a", "b"): ["accepted"], ("d", "c"): ["declined"]}), now=T0)
    assert [(g.key, g.groups, g.requests) for g in result.by_sector_pair] == [(OTHER, 2, 2)]


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().analytics_min_group == 5
    monkeypatch.setenv("MATCHER_ANALYTICS_MIN_GROUP", "10")
    assert Settings().analytics_min_group == 10
    monkeypatch.setenv("MATCHER_ANALYTICS_MIN_GROUP", "0")
    with pytest.raises(ValueError, match="analytics_min_group"):
        Settings()


@pytest.fixture(params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[History]:
    with database_for(request.param, tmp_path) as db:
        yield build_with_large_groups(db)


def test_small_groups_over_a_database(history: History) -> None:
    result = analytics(history.db, cause_titles=NTEE_TITLES, now=history.now)
    assert result.totals.requests == LARGE_TOTAL_REQUESTS
    pairs = {g.key: g.requests for g in result.by_sector_pair}
    causes = {g.key: g.requests for g in result.by_cause}
    assert pairs == {**LARGE_SHOWN_PAIRS, OTHER: LARGE_OTHER_REQUESTS}
    assert causes == {**LARGE_SHOWN_CAUSES, OTHER: LARGE_OTHER_REQUESTS}
    assert [g.key for g in result.by_sector_pair][-1] == OTHER  # last, whatever its size
    # the community group's lone decline is nowhere on its own
    assert all("community" not in g.label for g in result.by_sector_pair)
    assert result.by_sector_pair[-1].groups == result.merged_sector_pairs == LARGE_MERGED_PAIRS
    assert result.by_cause[-1].groups == result.merged_causes == LARGE_MERGED_CAUSES
