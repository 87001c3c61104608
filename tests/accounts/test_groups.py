"""A person adds their own group and its admins edit its profile, on SQLite and PostgreSQL: a
confirmed e-mail first, the person its first admin in the same transaction, at most
`per_person` groups even when registrations race, and only the profile's public fields
changed, by admins only."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from matcher.accounts import Accounts, Claims, Person
from matcher.accounts.groups import Groups
from matcher.accounts.members import OrganisationAdmin
from matcher.domain import REGISTERED_SOURCE, Organisation
from matcher.errors import (
    AlreadyListedError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from matcher.store import Database
from matcher.store.models import PersonRow
from matcher.store.repository import Store, Stored
from tests.support_databases import database_for


class World:
    def __init__(self, db: Database, per_person: int = 3, people: str = "people"):
        self.db = db
        self.people = people
        self.store = Store(db)
        self.accounts = Accounts(db)
        self.claims = Claims(self.accounts)
        self.groups = Groups(self.claims, self.store, per_person=per_person)
        self.n = 0

    def person(self, confirmed: bool = True) -> Person:
        self.n += 1
        p = self.accounts.sign_up(f"p{self.n}@{self.people}.example", "correct horse battery")
        if confirmed:
            with self.db.session() as s:
                s.execute(update(PersonRow).where(PersonRow.id == p.id).values(email_verified=True))
        return self.accounts.get(p.id)

    def group(self, name: str = "Olneyville Tenants Union", **fields: object) -> Organisation:
        values: dict[str, object] = {
            "name": name,
            "sector": "community",
            "description": "Neighbours organising for safe, affordable housing.",
            "city": "Providence",
            "region": "RI",
            "country": "US",
            **fields,
        }
        return Organisation.model_validate(values)

    def ids_owned_by(self, person: Person) -> list[str]:
        rows, _total = self.store.list_organisations(owner=f"person:{person.id}", limit=100)
        return sorted(r.record.id for r in rows)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_for(request.param, tmp_path) as db:
        yield World(db)


def test_a_registered_group_is_published_marked_and_its_registrant_is_its_admin(
    world: World,
) -> None:
    ana = world.person()
    # whatever the form says about ownership and provenance, the registration sets them
    sent = world.group(owner="key_someone", sources=["irs:ein-1"], published=False)
    stored = world.groups.register(ana, sent)
    org = world.store.get_organisation(stored.record.id).record
    assert org.owner == f"person:{ana.id}"
    assert org.sources == [REGISTERED_SOURCE]
    assert org.published and org.active
    assert world.claims.role(ana.id, org.id) == "admin"
    assert [m.person_id for m in world.claims.members(org.id)] == [ana.id]


def test_an_unconfirmed_email_registers_nothing(world: World) -> None:
    ben = world.person(confirmed=False)
    with pytest.raises(PermissionDeniedError, match="Confirm your e-mail"):
        world.groups.register(ben, world.group())
    assert world.ids_owned_by(ben) == []
    assert world.claims.memberships(ben.id) == []


def test_a_refused_registration_leaves_neither_profile_nor_membership(world: World) -> None:
    """The limit is checked inside the transaction that writes the profile: over it, nothing
    of either is written."""
    capped = World(world.db, per_person=1, people="capped")
    cy = capped.person()
    first = capped.groups.register(cy, capped.group("First group"))
    with pytest.raises(ConflictError, match="the most one person may add"):
        capped.groups.register(cy, capped.group("Second group"))
    assert capped.ids_owned_by(cy) == [first.record.id]
    assert [m.organisation_id for m in capped.claims.memberships(cy.id)] == [first.record.id]
    closed = World(world.db, per_person=0, people="closed")
    with pytest.raises(PermissionDeniedError, match="does not take new groups"):
        closed.groups.register(closed.person(), closed.group("Third group"))


@pytest.mark.parametrize(
    "written",
    ["Olneyville Tenants Union", "olneyville  tenants union", "The Olneyville Tenants Union, Inc."],
)
def test_a_group_listed_under_its_file_name_is_found_as_the_user_writes_it(
    world: World, written: str
) -> None:
    """The IRS file writes "OLNEYVILLE TENANTS UNION INC"; a member adding "The Olneyville
    Tenants Union, Inc." made a second profile of it, from which they could ask partners in
    its name (only the exact name, up to case, was refused). Another group whose name holds
    more words, or the same name in another state, is still added."""
    imported = world.store.create_organisation(
        world.group("OLNEYVILLE TENANTS UNION INC", id="irs-0501", sources=["irs:ein-0501"])
    )
    ana = world.person()
    # named as it is listed, so the member recognises their group
    said = "listed here already as 'Olneyville Tenants Union Inc'"
    with pytest.raises(AlreadyListedError, match=said) as refused:
        world.groups.register(ana, world.group(written))
    assert refused.value.organisation_id == imported.record.id
    assert world.ids_owned_by(ana) == []
    youth = world.groups.register(ana, world.group("Olneyville Tenants Union Youth"))
    boston = world.groups.register(ana, world.group(written, city="Boston", region="MA"))
    assert world.ids_owned_by(ana) == sorted([youth.record.id, boston.record.id])


def test_simultaneous_registrations_never_pass_the_limit(world: World) -> None:
    capped = World(world.db, per_person=2, people="capped")
    dee = capped.person()
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def register(n: int) -> None:
        barrier.wait()
        try:
            capped.groups.register(dee, capped.group(f"Group {n}"))
            outcomes.append("added")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=register, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["added"] * 2 + ["refused"] * 4
    owned = capped.ids_owned_by(dee)
    assert len(owned) == 2
    assert sorted(m.organisation_id for m in capped.claims.memberships(dee.id)) == owned


def test_admins_edit_the_public_fields_only(world: World) -> None:
    ana = world.person()
    org_id = world.groups.register(ana, world.group()).record.id
    updated = world.groups.update(
        ana, org_id, {"offers": ["door-to-door outreach in Spanish"], "city": "Pawtucket"}
    )
    assert updated.record.offers == ["door-to-door outreach in Spanish"]  # as written
    assert world.store.get_organisation(org_id).record.city == "Pawtucket"
    for field, value in (("published", False), ("owner", "key_x"), ("sources", [])):
        with pytest.raises(ValidationError, match=field):
            world.groups.update(ana, org_id, {field: value})
    with pytest.raises(ValidationError, match="nothing to change"):
        world.groups.update(ana, org_id, {})
    after = world.store.get_organisation(org_id).record
    assert after.published and after.owner == f"person:{ana.id}"
    assert after.sources == [REGISTERED_SOURCE, "edited"]  # whatever the admin sent


def test_only_admins_edit_and_a_stale_version_is_refused(world: World) -> None:
    ana = world.person()
    stored = world.groups.register(ana, world.group())
    org_id = stored.record.id
    member = world.person()
    world.claims.approve(world.claims.request(member, org_id).id, by="key")
    outsider = world.person()
    with pytest.raises(PermissionDeniedError, match="only the admins"):
        world.groups.update(member, org_id, {"city": "Cranston"})
    with pytest.raises(NotFoundError, match="not a member"):
        world.groups.update(outsider, org_id, {"city": "Cranston"})
    with pytest.raises(NotFoundError):
        world.groups.admin_profile(outsider, org_id)
    world.groups.update(ana, org_id, {"city": "Cranston"}, expected_version=stored.version)
    with pytest.raises(ConflictError):
        world.groups.update(ana, org_id, {"city": "Warwick"}, expected_version=stored.version)
    assert world.store.get_organisation(org_id).record.city == "Cranston"


class _SlowWriter:
    """The store, with `meanwhile` run on another thread after the edit's role check and
    before its write (the interleaving that let a removed admin save once)."""

    def __init__(self, store: Store, meanwhile: Callable[[], None]):
        self.store = store
        self.meanwhile = meanwhile

    def create_organisation(self, org: Organisation, **kw: Any) -> Stored:
        return self.store.create_organisation(org, **kw)

    def update_organisation(self, org_id: str, changes: dict[str, Any], **kw: Any) -> Stored:
        other = threading.Thread(target=self.meanwhile)
        other.start()
        other.join()
        return self.store.update_organisation(org_id, changes, **kw)


@pytest.mark.parametrize("how", ["demoted", "removed"])
def test_an_admin_demoted_or_removed_during_an_edit_does_not_save(world: World, how: str) -> None:
    """The role was checked in one transaction and the profile written in another: an admin
    demoted or removed by another admin in between saved once. The role is now read again in
    the write's transaction, behind the admin rows' locks."""
    ana, bob = world.person(), world.person()
    org_id = world.groups.register(ana, world.group()).record.id
    admin = OrganisationAdmin(world.claims)
    world.claims.approve(world.claims.request(bob, org_id).id, by="key")
    admin.set_role(ana, org_id, bob.id, "admin")

    def bob_acts() -> None:
        if how == "demoted":
            admin.set_role(bob, org_id, ana.id, "member")
        else:
            admin.remove(bob, org_id, ana.id)

    slow = Groups(world.claims, _SlowWriter(world.store, bob_acts))
    error = PermissionDeniedError if how == "demoted" else NotFoundError
    with pytest.raises(error):
        slow.update(ana, org_id, {"city": "Pawtucket"})
    assert world.store.get_organisation(org_id).record.city == "Providence"
    assert world.claims.role(ana.id, org_id) == (None if how == "removed" else "member")
    # bob, still an admin, saves
    world.groups.update(bob, org_id, {"city": "Pawtucket"})
    assert world.store.get_organisation(org_id).record.city == "Pawtucket"
