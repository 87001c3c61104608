"""Rows to what one viewer may see: organisation names always, contact details only once the
introduction is accepted, and never which member declined."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.introductions.model import Contact, Introduction, IntroductionView
from matcher.store.db import aware
from matcher.store.models import IntroductionRow, OrganisationRow, PersonRow


def introduction(row: IntroductionRow, names: dict[str, str]) -> Introduction:
    return Introduction(
        id=row.id,
        from_org=row.from_org,
        from_org_name=names.get(row.from_org, row.from_org),
        to_org=row.to_org,
        to_org_name=names.get(row.to_org, row.to_org),
        status=row.status,
        message=row.message,
        need_text=row.need_text or "",
        need_id=row.need_id,
        recommendation_id=row.recommendation_id,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        decided_at=aware(row.decided_at),
    )


def organisations(s: Session, ids: Iterable[str]) -> dict[str, OrganisationRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = s.scalars(select(OrganisationRow).where(OrganisationRow.id.in_(wanted)))
    return {r.id: r for r in rows}


def people(s: Session, ids: Iterable[str | None]) -> dict[str, PersonRow]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {p.id: p for p in s.scalars(select(PersonRow).where(PersonRow.id.in_(wanted)))}


def views(
    s: Session, rows: Sequence[IntroductionRow], person_id: str, orgs: dict[str, str]
) -> list[IntroductionView]:
    """Each row as `person_id` (a member of `orgs`: org id -> role) sees it. The contact of
    the other side is read only for accepted rows: nothing else can leak it."""
    org_rows = organisations(s, [o for r in rows for o in (r.from_org, r.to_org)])
    names = {k: v.name for k, v in org_rows.items()}
    accepted = [r for r in rows if r.status == "accepted"]
    persons = people(s, [p for r in accepted for p in (r.requested_by, r.decided_by)])
    out = []
    for row in rows:
        outgoing = row.from_org in orgs
        mine, other = (row.from_org, row.to_org) if outgoing else (row.to_org, row.from_org)
        contact = None
        if row.status == "accepted":
            # the asking side sees who accepted; the asked side sees who asked
            who = persons.get((row.decided_by if outgoing else row.requested_by) or "")
            org = org_rows.get(other)
            contact = Contact(
                organisation_id=other,
                organisation_name=names.get(other, other),
                contact=org.contact if org is not None else None,
                website=org.website if org is not None else None,
                person_name=(who.name or None) if who is not None else None,
                person_email=who.email if who is not None else None,
            )
        open_ = row.status == "requested"
        can_accept = open_ and row.to_org in orgs
        can_withdraw = open_ and outgoing
        can_message = row.status == "accepted"
        actions = [a for a, ok in (("accept", can_accept), ("decline", can_accept)) if ok]
        actions += ["withdraw"] if can_withdraw else []
        actions += ["message"] if can_message else []
        out.append(
            IntroductionView(
                introduction=introduction(row, names),
                side="outgoing" if outgoing else "incoming",
                my_org=mine,
                other_org=other,
                other_org_name=names.get(other, other),
                contact=contact,
                requested_by_me=row.requested_by == person_id,
                can_accept=can_accept,
                can_withdraw=can_withdraw,
                can_message=can_message,
                actions=actions,
            )
        )
    return out
