"""An organisation's admins manage its people, on SQLite and PostgreSQL: deciding claims on
their organisation only, roles, removal and leaving, and never an organisation without an
admin, even when two admins demote or remove each other at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.accounts import Accounts, Claims, Person
from matcher.accounts.members import OrganisationAdmin
from matcher.domain import Organisation
from matcher.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from matcher.store import Database
from matcher.store.repository import Store
from tests.support_databases import database_for


class World:
    def __init__(self, db: Database):
        Store(db).upsert_organisations(
            [
                Organisation(id=o, name=o, sector="nonprofit", description=o)
                for o in ("pantry", "other")
            ]
        )
        self.accounts = Accounts(db)
        self.claims = Claims(self.accounts)
        self.admin = OrganisationAdmin(self.claims)
        self.n = 0

    def person(self) -> Person:
        self.n += 1
        return self.accounts.sign_up(f"p{self.n}@people.example", "correct horse battery")

    def member(self, org: str) -> Person:
        p = self.person()
        self.claims.approve(self.claims.request(p, org).id, by="key")
        return p

    def role(self, p: Person, org: str = "pantry") -> str | None:
        return self.claims.role(p.id, org)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_for(request.param, tmp_path) as db:
        yield World(db)


def test_admins_decide_their_organisations_claims_only(world: World) -> None:
    first = world.member("pantry")  # the first member is its admin
    member = world.member("pantry")
    outsider_admin = world.member("other")
    claimant = world.person()
    claim = world.claims.request(claimant, "pantry")
    assert [c.id for c in world.admin.pending(first, "pantry")] == [claim.id]
    with pytest.raises(PermissionDeniedError):
        world.admin.pending(member, "pantry")
    with pytest.raises(NotFoundError):
        world.admin.decide(outsider_admin, "pantry", claim.id, True)
    with pytest.raises(NotFoundError):  # a claim on another organisation is not found
        world.admin.decide(outsider_admin, "other", claim.id, True)
    decided = world.admin.decide(first, "pantry", claim.id, True)
    assert decided.status == "approved" and world.role(claimant) == "member"
    with pytest.raises(ConflictError):
        world.admin.decide(first, "pantry", claim.id, False)


def test_roles_removal_and_the_last_admin(world: World) -> None:
    ana, ben, cy = world.member("pantry"), world.member("pantry"), world.member("pantry")
    with pytest.raises(ConflictError, match="last admin"):
        world.admin.set_role(ana, "pantry", ana.id, "member")
    with pytest.raises(ConflictError, match="last admin"):
        world.admin.remove(ana, "pantry", ana.id)
    with pytest.raises(PermissionDeniedError):
        world.admin.set_role(ben, "pantry", ben.id, "admin")
    with pytest.raises(ValidationError, match="role"):
        world.admin.set_role(ana, "pantry", ben.id, "owner")
    assert world.admin.set_role(ana, "pantry", ben.id, "admin") == "admin"
    world.admin.remove(ana, "pantry", ana.id)  # another admin exists: ana may leave
    assert world.role(ana) is None
    world.admin.remove(cy, "pantry", cy.id)  # any member may leave
    with pytest.raises(NotFoundError):
        world.admin.remove(ben, "pantry", cy.id)
    world.admin.remove(ben, "pantry", ben.id)  # the last member of all may leave
    assert world.claims.members("pantry") == []


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(world: World, action: str) -> None:
    for _round in range(10):
        a, b = world.member("pantry"), world.member("pantry")
        _make_admins(world, [a, b])
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def act(
            me: Person,
            other: Person,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                if action == "demote":
                    world.admin.set_role(me, "pantry", other.id, "member")
                else:
                    world.admin.remove(me, "pantry", other.id)
                outcomes.append("done")
            except (ConflictError, PermissionDeniedError, NotFoundError) as exc:
                outcomes.append(type(exc).__name__)

        threads = [
            threading.Thread(target=act, args=(a, b)),
            threading.Thread(target=act, args=(b, a)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admins = [m for m in world.claims.members("pantry") if m.role == "admin"]
        assert len(admins) == 1, (action, outcomes)
        assert outcomes.count("done") == 1, outcomes
        boss = _person(world, admins[0].person_id)  # start the next round empty
        for m in sorted(world.claims.members("pantry"), key=lambda m: m.role == "admin"):
            world.admin.remove(boss, "pantry", m.person_id)


def _person(world: World, person_id: str) -> Person:
    return world.accounts.get(person_id)


def _first_admin(world: World) -> Person:
    admin = next(m for m in world.claims.members("pantry") if m.role == "admin")
    return _person(world, admin.person_id)


def _make_admins(world: World, people: list[Person]) -> None:
    """Exactly these people are the admins of 'pantry' (its only members)."""
    boss = _first_admin(world)
    for p in people:
        world.admin.set_role(boss, "pantry", p.id, "admin")
    for m in world.claims.members("pantry"):
        if m.person_id not in {p.id for p in people}:
            world.admin.remove(people[0], "pantry", m.person_id)
