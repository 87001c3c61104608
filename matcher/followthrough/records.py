"""Partnership records: proposed by a member of one organisation to another, accepted (or
declined) by a member of the other, then kept by both: the plan is edited by either side
(optimistic concurrency on `version`, every version kept), each side checks in, and either
side closes it with an outcome. Only members of the two organisations see a record; to anyone
else it does not exist (NotFoundError). Closing writes the pair to the partnership history, so
`matcher train fit` learns from the outcome. A record may name the accepted introduction
it grew from (between the same two organisations); any other is refused."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from matcher.domain import utcnow
from matcher.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    ValidationError,
)
from matcher.followthrough.plan import CheckInInput, Outcome, Plan, body_of
from matcher.store.db import Database, aware
from matcher.store.models import (
    CheckInRow,
    IntroductionRow,
    MembershipRow,
    OrganisationRow,
    PartnershipRecordRow,
    PartnershipRecordVersionRow,
    PartnershipRow,
)

OPEN = ("proposed", "active")
HISTORY_PREFIX = "record-"  # partnership history ids of closed records


@dataclass(frozen=True)
class Record:
    id: str
    organisation_id: str
    partner_id: str
    introduction_id: str | None
    status: str
    plan: Plan
    outcome: Outcome | None
    proposed_by: str
    version: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None

    def sides(self) -> tuple[str, str]:
        return (self.organisation_id, self.partner_id)


@dataclass(frozen=True)
class CheckIn:
    id: str
    organisation_id: str
    person_id: str
    progress: dict[str, float]
    rating: int | None
    note: str
    at: datetime


@dataclass(frozen=True)
class Version:
    version: int
    status: str
    change: str
    person_id: str
    plan: Plan
    outcome: Outcome | None
    at: datetime


def _record(row: PartnershipRecordRow) -> Record:
    return Record(
        id=row.id,
        organisation_id=row.organisation_id,
        partner_id=row.partner_id,
        introduction_id=row.introduction_id,
        status=row.status,
        plan=Plan.model_validate(row.body),
        outcome=Outcome.model_validate(row.outcome) if row.outcome else None,
        proposed_by=row.proposed_by,
        version=row.version,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        started_at=aware(row.started_at) if row.started_at else None,
    )


class PartnershipRecords:
    def __init__(self, db: Database):
        self.db = db

    # ---- reads ---------------------------------------------------------------------------
    def _orgs_of(self, s: Session, person_id: str) -> set[str]:
        q = select(MembershipRow.organisation_id).where(MembershipRow.person_id == person_id)
        return set(s.scalars(q))

    def _visible(self, s: Session, person_id: str, record_id: str) -> PartnershipRecordRow:
        row = s.get(PartnershipRecordRow, record_id)
        if row is None or not {row.organisation_id, row.partner_id} & self._orgs_of(s, person_id):
            raise NotFoundError(f"partnership record '{record_id}' not found")
        return row

    def organisations_of(self, person_id: str) -> set[str]:
        """The organisations the person is a member of."""
        with self.db.session() as s:
            return self._orgs_of(s, person_id)

    def get(self, person_id: str, record_id: str) -> Record:
        with self.db.session() as s:
            return _record(self._visible(s, person_id, record_id))

    def for_person(self, person_id: str, status: str | None = None) -> list[Record]:
        with self.db.session() as s:
            orgs = self._orgs_of(s, person_id)
            if not orgs:
                return []
            q = select(PartnershipRecordRow).where(
                or_(
                    PartnershipRecordRow.organisation_id.in_(orgs),
                    PartnershipRecordRow.partner_id.in_(orgs),
                )
            )
            if status:
                q = q.where(PartnershipRecordRow.status == status)
            q = q.order_by(PartnershipRecordRow.updated_at.desc(), PartnershipRecordRow.id)
            return [_record(r) for r in s.scalars(q)]

    def versions(self, person_id: str, record_id: str) -> list[Version]:
        with self.db.session() as s:
            self._visible(s, person_id, record_id)
            q = (
                select(PartnershipRecordVersionRow)
                .where(PartnershipRecordVersionRow.record_id == record_id)
                .order_by(PartnershipRecordVersionRow.version)
            )
            return [
                Version(
                    version=v.version,
                    status=v.status,
                    change=v.change,
                    person_id=v.person_id,
                    plan=Plan.model_validate(v.body),
                    outcome=Outcome.model_validate(v.outcome) if v.outcome else None,
                    at=aware(v.at),
                )
                for v in s.scalars(q)
            ]

    def check_ins(self, person_id: str, record_id: str) -> list[CheckIn]:
        with self.db.session() as s:
            self._visible(s, person_id, record_id)
            q = select(CheckInRow).where(CheckInRow.record_id == record_id)
            return [
                CheckIn(
                    c.id,
                    c.organisation_id,
                    c.person_id,
                    {k: float(v) for k, v in c.progress.items()},
                    c.rating,
                    c.note,
                    aware(c.at),
                )
                for c in s.scalars(q.order_by(CheckInRow.at, CheckInRow.id))
            ]

    # ---- writes --------------------------------------------------------------------------
    def propose(
        self,
        person_id: str,
        organisation_id: str,
        partner_id: str,
        plan: Plan,
        introduction_id: str | None = None,
    ) -> Record:
        """A record proposed by `organisation_id` (the person must be its member) to
        `partner_id`, waiting for the partner's acceptance."""
        if organisation_id == partner_id:
            raise ValidationError("a partnership needs two organisations", field="partner_id")
        now = utcnow()
        with self.db.session() as s:
            if organisation_id not in self._orgs_of(s, person_id):
                raise PermissionDeniedError(f"you are not a member of '{organisation_id}'")
            partner = s.scalar(select(OrganisationRow).where(OrganisationRow.id == partner_id))
            if partner is None or partner.active is False:
                raise ValidationError(
                    f"no active organisation '{partner_id}' to partner with", field="partner_id"
                )
            _check_roles(plan, (organisation_id, partner_id))
            if introduction_id is not None:
                intro = s.scalar(
                    select(IntroductionRow).where(IntroductionRow.id == introduction_id)
                )
                if (
                    intro is None
                    or {intro.from_org, intro.to_org} != {organisation_id, partner_id}
                    or intro.status != "accepted"
                ):
                    raise ValidationError(
                        f"'{introduction_id}' is not an accepted introduction between these "
                        "two organisations",
                        field="introduction_id",
                    )
            pair = {organisation_id, partner_id}
            open_q = select(PartnershipRecordRow.id).where(
                PartnershipRecordRow.status.in_(OPEN),
                PartnershipRecordRow.organisation_id.in_(pair),
                PartnershipRecordRow.partner_id.in_(pair),
            )
            existing = s.scalar(open_q)
            if existing is not None:
                raise ConflictError(
                    f"these two organisations already have an open partnership record "
                    f"('{existing}')"
                )
            row = PartnershipRecordRow(
                id="pr_" + secrets.token_hex(8),
                organisation_id=organisation_id,
                partner_id=partner_id,
                introduction_id=introduction_id,
                status="proposed",
                body=body_of(plan),
                outcome=None,
                proposed_by=person_id,
                version=1,
                created_at=now,
                updated_at=now,
                started_at=None,
            )
            s.add(row)
            s.flush()
            _log(s, row, person_id, "proposed", now)
            return _record(row)

    def _change(
        self,
        person_id: str,
        record_id: str,
        change: str,
        *,
        expected_version: int | None,
        allowed: tuple[str, ...],
        side: str = "either",
        values: dict[str, Any],
    ) -> Record:
        """Compare-and-set: the update applies only to the version read (ConflictError when
        another change came first), and its version row is written in the same transaction."""
        now = utcnow()
        with self.db.session() as s:
            row = self._visible(s, person_id, record_id)
            mine = self._orgs_of(s, person_id)
            if side == "partner" and row.partner_id not in mine:
                raise PermissionDeniedError("only the invited organisation's members can do this")
            if row.status not in allowed:
                raise ConflictError(f"the record is {row.status}: it cannot be {change} now")
            if expected_version is not None and expected_version != row.version:
                raise StaleVersionError(
                    f"the record changed (version {row.version}, you sent {expected_version})"
                )
            read = row.version
            done = s.execute(
                update(PartnershipRecordRow)
                .where(PartnershipRecordRow.id == record_id, PartnershipRecordRow.version == read)
                .values(**values, version=read + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleVersionError("the record changed while you were editing it: reload it")
            s.expire(row)
            fresh = s.get(PartnershipRecordRow, record_id)
            assert fresh is not None
            _log(s, fresh, person_id, change, now)
            return _record(fresh)

    def accept(self, person_id: str, record_id: str) -> Record:
        return self._change(
            person_id,
            record_id,
            "accepted",
            expected_version=None,
            allowed=("proposed",),
            side="partner",
            values={"status": "active", "started_at": utcnow()},
        )

    def decline(self, person_id: str, record_id: str) -> Record:
        return self._change(
            person_id,
            record_id,
            "declined",
            expected_version=None,
            allowed=("proposed",),
            side="partner",
            values={"status": "declined"},
        )

    def edit(self, person_id: str, record_id: str, plan: Plan, expected_version: int) -> Record:
        record = self.get(person_id, record_id)
        _check_roles(plan, record.sides())
        return self._change(
            person_id,
            record_id,
            "edited",
            expected_version=expected_version,
            allowed=OPEN,
            values={"body": body_of(plan)},
        )

    def close(
        self, person_id: str, record_id: str, outcome: Outcome, expected_version: int | None
    ) -> Record:
        """Closed with its outcome; the pair enters the partnership history (a label)."""
        record = self._change(
            person_id,
            record_id,
            "closed",
            expected_version=expected_version,
            allowed=("active",),
            values={"status": "closed", "outcome": outcome.model_dump(mode="json")},
        )
        with self.db.session() as s:
            s.merge(
                PartnershipRow(
                    pk=s.scalar(
                        select(PartnershipRow.pk).where(
                            PartnershipRow.id == HISTORY_PREFIX + record.id
                        )
                    ),
                    id=HISTORY_PREFIX + record.id,
                    source_id=record.organisation_id,
                    partner_id=record.partner_id,
                    title=record.plan.title,
                    description="; ".join(g.description for g in record.plan.goals),
                    started_at=record.started_at,
                    outcome=outcome.result,
                    amount=None,
                )
            )
        return record

    def check_in(self, person_id: str, record_id: str, body: CheckInInput) -> CheckIn:
        now = utcnow()
        with self.db.session() as s:
            row = self._visible(s, person_id, record_id)
            if row.status != "active":
                raise ConflictError(f"the record is {row.status}: check-ins need it active")
            sides = {row.organisation_id, row.partner_id} & self._orgs_of(s, person_id)
            if body.organisation_id is not None:
                if body.organisation_id not in sides:
                    raise ValidationError(
                        f"'{body.organisation_id}' is not your side of this partnership",
                        field="organisation_id",
                    )
                side = body.organisation_id
            elif len(sides) == 1:
                side = next(iter(sides))
            else:
                raise ValidationError(
                    "you belong to both organisations: say which side reports",
                    field="organisation_id",
                )
            plan = Plan.model_validate(row.body)
            unknown = sorted(k for k in body.progress if plan.goal(k) is None)
            if unknown:
                raise ValidationError(
                    f"progress for unknown goals: {', '.join(unknown)} (goals: "
                    f"{', '.join(g.id for g in plan.goals)})",
                    field="progress",
                )
            c = CheckInRow(
                id="ci_" + secrets.token_hex(8),
                record_id=record_id,
                organisation_id=side,
                person_id=person_id,
                progress=dict(body.progress),
                rating=body.rating,
                note=body.note,
                at=now,
            )
            s.add(c)
            return CheckIn(c.id, side, person_id, dict(body.progress), c.rating, c.note, now)


def _check_roles(plan: Plan, sides: tuple[str, ...]) -> None:
    stray = sorted(set(plan.roles) - set(sides))
    if stray:
        raise ValidationError(
            f"roles are for the two organisations only, not {', '.join(stray)}", field="roles"
        )


def _log(s: Session, row: PartnershipRecordRow, person_id: str, change: str, at: datetime) -> None:
    s.add(
        PartnershipRecordVersionRow(
            record_id=row.id,
            version=row.version,
            status=row.status,
            body=row.body,
            outcome=row.outcome,
            person_id=person_id,
            change=change,
            at=at,
        )
    )
