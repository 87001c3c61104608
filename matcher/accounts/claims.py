"""Organisation claims and memberships. A claim is approved at once when the person's
confirmed e-mail is at the organisation's website domain; otherwise it waits for an admin
(API key with role admin). An approved claim makes the person a member; the first member of
an organisation becomes its admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.accounts.credentials import email_domain
from matcher.accounts.domains import domain_matches
from matcher.accounts.people import Accounts, Person
from matcher.domain import new_id
from matcher.errors import ConflictError, NotFoundError, ValidationError
from matcher.store.db import aware as _aware
from matcher.store.models import ClaimRow, MembershipRow, OrganisationRow, PersonRow

MEMBER_ROLES = ("member", "admin")
CLAIM_STATUSES = ("pending", "approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class Claim:
    id: str
    organisation_id: str
    person_id: str
    status: str
    method: str | None
    domain_match: bool
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class Membership:
    organisation_id: str
    organisation_name: str
    role: str
    since: datetime


@dataclass(frozen=True)
class Member:
    person_id: str
    name: str
    email: str
    role: str
    since: datetime


def _claim(row: ClaimRow) -> Claim:
    return Claim(
        id=row.id,
        organisation_id=row.organisation_id,
        person_id=row.person_id,
        status=row.status,
        method=row.method,
        domain_match=row.domain_match,
        created_at=_aware(row.created_at) or row.created_at,
        decided_at=_aware(row.decided_at),
    )


class Claims:
    def __init__(self, accounts: Accounts):
        self.accounts = accounts
        self.db = accounts.db
        accounts.on_verified.append(self.approve_domain_claims)

    def _approve(self, s: Session, row: ClaimRow, method: str, by: str | None) -> None:
        row.status = "approved"
        row.method = method
        row.decided_at = self.accounts.clock()
        row.decided_by = by
        has_members = s.scalar(
            select(func.count())
            .select_from(MembershipRow)
            .where(MembershipRow.organisation_id == row.organisation_id)
        )
        s.add(
            MembershipRow(
                organisation_id=row.organisation_id,
                person_id=row.person_id,
                role="member" if has_members else "admin",
                created_at=self.accounts.clock(),
            )
        )

    def request(self, person: Person, organisation_id: str) -> Claim:
        with self.db.session() as s:
            org = s.scalar(select(OrganisationRow).where(OrganisationRow.id == organisation_id))
            if org is None or not org.published:
                raise NotFoundError(f"no organisation '{organisation_id}'")
            if not org.active:
                raise ValidationError(
                    f"organisation '{organisation_id}' is inactive", field="organisation_id"
                )
            if self._role(s, person.id, organisation_id) is not None:
                raise ConflictError(f"you are already a member of '{organisation_id}'")
            pending = s.scalar(
                select(ClaimRow.id).where(
                    ClaimRow.organisation_id == organisation_id,
                    ClaimRow.person_id == person.id,
                    ClaimRow.status == "pending",
                )
            )
            if pending is not None:
                raise ConflictError(f"your claim {pending} on '{organisation_id}' is pending")
            match = domain_matches(email_domain(person.email), org.website)
            row = ClaimRow(
                id=new_id("claim"),
                organisation_id=organisation_id,
                person_id=person.id,
                status="pending",
                domain_match=match,
                created_at=self.accounts.clock(),
            )
            s.add(row)
            if match and person.email_verified:
                self._approve(s, row, "domain", None)
            s.flush()
            return _claim(row)

    def _pending(self, s: Session, claim_id: str) -> ClaimRow:
        row = s.get(ClaimRow, claim_id)
        if row is None:
            raise NotFoundError(f"no claim '{claim_id}'")
        if row.status != "pending":
            raise ConflictError(f"claim '{claim_id}' is already {row.status}")
        return row

    def approve(self, claim_id: str, by: str | None) -> Claim:
        with self.db.session() as s:
            row = self._pending(s, claim_id)
            if self._role(s, row.person_id, row.organisation_id) is not None:
                raise ConflictError("the person is already a member of that organisation")
            self._approve(s, row, "admin", by)
            return _claim(row)

    def reject(self, claim_id: str, by: str | None) -> Claim:
        with self.db.session() as s:
            row = self._pending(s, claim_id)
            row.status, row.method = "rejected", "admin"
            row.decided_at, row.decided_by = self.accounts.clock(), by
            return _claim(row)

    def withdraw(self, claim_id: str, person: Person) -> Claim:
        """A person withdraws their own pending claim; another person's claim is 'not found'."""
        with self.db.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None or row.person_id != person.id:
                raise NotFoundError(f"no claim '{claim_id}' of yours")
            row = self._pending(s, claim_id)
            row.status, row.decided_at = "withdrawn", self.accounts.clock()
            return _claim(row)

    def approve_domain_claims(self, person: Person) -> None:
        """After the e-mail is confirmed: its pending domain-matching claims are approved."""
        if not person.email_verified:
            return
        with self.db.session() as s:
            rows = s.scalars(
                select(ClaimRow).where(
                    ClaimRow.person_id == person.id,
                    ClaimRow.status == "pending",
                    ClaimRow.domain_match.is_(True),
                )
            ).all()
            for row in rows:
                if self._role(s, row.person_id, row.organisation_id) is None:
                    self._approve(s, row, "domain", None)
                    s.flush()

    def list_claims(self, status: str | None = None, limit: int = 200) -> list[Claim]:
        q = select(ClaimRow).order_by(ClaimRow.created_at, ClaimRow.id).limit(limit)
        if status is not None:
            q = q.where(ClaimRow.status == status)
        with self.db.session() as s:
            return [_claim(r) for r in s.scalars(q)]

    def of_person(self, person_id: str) -> list[Claim]:
        q = (
            select(ClaimRow)
            .where(ClaimRow.person_id == person_id)
            .order_by(ClaimRow.created_at, ClaimRow.id)
        )
        with self.db.session() as s:
            return [_claim(r) for r in s.scalars(q)]

    def _role(self, s: Session, person_id: str, organisation_id: str) -> str | None:
        return s.scalar(
            select(MembershipRow.role).where(
                MembershipRow.person_id == person_id,
                MembershipRow.organisation_id == organisation_id,
            )
        )

    def role(self, person_id: str, organisation_id: str) -> str | None:
        """'admin', 'member', or None when the person is not a member of the organisation."""
        with self.db.session() as s:
            return self._role(s, person_id, organisation_id)

    def memberships(self, person_id: str) -> list[Membership]:
        q = (
            select(MembershipRow, OrganisationRow.name)
            .join(OrganisationRow, OrganisationRow.id == MembershipRow.organisation_id)
            .where(MembershipRow.person_id == person_id)
            .order_by(MembershipRow.created_at, MembershipRow.pk)
        )
        with self.db.session() as s:
            return [
                Membership(m.organisation_id, name, m.role, _aware(m.created_at) or m.created_at)
                for m, name in s.execute(q)
            ]

    def members(self, organisation_id: str) -> list[Member]:
        q = (
            select(MembershipRow, PersonRow)
            .join(PersonRow, PersonRow.id == MembershipRow.person_id)
            .where(MembershipRow.organisation_id == organisation_id)
            .order_by(MembershipRow.created_at, MembershipRow.pk)
        )
        with self.db.session() as s:
            return [
                Member(p.id, p.name, p.email, m.role, _aware(m.created_at) or m.created_at)
                for m, p in s.execute(q)
            ]
