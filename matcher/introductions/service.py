"""Introductions: ask, accept, decline, withdraw, expire; the thread; the audit log.

Rules (each breach raises from matcher.errors, named in its message):
- the asker is a signed-in member of the asking organisation (PermissionDeniedError), which is
  not the asked one nor one of the asker's own (ValidationError); the asked organisation exists
  and is published (NotFoundError) and active (ValidationError);
- a request names its need: its text, a need id or a recommendation id that showed the asked
  organisation (ValidationError, NotFoundError);
- one open request per pair and direction, none while the pair is already introduced or the
  other side's request waits (ConflictError); none within `cooldown_days` of a decline of the
  same direction (ConflictError); at most `per_day` requests per asking organisation in any
  24 hours (QuotaExceededError, with the seconds until the next one is allowed);
- only the asked side accepts or declines, only the asking side withdraws, and only while the
  request is open (PermissionDeniedError, ConflictError); an unanswered request expires after
  `expiry_days`. A person of neither organisation is told the introduction does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.domain import new_id, utcnow
from matcher.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    ValidationError,
)
from matcher.introductions import notices
from matcher.introductions.model import TRANSITIONS, Event, IntroductionView, ThreadMessage
from matcher.introductions.text import clean_text
from matcher.introductions.views import organisations, people, views
from matcher.notify.outbox import Outbox
from matcher.settings import Settings
from matcher.store.db import Database, aware
from matcher.store.models import (
    IntroductionEventRow,
    IntroductionMessageRow,
    IntroductionRow,
    MembershipRow,
    NeedRow,
    OrganisationRow,
    RecommendationRow,
)

I = IntroductionRow  # noqa: E741
Box = Literal["incoming", "outgoing"]


@dataclass(frozen=True)
class IntroductionSettings:
    per_day: int = 20
    cooldown_days: float = 30.0
    expiry_days: float | None = 30.0
    message_chars: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings) -> IntroductionSettings:
        return cls(
            per_day=settings.introductions_per_day,
            cooldown_days=settings.introduction_cooldown_days,
            expiry_days=settings.introduction_expiry_days,
            message_chars=settings.introduction_message_chars,
        )


def _day(value: datetime) -> str:
    return f"{value:%Y-%m-%d}"


class Introductions:
    def __init__(
        self,
        db: Database,
        *,
        settings: IntroductionSettings | None = None,
        public_url: str = "http://localhost:8000",
        clock: Callable[[], datetime] = utcnow,
    ):
        self.db = db
        self.settings = settings or IntroductionSettings()
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.outbox = Outbox(db, clock=lambda: self.clock())

    def link(self, intro_id: str) -> str:
        return f"{self.public_url}/introductions/{intro_id}"

    # helpers --------------------------------------------------------------------------------
    @staticmethod
    def _orgs(s: Session, person_id: str) -> dict[str, str]:
        q = select(MembershipRow.organisation_id, MembershipRow.role).where(
            MembershipRow.person_id == person_id
        )
        return {str(o): str(r) for o, r in s.execute(q)}

    def _event(
        self, s: Session, row: IntroductionRow, old: str | None, actor: str | None, org: str | None
    ) -> None:
        s.add(
            IntroductionEventRow(
                introduction_id=row.id,
                kind=row.status,
                from_status=old,
                to_status=row.status,
                actor_id=actor,
                actor_org=org,
                created_at=self.clock(),
            )
        )

    def _expire_due(self, s: Session) -> int:
        if self.settings.expiry_days is None:
            return 0
        now = self.clock()
        due = s.scalars(
            select(I).where(I.status == "requested", I.expires_at.is_not(None), I.expires_at <= now)
        ).all()
        for row in due:
            row.status, row.decided_at = "expired", now
            self._event(s, row, "requested", None, None)
        s.flush()
        return len(due)

    def expire_due(self) -> int:
        """Mark unanswered requests past their expiry as expired; how many were."""
        with self.db.session() as s:
            return self._expire_due(s)

    def _visible(self, s: Session, intro_id: str, person_id: str) -> tuple[IntroductionRow, dict]:
        """The row and the person's organisations; 'not found' to anyone of neither side."""
        orgs = self._orgs(s, person_id)
        row = s.scalar(select(I).where(I.id == intro_id))
        if row is None or (row.from_org not in orgs and row.to_org not in orgs):
            raise NotFoundError(f"no introduction '{intro_id}' of your organisations")
        return row, orgs

    def _view(
        self, s: Session, row: IntroductionRow, person_id: str, orgs: dict
    ) -> IntroductionView:
        return views(s, [row], person_id, orgs)[0]

    # asking ---------------------------------------------------------------------------------
    def _asking_org(self, orgs: dict[str, str], from_org: str | None) -> str:
        if not orgs:
            raise PermissionDeniedError(
                "join your organisation first (claim its profile on your account page): "
                "introductions are asked for by an organisation"
            )
        if from_org is None:
            if len(orgs) > 1:
                raise ValidationError(
                    f"you belong to {len(orgs)} organisations ({', '.join(sorted(orgs))}); "
                    "name the one that asks",
                    field="from_organisation_id",
                )
            return next(iter(orgs))
        if from_org not in orgs:
            raise PermissionDeniedError(f"you are not a member of '{from_org}'")
        return from_org

    def _target(self, s: Session, to_org: str, from_org: str, orgs: dict[str, str]) -> None:
        if to_org == from_org:
            raise ValidationError(
                "an organisation cannot ask itself for an introduction", field="to_organisation_id"
            )
        if to_org in orgs:
            raise ValidationError(
                f"you are a member of '{to_org}' yourself: no introduction is needed",
                field="to_organisation_id",
            )
        org = s.scalar(select(OrganisationRow).where(OrganisationRow.id == to_org))
        if org is None or not org.published:
            raise NotFoundError(f"no organisation '{to_org}'")
        if not org.active:
            raise ValidationError(
                f"organisation '{to_org}' is inactive and takes no requests",
                field="to_organisation_id",
            )

    def _need(
        self,
        s: Session,
        to_org: str,
        need_text: str,
        need_id: str | None,
        recommendation_id: str | None,
    ) -> str:
        """The need's text: as given, else the named need's or recommendation's."""
        text = clean_text(
            need_text, field="need_text", max_chars=self.settings.message_chars, required=False
        )
        if recommendation_id is not None:
            rec = s.get(RecommendationRow, recommendation_id)
            if rec is None:
                raise NotFoundError(f"no recommendation '{recommendation_id}'")
            if to_org not in (rec.result_ids or []):
                raise ValidationError(
                    f"organisation '{to_org}' was not among the partners of recommendation "
                    f"'{recommendation_id}'",
                    field="recommendation_id",
                )
            text = text or str((rec.need or {}).get("text") or "")
        if need_id is not None:
            need = s.scalar(select(NeedRow).where(NeedRow.id == need_id))
            if need is None:
                raise NotFoundError(f"no need '{need_id}'")
            text = text or need.text
        if not text:
            raise ValidationError(
                "name the need: give its text (need_text), a need_id or the recommendation_id "
                "the partner was shown in",
                field="need_text",
            )
        return text[: self.settings.message_chars]

    def _check_pair(self, s: Session, from_org: str, to_org: str) -> None:
        pair = or_(
            (I.from_org == from_org) & (I.to_org == to_org),
            (I.from_org == to_org) & (I.to_org == from_org),
        )
        for row in s.scalars(select(I).where(pair, I.status.in_(("requested", "accepted")))):
            if row.status == "accepted":
                raise ConflictError(
                    f"'{from_org}' and '{to_org}' are already introduced ({row.id}): "
                    "write in its message thread"
                )
            if row.from_org == from_org:
                raise ConflictError(
                    f"'{from_org}' already asked '{to_org}' for an introduction ({row.id}) on "
                    f"{_day(aware(row.created_at))}; it is waiting for an answer"
                )
            raise ConflictError(
                f"'{to_org}' has already asked '{from_org}' for an introduction ({row.id}): "
                "accept that request instead"
            )
        since = self.clock() - timedelta(days=self.settings.cooldown_days)
        declined = s.scalar(
            select(func.max(I.decided_at)).where(
                I.from_org == from_org,
                I.to_org == to_org,
                I.status == "declined",
                I.decided_at > since,
            )
        )
        if declined is not None:
            again = aware(declined) + timedelta(days=self.settings.cooldown_days)
            raise ConflictError(
                f"'{to_org}' declined a request from '{from_org}' on {_day(aware(declined))}; "
                f"'{from_org}' may ask again from {_day(again)}"
            )

    @staticmethod
    def _lock_asker(s: Session, from_org: str) -> None:
        """Serialise the requests of one organisation until this transaction ends, so the
        day's count and the insert that follows it are one step (else simultaneous requests
        each count below the limit and all insert). A no-op write of the organisation's row:
        on PostgreSQL it locks that row (others of the organisation wait; other organisations
        do not), on SQLite it takes the database's write lock before anything is counted."""
        s.execute(
            update(OrganisationRow)
            .where(OrganisationRow.id == from_org)
            .values(active=OrganisationRow.active)
        )

    def _check_quota(self, s: Session, from_org: str) -> None:
        now = self.clock()
        window = select(I.created_at).where(
            I.from_org == from_org, I.created_at > now - timedelta(days=1)
        )
        times = sorted(aware(t) for t in s.scalars(window))
        if len(times) >= self.settings.per_day:
            # the request that frees a place: the oldest of the last per_day ones
            frees = times[len(times) - self.settings.per_day] + timedelta(days=1)
            raise QuotaExceededError(
                f"'{from_org}' has sent {len(times)} introduction requests in the last 24 "
                f"hours, the most allowed ({self.settings.per_day}); try again later",
                retry_after=max(1.0, (frees - now).total_seconds()),
            )

    def request(
        self,
        person_id: str,
        to_org: str,
        message: str,
        *,
        from_org: str | None = None,
        need_text: str = "",
        need_id: str | None = None,
        recommendation_id: str | None = None,
    ) -> IntroductionView:
        text = clean_text(message, field="message", max_chars=self.settings.message_chars)
        with self.db.session() as s:
            orgs = self._orgs(s, person_id)
            asking = self._asking_org(orgs, from_org)
            self._lock_asker(s, asking)
            self._target(s, to_org, asking, orgs)
            need = self._need(s, to_org, need_text, need_id, recommendation_id)
            self._expire_due(s)
            self._check_pair(s, asking, to_org)
            self._check_quota(s, asking)
            now = self.clock()
            days = self.settings.expiry_days
            row = IntroductionRow(
                id=new_id("intro"),
                from_org=asking,
                to_org=to_org,
                requested_by=person_id,
                message=text,
                need_text=need,
                need_id=need_id,
                recommendation_id=recommendation_id,
                status="requested",
                created_at=now,
                expires_at=now + timedelta(days=days) if days is not None else None,
            )
            s.add(row)
            try:
                s.flush()
            except IntegrityError as exc:  # a concurrent request of the same pair won
                raise ConflictError(
                    f"'{asking}' already asked '{to_org}' for an introduction"
                ) from exc
            self._event(s, row, None, person_id, asking)
            names = {k: v.name for k, v in organisations(s, [asking, to_org]).items()}
            notices.notify_members(
                s,
                self.outbox,
                organisation_id=to_org,
                except_person=None,
                key=f"intro:{row.id}:requested",
                subject=f"Introduction request from {names.get(asking, asking)}",
                body=notices.request_body(
                    names.get(asking, asking),
                    names.get(to_org, to_org),
                    need,
                    text,
                    self.link(row.id),
                ),
            )
            s.flush()
            return self._view(s, row, person_id, orgs)

    # answering ------------------------------------------------------------------------------
    def _change(self, intro_id: str, person_id: str, to_status: str) -> IntroductionView:
        with self.db.session() as s:
            self._expire_due(s)
            row, orgs = self._visible(s, intro_id, person_id)
            side = TRANSITIONS[row.status].get(to_status)
            if side is None or side == "system":
                raise ConflictError(
                    f"introduction '{intro_id}' is {row.status}; it can no longer be {to_status}"
                )
            acting = row.to_org if side == "to" else row.from_org
            if acting not in orgs:
                who = "asked" if side == "to" else "asking"
                raise PermissionDeniedError(
                    f"only the {who} organisation's members may mark it {to_status}"
                )
            old = row.status
            row.status, row.decided_at, row.decided_by = to_status, self.clock(), person_id
            self._event(s, row, old, person_id, acting)
            if to_status == "accepted":
                name = s.scalar(select(OrganisationRow.name).where(OrganisationRow.id == acting))
                notices.notify_members(
                    s,
                    self.outbox,
                    organisation_id=row.from_org,
                    except_person=None,
                    key=f"intro:{row.id}:accepted",
                    subject=f"{name or acting} accepted your introduction request",
                    body=notices.accepted_body(name or acting, self.link(row.id)),
                )
            s.flush()
            return self._view(s, row, person_id, orgs)

    def accept(self, intro_id: str, person_id: str) -> IntroductionView:
        return self._change(intro_id, person_id, "accepted")

    def decline(self, intro_id: str, person_id: str) -> IntroductionView:
        return self._change(intro_id, person_id, "declined")

    def withdraw(self, intro_id: str, person_id: str) -> IntroductionView:
        return self._change(intro_id, person_id, "withdrawn")

    # reading --------------------------------------------------------------------------------
    def get(self, intro_id: str, person_id: str) -> IntroductionView:
        with self.db.session() as s:
            self._expire_due(s)
            row, orgs = self._visible(s, intro_id, person_id)
            return self._view(s, row, person_id, orgs)

    def inbox(
        self,
        person_id: str,
        box: Box,
        *,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[IntroductionView], int]:
        """The person's organisations' incoming or outgoing introductions, newest first, and
        how many there are in all."""
        with self.db.session() as s:
            self._expire_due(s)
            orgs = self._orgs(s, person_id)
            if not orgs:
                return [], 0
            column = I.to_org if box == "incoming" else I.from_org
            where: list[ColumnElement[bool]] = [column.in_(sorted(orgs))]
            if status is not None:
                where.append(I.status == status)
            total = int(s.scalar(select(func.count()).select_from(I).where(*where)) or 0)
            q = select(I).where(*where).order_by(I.created_at.desc(), I.pk.desc())
            rows = s.scalars(q.limit(limit).offset(offset)).all()
            return views(s, rows, person_id, orgs), total

    # the thread -----------------------------------------------------------------------------
    def _thread_open(self, row: IntroductionRow) -> None:
        if row.status == "requested":
            raise ConflictError(
                f"introduction '{row.id}' is waiting for an answer: its thread opens once it is "
                "accepted"
            )
        if row.status != "accepted":
            raise ConflictError(f"introduction '{row.id}' is {row.status}: it has no thread")

    def post_message(self, intro_id: str, person_id: str, body: str) -> ThreadMessage:
        text = clean_text(body, field="body", max_chars=self.settings.message_chars)
        with self.db.session() as s:
            row, orgs = self._visible(s, intro_id, person_id)
            self._thread_open(row)
            author_org = row.from_org if row.from_org in orgs else row.to_org
            other = row.to_org if author_org == row.from_org else row.from_org
            msg = IntroductionMessageRow(
                id=new_id("msg"),
                introduction_id=row.id,
                author_id=person_id,
                author_org=author_org,
                body=text,
                created_at=self.clock(),
            )
            s.add(msg)
            names = {k: v.name for k, v in organisations(s, [author_org]).items()}
            author = people(s, [person_id]).get(person_id)
            org_name = names.get(author_org, author_org)
            notices.notify_members(
                s,
                self.outbox,
                organisation_id=other,
                except_person=person_id,
                key=f"intro-msg:{msg.id}",
                subject=f"New message from {org_name}",
                body=notices.message_body(
                    org_name, author.name if author else "", text, self.link(row.id)
                ),
            )
            s.flush()
            return self._messages(s, [msg], person_id, orgs)[0]

    def _messages(
        self, s: Session, rows: list[IntroductionMessageRow], person_id: str, orgs: dict
    ) -> list[ThreadMessage]:
        names = {k: v.name for k, v in organisations(s, [m.author_org for m in rows]).items()}
        authors = people(s, [m.author_id for m in rows])
        return [
            ThreadMessage(
                id=m.id,
                introduction_id=m.introduction_id,
                author_org=m.author_org,
                author_org_name=names.get(m.author_org, m.author_org),
                author_name=(a.name or a.email) if (a := authors.get(m.author_id)) else "",
                mine=m.author_org in orgs,
                body=m.body,
                created_at=aware(m.created_at),
            )
            for m in rows
        ]

    def messages(self, intro_id: str, person_id: str, limit: int = 500) -> list[ThreadMessage]:
        """The thread, oldest first (the accepted introduction's two sides only)."""
        with self.db.session() as s:
            row, orgs = self._visible(s, intro_id, person_id)
            self._thread_open(row)
            q = (
                select(IntroductionMessageRow)
                .where(IntroductionMessageRow.introduction_id == row.id)
                .order_by(IntroductionMessageRow.created_at, IntroductionMessageRow.pk)
                .limit(limit)
            )
            return self._messages(s, list(s.scalars(q)), person_id, orgs)

    # the audit log --------------------------------------------------------------------------
    def events(self, intro_id: str, person_id: str) -> list[Event]:
        """Every state change, oldest first: for the admins of the two organisations. Each
        sees which organisation acted, and which person only for its own organisation."""
        with self.db.session() as s:
            self._expire_due(s)
            row, orgs = self._visible(s, intro_id, person_id)
            admin_of = {o for o in (row.from_org, row.to_org) if orgs.get(o) == "admin"}
            if not admin_of:
                raise PermissionDeniedError(
                    "only the admins of the two organisations read an introduction's audit log"
                )
            E = IntroductionEventRow
            rows = s.scalars(
                select(E).where(E.introduction_id == row.id).order_by(E.created_at, E.pk)
            ).all()
            actors = people(s, [e.actor_id for e in rows if e.actor_org in admin_of])
            out = []
            for e in rows:
                own = e.actor_org in admin_of
                actor = actors.get(e.actor_id or "") if own else None
                out.append(
                    Event(
                        introduction_id=e.introduction_id,
                        kind=e.kind,
                        from_status=e.from_status,
                        to_status=e.to_status,
                        actor_org=e.actor_org,
                        actor_id=e.actor_id if own else None,
                        actor_name=(actor.name or actor.email) if actor is not None else None,
                        created_at=aware(e.created_at),
                    )
                )
            return out
