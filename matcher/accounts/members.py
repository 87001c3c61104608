"""An organisation's admins manage its people: they see and decide its pending claims, change
members' roles and remove members; any member may leave. An organisation always keeps an
admin while it has members: the last admin can be neither removed nor demoted, nor leave, until
another member is made admin. Claims and members of organisations the person does not
administer are "not found" to them."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from matcher.accounts.claims import MEMBER_ROLES, Claim, Claims, _claim
from matcher.accounts.people import Person
from matcher.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from matcher.store.models import ClaimRow, MembershipRow


def lock_admins(s: Session, organisation_id: str) -> None:
    """A no-op write to the organisation's admin rows, first in the transaction: it takes
    their row locks on PostgreSQL and the write lock on SQLite, so two admins demoting or
    removing each other at once run one after the other, and the second sees the first's
    change (the organisation never ends up without an admin); a profile edit takes them too
    (matcher.accounts.groups), so an admin removed meanwhile cannot save."""
    s.execute(
        update(MembershipRow)
        .where(MembershipRow.organisation_id == organisation_id, MembershipRow.role == "admin")
        .values(role=MembershipRow.role)
        .execution_options(synchronize_session=False)
    )


class OrganisationAdmin:
    def __init__(self, claims: Claims):
        self.claims = claims
        self.db = claims.db

    def _require_admin(self, s: Session, person: Person, organisation_id: str) -> None:
        role = self.claims._role(s, person.id, organisation_id)
        if role is None:
            raise NotFoundError(f"you are not a member of '{organisation_id}'")
        if role != "admin":
            raise PermissionDeniedError(f"only the admins of '{organisation_id}' can do this")

    def pending(self, person: Person, organisation_id: str) -> list[Claim]:
        with self.db.session() as s:
            self._require_admin(s, person, organisation_id)
            q = (
                select(ClaimRow)
                .where(ClaimRow.organisation_id == organisation_id, ClaimRow.status == "pending")
                .order_by(ClaimRow.created_at, ClaimRow.id)
            )
            return [_claim(r) for r in s.scalars(q)]

    def _claim_of(self, s: Session, organisation_id: str, claim_id: str) -> ClaimRow:
        row = s.get(ClaimRow, claim_id)
        if row is None or row.organisation_id != organisation_id:
            raise NotFoundError(f"no claim '{claim_id}' on '{organisation_id}'")
        return row

    def decide(self, person: Person, organisation_id: str, claim_id: str, approve: bool) -> Claim:
        """Approve (the claimant becomes a member) or reject a pending claim on the admin's
        organisation."""
        with self.db.session() as s:
            self._require_admin(s, person, organisation_id)
            self._claim_of(s, organisation_id, claim_id)
        if approve:
            return self.claims.approve(claim_id, by=person.id)
        return self.claims.reject(claim_id, by=person.id)

    def _admins(self, s: Session, organisation_id: str) -> int:
        return int(
            s.scalar(
                select(func.count())
                .select_from(MembershipRow)
                .where(
                    MembershipRow.organisation_id == organisation_id,
                    MembershipRow.role == "admin",
                )
            )
            or 0
        )

    def _membership(self, s: Session, organisation_id: str, person_id: str) -> MembershipRow:
        row = s.scalar(
            select(MembershipRow).where(
                MembershipRow.organisation_id == organisation_id,
                MembershipRow.person_id == person_id,
            )
        )
        if row is None:
            raise NotFoundError(f"'{person_id}' is not a member of '{organisation_id}'")
        return row

    def set_role(self, person: Person, organisation_id: str, member_id: str, role: str) -> str:
        if role not in MEMBER_ROLES:
            raise ValidationError(f"role must be one of {', '.join(MEMBER_ROLES)}", field="role")
        with self.db.session() as s:
            lock_admins(s, organisation_id)
            self._require_admin(s, person, organisation_id)
            row = self._membership(s, organisation_id, member_id)
            if row.role == "admin" and role != "admin" and self._admins(s, organisation_id) == 1:
                raise ConflictError("the last admin cannot be demoted: make another member admin")
            row.role = role
            return role

    def remove(self, person: Person, organisation_id: str, member_id: str) -> None:
        """An admin removes a member, or a member leaves (member_id = themselves)."""
        with self.db.session() as s:
            lock_admins(s, organisation_id)
            if member_id != person.id:
                self._require_admin(s, person, organisation_id)
            row = self._membership(s, organisation_id, member_id)
            others = s.scalar(
                select(func.count())
                .select_from(MembershipRow)
                .where(
                    MembershipRow.organisation_id == organisation_id,
                    MembershipRow.person_id != member_id,
                )
            )
            if row.role == "admin" and self._admins(s, organisation_id) == 1 and others:
                raise ConflictError(
                    "the last admin cannot leave or be removed while the organisation has other "
                    "members: make one of them admin first"
                )
            s.execute(delete(MembershipRow).where(MembershipRow.pk == row.pk))
