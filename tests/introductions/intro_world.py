"""A small world for introduction tests: organisations A, B, C (and an inactive and an
unpublished one) with people who belong to them, on a database of either kind."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from matcher.accounts import Accounts
from matcher.domain import new_id, utcnow
from matcher.introductions import Introductions, IntroductionSettings
from matcher.store.db import Database
from matcher.store.models import MembershipRow, OrganisationRow, PersonRow

PASSWORD = "correct horse battery"


def add_org(
    db: Database,
    org_id: str,
    name: str,
    *,
    contact: str | None = None,
    active: bool = True,
    published: bool = True,
) -> str:
    with db.session() as s:
        s.add(
            OrganisationRow(
                id=org_id,
                name=name,
                sector="business",
                description=f"{name} does good work.",
                focus_areas=[],
                offers=[],
                needs=[],
                website=f"https://{org_id}.example",
                contact=contact,
                published=published,
                active=active,
                updated_at=utcnow(),
                text_hash="x",
                version=1,
            )
        )
    return org_id


def add_person(db: Database, name: str, domain: str = "example.org") -> str:
    """A person row without a usable password (these tests never log in: argon2 is slow)."""
    person_id = new_id("person")
    with db.session() as s:
        s.add(
            PersonRow(
                id=person_id,
                email=f"{name}.{uuid.uuid4().hex[:6]}@{domain}",
                name=name.capitalize(),
                password_hash="!",
                email_verified=True,
                created_at=utcnow(),
            )
        )
    return person_id


def add_member(db: Database, org_id: str, role: str, name: str) -> str:
    person_id = add_person(db, name, f"{org_id}.example")
    with db.session() as s:
        s.add(
            MembershipRow(
                organisation_id=org_id, person_id=person_id, role=role, created_at=utcnow()
            )
        )
    return person_id


@dataclass
class World:
    db: Database
    accounts: Accounts
    intros: Introductions
    now: list[datetime]
    a: str
    b: str
    c: str
    inactive: str
    hidden: str
    a_admin: str
    a_member: str
    b_admin: str
    b_member: str
    c_admin: str
    loner: str  # signed up, no organisation

    def email(self, person_id: str) -> str:
        return self.accounts.get(person_id).email


def make_world(db: Database, settings: IntroductionSettings | None = None) -> World:
    now = [utcnow()]
    clock: Callable[[], datetime] = lambda: now[0]  # noqa: E731
    accounts = Accounts(db, public_url="https://matcher.example", clock=clock)
    accounts.set_clock(clock)
    tag = uuid.uuid4().hex[:6]
    a = add_org(db, f"a-{tag}", "Harbour Food Bank", contact="+44 20 7946 0001")
    b = add_org(db, f"b-{tag}", "Northside Logistics", contact="ops@northside.example")
    c = add_org(db, f"c-{tag}", "City Parks Department", contact="parks desk, room 4")
    inactive = add_org(db, f"gone-{tag}", "Closed Ltd", active=False)
    hidden = add_org(db, f"hidden-{tag}", "Hidden Ltd", published=False)
    intros = Introductions(db, settings=settings, public_url="https://matcher.example", clock=clock)
    return World(
        db=db,
        accounts=accounts,
        intros=intros,
        now=now,
        a=a,
        b=b,
        c=c,
        inactive=inactive,
        hidden=hidden,
        a_admin=add_member(db, a, "admin", "ana"),
        a_member=add_member(db, a, "member", "abe"),
        b_admin=add_member(db, b, "admin", "ben"),
        b_member=add_member(db, b, "member", "bea"),
        c_admin=add_member(db, c, "admin", "cy"),
        loner=add_person(db, "loner"),
    )
