"""A person adds their own group, and an organisation's admins keep its profile up to date.

An organiser whose group has no profile could not ask anyone for an introduction (the page
could only say "ask the administrator", real data walk), and a claimed profile could not be
corrected by its own people: its page told them to describe an offer in a few words, with no
way to do it. Now:

- a signed-in person with a **confirmed** e-mail registers a group: a new published profile,
  owned by `person:<id>` (no API key owns it; re-imports keep the owner), its source
  `registered` (so everyone can tell it from a registry's record), and the person its first
  admin, written in one transaction with it;
- a person registers at most `per_person` groups (3 by default): the count and the insert are
  one step (a no-op write of the person's row first: a row lock on PostgreSQL, the write lock
  on SQLite), so simultaneous registrations cannot pass the limit;
- the admins of an organisation (registered or claimed) edit its profile's public fields
  (`EDITABLE`); never its owner, sources, cause code, or whether it is published or active.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.accounts.claims import Claims
from matcher.accounts.members import lock_admins
from matcher.accounts.people import Person
from matcher.alerts.owners import person_owner
from matcher.domain import REGISTERED_SOURCE, Organisation
from matcher.errors import (
    AlreadyListedError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from matcher.names import canonical, readable_name
from matcher.store.models import MembershipRow, OrganisationRow, PersonRow
from matcher.store.repository import Stored, row_to_org

GROUPS_PER_PERSON = 3

# What a group's admins may change: the profile as others read it. Not: id, owner, sources,
# cause_code (a third party's code), published, active, updated_at.
EDITABLE = frozenset(Organisation.model_fields) - {
    "id",
    "owner",
    "sources",
    "cause_code",
    "published",
    "active",
    "updated_at",
}


class ProfileWriter(Protocol):
    """What writes a profile and keeps the index in step (the engine)."""

    def create_organisation(
        self, org: Organisation, *, with_rows: Callable[[Session], None] | None = None
    ) -> Stored: ...

    def update_organisation(
        self,
        org_id: str,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
        with_rows: Callable[[Session], None] | None = None,
    ) -> Stored: ...


class Groups:
    def __init__(self, claims: Claims, writer: ProfileWriter, per_person: int = GROUPS_PER_PERSON):
        self.claims = claims
        self.db = claims.db
        self.writer = writer
        self.per_person = per_person

    def register(self, person: Person, org: Organisation) -> Stored:
        """Add `org` as the person's group, the person its first admin. The profile's own
        owner, sources, published and active flags are set here, whatever `org` says."""
        if not person.email_verified:
            raise PermissionDeniedError(
                "Confirm your e-mail address first (open the link we e-mailed you, or ask for "
                "a new one on your account page): a group's profile is public, and it is how "
                "partners reach you"
            )
        owner = person_owner(person.id)
        org = org.model_copy(
            update={
                "owner": owner,
                "sources": [REGISTERED_SOURCE],
                "published": True,
                "active": True,
                "cause_code": None,
            }
        )

        def first_admin(s: Session) -> None:
            # serialise this person's registrations until the transaction ends
            mine = PersonRow.id == person.id
            s.execute(update(PersonRow).where(mine).values(name=PersonRow.name))
            count = s.scalar(
                select(func.count())
                .select_from(OrganisationRow)
                .where(OrganisationRow.owner == owner)
            )
            if self.per_person == 0:
                raise PermissionDeniedError(
                    "this service does not take new groups from its users; ask its "
                    "administrator to add yours"
                )
            if (count or 0) >= self.per_person:
                raise ConflictError(
                    f"you have added {count} groups already, the most one person may add "
                    f"({self.per_person}); ask the administrator of this service for more"
                )
            # one name, one place: a second "Olneyville Tenants Union" in Providence let its
            # maker ask others in the real group's name (real data walk)
            same = _listed_as(s, org)
            if same is not None:
                listed_id, listed_name = same
                shown = readable_name(listed_name)
                called = "" if shown == org.name else f" as '{shown}'"
                raise AlreadyListedError(
                    f"'{org.name}' is listed here already{called} (/organisations/{listed_id}). "
                    "If it is your group, claim it from its page instead of adding it again.",
                    organisation_id=listed_id,
                )
            s.add(
                MembershipRow(
                    organisation_id=org.id,
                    person_id=person.id,
                    role="admin",
                    created_at=self.claims.accounts.clock(),
                )
            )

        return self.writer.create_organisation(org, with_rows=first_admin)

    def _require_admin(self, person: Person, organisation_id: str) -> None:
        _refuse_unless_admin(self.claims.role(person.id, organisation_id), organisation_id)

    def admin_profile(self, person: Person, organisation_id: str) -> Stored:
        """The stored profile of an organisation the person is an admin of."""
        self._require_admin(person, organisation_id)
        with self.db.session() as s:
            row = s.scalar(select(OrganisationRow).where(OrganisationRow.id == organisation_id))
            if row is None:
                raise NotFoundError(f"no organisation '{organisation_id}'")
            return Stored(row.pk, row.version, row_to_org(row))

    def update(
        self,
        person: Person,
        organisation_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Stored:
        """Change the profile of an organisation the person is an admin of."""
        self._require_admin(person, organisation_id)
        refused = sorted(set(changes) - EDITABLE)
        if refused:
            raise ValidationError(
                f"a group's admins cannot change {', '.join(refused)}", field=refused[0]
            )
        if not changes:
            raise ValidationError("nothing to change")

        def still_admin(s: Session) -> None:
            # read again in the write's transaction, behind the admin rows' locks (a removal or
            # demotion takes them first): an admin removed after the check above saved once
            lock_admins(s, organisation_id)
            _refuse_unless_admin(self.claims._role(s, person.id, organisation_id), organisation_id)

        return self.writer.update_organisation(
            organisation_id, dict(changes), expected_version=expected_version, with_rows=still_admin
        )


def _refuse_unless_admin(role: str | None, organisation_id: str) -> None:
    if role is None:
        raise NotFoundError(f"you are not a member of '{organisation_id}'")
    if role != "admin":
        raise PermissionDeniedError(
            f"only the admins of '{organisation_id}' can change its profile"
        )


def _listed_as(s: Session, org: Organisation) -> tuple[str, str] | None:
    """The published profile in `org`'s region (none: also none) with its name: the same
    content words up to case, punctuation, order and a company suffix ("OLNEYVILLE TENANTS
    UNION INC" as the IRS file writes it is "Olneyville Tenants Union", a user's entry let a
    second profile of one group be made). A name of only joining words compares as written."""
    written = " ".join(org.name.split()).lower()
    key = canonical(org.name, legal=True)
    query = select(OrganisationRow.id, OrganisationRow.name).where(
        OrganisationRow.region.is_(None)
        if org.region is None
        else OrganisationRow.region == org.region,
        OrganisationRow.published.is_(True),
    )
    if not key:
        row = s.execute(query.where(func.lower(OrganisationRow.name) == written)).first()
        return None if row is None else (str(row[0]), str(row[1]))
    # the rarest-looking word narrows the rows read (every key word is in the stored name)
    longest = max(key.split(), key=len)
    for org_id, name in s.execute(query.where(func.lower(OrganisationRow.name).contains(longest))):
        if canonical(name, legal=True) == key:
            return str(org_id), str(name)
    return None
