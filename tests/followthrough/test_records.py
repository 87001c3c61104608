"""Partnership records on SQLite and PostgreSQL: the life of a record (propose, accept, edit,
check in, close), who may do what, versions, the compare-and-set under racing edits, and the
closed record as a training label."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.accounts.claims import Claims
from matcher.accounts.people import Accounts
from matcher.domain import Organisation
from matcher.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    ValidationError,
)
from matcher.followthrough.plan import CheckInInput, Goal, Outcome, Plan
from matcher.followthrough.records import PartnershipRecords
from matcher.store import Database
from matcher.store.repository import Store
from tests.support_databases import database_for

ORGS = ("pantry", "grocer", "council")


def _plan(title: str = "Saturday food distribution", target: float = 300) -> Plan:
    return Plan(
        title=title,
        goals=[
            Goal(
                id="meals",
                description="More families fed",
                indicator="meals a week",
                baseline=120,
                target=target,
            )
        ],
        roles={"pantry": "runs the distribution", "grocer": "donates groceries"},
    )


class World:
    def __init__(self, db: Database):
        self.db = db
        Store(db).upsert_organisations(
            [Organisation(id=o, name=o.title(), sector="nonprofit", description=o) for o in ORGS]
        )
        self.accounts = Accounts(db)
        self.claims = Claims(self.accounts)
        self.records = PartnershipRecords(db)

    def member(self, org: str, name: str) -> str:
        person = self.accounts.sign_up(f"{name}@people.example", "correct horse battery", name)
        self.claims.approve(self.claims.request(person, org).id, by="admin")
        return person.id


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_for(request.param, tmp_path) as db:
        yield World(db)


def test_the_life_of_a_record(world: World) -> None:
    ana, ben = world.member("pantry", "ana"), world.member("grocer", "ben")
    rec = world.records.propose(ana, "pantry", "grocer", _plan())
    assert rec.status == "proposed" and rec.version == 1
    with pytest.raises(PermissionDeniedError):  # the proposer cannot accept for the partner
        world.records.accept(ana, rec.id)
    with pytest.raises(ConflictError):  # no check-in before it is accepted
        world.records.check_in(ben, rec.id, CheckInInput(rating=4))
    rec = world.records.accept(ben, rec.id)
    assert rec.status == "active" and rec.started_at is not None and rec.version == 2
    rec = world.records.edit(ben, rec.id, _plan(target=400), expected_version=2)
    assert rec.plan.goals[0].target == 400 and rec.version == 3
    world.records.check_in(ana, rec.id, CheckInInput(progress={"meals": 180}, rating=4))
    world.records.check_in(ben, rec.id, CheckInInput(progress={"meals": 260}, note="two vans"))
    got = world.records.check_ins(ana, rec.id)
    assert [(c.organisation_id, c.progress) for c in got] == [
        ("pantry", {"meals": 180.0}),
        ("grocer", {"meals": 260.0}),
    ]
    assert rec.plan.goals[0].share_done(260) == pytest.approx((260 - 120) / (400 - 120))
    rec = world.records.close(ana, rec.id, Outcome(result="partly_achieved", learned="x"), 3)
    assert rec.status == "closed" and rec.outcome is not None
    history = [
        (v.version, v.change, v.status, v.plan.goals[0].target)
        for v in world.records.versions(ben, rec.id)
    ]
    assert history == [
        (1, "proposed", "proposed", 300),
        (2, "accepted", "active", 300),
        (3, "edited", "active", 400),
        (4, "closed", "closed", 400),
    ]
    with pytest.raises(ConflictError):
        world.records.check_in(ana, rec.id, CheckInInput(rating=3))


def test_only_the_two_organisations_see_it(world: World) -> None:
    ana, ben = world.member("pantry", "ana"), world.member("grocer", "ben")
    cat = world.member("council", "cat")
    rec = world.records.propose(ana, "pantry", "grocer", _plan())
    for who in (ana, ben):
        assert world.records.get(who, rec.id).id == rec.id
        assert [r.id for r in world.records.for_person(who)] == [rec.id]
    for call in (
        lambda: world.records.get(cat, rec.id),
        lambda: world.records.versions(cat, rec.id),
        lambda: world.records.check_ins(cat, rec.id),
        lambda: world.records.accept(cat, rec.id),
        lambda: world.records.decline(cat, rec.id),
        lambda: world.records.edit(cat, rec.id, _plan(), 1),
    ):
        with pytest.raises(NotFoundError):  # to a third party it does not exist
            call()
    assert world.records.for_person(cat) == []
    with pytest.raises(PermissionDeniedError):  # proposing for an organisation one is not in
        world.records.propose(cat, "pantry", "grocer", _plan())


def test_bad_proposals_are_refused_with_the_reason(world: World) -> None:
    ana = world.member("pantry", "ana")
    with pytest.raises(ValidationError, match="two organisations"):
        world.records.propose(ana, "pantry", "pantry", _plan())
    with pytest.raises(ValidationError, match="no active organisation 'nowhere'"):
        world.records.propose(ana, "pantry", "nowhere", _plan())
    bad_roles = _plan().model_copy(update={"roles": {"council": "watches"}})
    with pytest.raises(ValidationError, match="roles"):
        world.records.propose(ana, "pantry", "grocer", bad_roles)
    first = world.records.propose(ana, "pantry", "grocer", _plan())
    with pytest.raises(ConflictError, match=first.id):  # one open record per pair
        world.records.propose(ana, "pantry", "grocer", _plan("again"))
    ben = world.member("grocer", "ben")
    world.records.decline(ben, first.id)
    assert world.records.propose(ana, "pantry", "grocer", _plan("again")).status == "proposed"


def test_check_ins_name_real_goals_and_one_side(world: World) -> None:
    ana, ben = world.member("pantry", "ana"), world.member("grocer", "ben")
    rec = world.records.accept(ben, world.records.propose(ana, "pantry", "grocer", _plan()).id)
    with pytest.raises(ValidationError, match="unknown goals: trees"):
        world.records.check_in(ana, rec.id, CheckInInput(progress={"trees": 3}))
    both = world.accounts.sign_up("dee@people.example", "correct horse battery", "dee")
    for org in ("pantry", "grocer"):
        world.claims.approve(world.claims.request(both, org).id, by="admin")
    with pytest.raises(ValidationError, match="say which side"):
        world.records.check_in(both.id, rec.id, CheckInInput(rating=5))
    done = world.records.check_in(both.id, rec.id, CheckInInput(rating=5, organisation_id="grocer"))
    assert done.organisation_id == "grocer"


def test_racing_edits_of_one_version_have_exactly_one_winner(world: World) -> None:
    """8 threads edit version 2 at once, 10 rounds: one wins each round, the others get
    StaleVersionError, and the versions kept are exactly the winners' (no lost update)."""
    ana, ben = world.member("pantry", "ana"), world.member("grocer", "ben")
    rec = world.records.accept(ben, world.records.propose(ana, "pantry", "grocer", _plan()).id)
    version = rec.version
    for round_ in range(10):
        barrier = threading.Barrier(8)
        wins: list[int] = []
        stale: list[int] = []

        def edit(
            i: int,
            v: int = version,
            barrier: threading.Barrier = barrier,
            round_: int = round_,
            wins: list[int] = wins,
            stale: list[int] = stale,
        ) -> None:
            barrier.wait()
            try:
                world.records.edit(ana if i % 2 else ben, rec.id, _plan(f"r{round_}-{i}"), v)
                wins.append(i)
            except StaleVersionError:
                stale.append(i)

        threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and len(stale) == 7, (round_, wins, stale)
        now = world.records.get(ana, rec.id)
        assert now.version == version + 1 and now.plan.title == f"r{round_}-{wins[0]}"
        version = now.version
    kept = [v.version for v in world.records.versions(ana, rec.id)]
    assert kept == list(range(1, version + 1))


def test_a_closed_record_is_a_training_label(world: World) -> None:
    from training.history import labelled_pairs

    ana, ben = world.member("pantry", "ana"), world.member("grocer", "ben")
    rec = world.records.accept(ben, world.records.propose(ana, "pantry", "grocer", _plan()).id)
    world.records.close(ben, rec.id, Outcome(result="achieved"), None)
    pairs = labelled_pairs(Store(world.db))
    row = pairs[pairs["ref"] == f"record-{rec.id}"]
    assert len(row) == 1
    assert row.iloc[0][["source_id", "partner_id", "label", "outcome"]].tolist() == [
        "pantry",
        "grocer",
        1,
        "achieved",
    ]
