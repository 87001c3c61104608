"""The per-organisation daily limit of introduction requests holds under simultaneous requests
(SQLite and PostgreSQL): the day's count and the insert are serialised per asking organisation,
so six requests released at once with a limit of 3 give exactly 3 introductions, and the others
a clear 'too many requests'. Counting is slowed down here so every request counts before any
inserts (without the lock all six got in)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from intro_world import World, add_org, make_world

from matcher.errors import QuotaExceededError
from matcher.introductions import Introductions, IntroductionSettings
from tests.support_databases import database_for
from tests.support_threads import together

N = 6
LIMIT = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_for(request.param, tmp_path) as db:
        yield make_world(db, IntroductionSettings(per_day=LIMIT))


def slow_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request waits after counting (the race window, made wide)."""
    original = Introductions._check_quota

    def counted_then_wait(self: Introductions, s: Any, from_org: str) -> None:
        original(self, s, from_org)
        time.sleep(0.3)

    monkeypatch.setattr(Introductions, "_check_quota", counted_then_wait)


def test_simultaneous_requests_never_pass_the_daily_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    targets = [add_org(w.db, f"t{k}-{w.a}", f"Target {k}") for k in range(N)]
    slow_count(monkeypatch)
    out = together(
        N, lambda k: w.intros.request(w.a_member, targets[k], "Hello", need_text="a need")
    )
    made = [o for o in out if not isinstance(o, Exception)]
    refused = [o for o in out if isinstance(o, Exception)]
    assert len(made) == LIMIT, out
    assert all(isinstance(e, QuotaExceededError) for e in refused), refused
    assert "the most allowed (3)" in str(refused[0])


def test_another_organisation_is_not_held_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is the asking organisation's: B's request does not count against A's limit."""
    w = world
    targets = [add_org(w.db, f"u{k}-{w.a}", f"Other {k}") for k in range(LIMIT)]
    slow_count(monkeypatch)
    out = together(
        2 * LIMIT,
        lambda k: w.intros.request(
            w.a_member if k % 2 else w.b_member, targets[k // 2], "Hi", need_text="a need"
        ),
    )
    assert [o for o in out if isinstance(o, Exception)] == []
