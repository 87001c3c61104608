"""The durable outbox: notifications are written to the `notifications` table first and
delivered later by matcher.notify.dispatcher. Works on SQLite and PostgreSQL.

Row life: queued --claim--> sending --mark_sent--> sent
                              |--mark_failed--> queued (attempts, last_error, next_attempt_at)
                              `--mark_dead----> dead (refused for good, or too many attempts;
                                                `requeue` makes it queued again)
A claim is one compare-and-set UPDATE, so of several dispatchers exactly one gets a row. A row
left `sending` longer than the lease (its dispatcher died) can be claimed again."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from matcher.domain import utcnow
from matcher.errors import NotFoundError, StorageError
from matcher.notify.base import Message
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import NotificationRow

T = NotificationRow
STATUSES = ("queued", "sending", "sent", "dead")


@dataclass(frozen=True)
class Queued:
    """One outbox row as callers see it."""

    key: str
    recipient: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None

    @property
    def message(self) -> Message:
        return Message(self.recipient, self.subject, self.body, self.key)


@dataclass(frozen=True)
class Claim:
    """A row this dispatcher holds: only the holder of `token` can mark it."""

    pk: int
    token: str
    message: Message
    attempts: int  # including this one


def _queued(row: NotificationRow) -> Queued:
    return Queued(
        key=row.key,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=_aware(row.created_at) or row.created_at,
        next_attempt_at=_aware(row.next_attempt_at) or row.next_attempt_at,
        sent_at=_aware(row.sent_at),
    )


class Outbox:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.clock = clock

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.db.engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"notification outbox: {exc}") from exc

    def _values(self, message: Message) -> dict[str, object]:
        now = self.clock()
        return {
            "key": message.key,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "status": "queued",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }

    def add(self, session: Session, message: Message) -> None:
        """Queue `message` in the caller's transaction, so it is queued exactly when the event
        that causes it commits. The key must be new (an event's own id in it): a key queued
        before makes the whole transaction fail."""
        session.add(NotificationRow(**self._values(message)))

    def enqueue(self, message: Message) -> tuple[Queued, bool]:
        """Queue `message` once per key: (the row, True) when written now, (the row already
        queued for that key, False) when the event was queued before; its content is kept."""
        values = self._values(message)
        try:
            with self._tx() as conn:
                conn.execute(insert(T).values(**values))
        except IntegrityError as exc:  # unique key: queued before (or by a concurrent caller)
            try:
                return self.get(message.key), False
            except NotFoundError:
                raise StorageError(f"notification outbox: {exc}") from exc
        return self.get(message.key), True

    def get(self, key: str) -> Queued:
        with self.db.session() as s:
            row = s.scalar(select(T).where(T.key == key))
            if row is None:
                raise NotFoundError(f"no notification with key {key!r}")
            return _queued(row)

    def rows(self, status: str | None = None, limit: int = 100) -> list[Queued]:
        """Newest first."""
        q = select(T).order_by(T.created_at.desc(), T.pk.desc()).limit(limit)
        if status is not None:
            q = q.where(T.status == status)
        with self.db.session() as s:
            return [_queued(r) for r in s.scalars(q)]

    def counts(self) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(T.status, func.count()).group_by(T.status)).all()
        got = {str(status): int(n) for status, n in rows}
        return {status: got.get(status, 0) for status in STATUSES}

    def _claimable(self, now: datetime, lease: timedelta) -> ColumnElement[bool]:
        return or_(
            and_(T.status == "queued", T.next_attempt_at <= now),
            and_(T.status == "sending", T.claimed_at <= now - lease),
        )

    def due(self, lease: timedelta, limit: int) -> list[int]:
        """Primary keys of rows a dispatcher may claim now, longest waiting first."""
        now = self.clock()
        q = (
            select(T.pk)
            .where(self._claimable(now, lease))
            .order_by(T.next_attempt_at, T.pk)
            .limit(limit)
        )
        with self._tx() as conn:
            return [int(pk) for pk in conn.scalars(q)]

    def claim(self, pk: int, lease: timedelta) -> Claim | None:
        """Take row `pk` for sending, or None when another dispatcher has it (or it is sent)."""
        now = self.clock()
        token = secrets.token_hex(16)
        with self._tx() as conn:
            done = conn.execute(
                update(T)
                .where(T.pk == pk, self._claimable(now, lease))
                .values(
                    status="sending", claim_token=token, claimed_at=now, attempts=T.attempts + 1
                )
            )
            if done.rowcount != 1:
                return None
            row = conn.execute(select(T).where(T.pk == pk)).one()
        message = Message(row.recipient, row.subject, row.body, row.key)
        return Claim(pk=pk, token=token, message=message, attempts=int(row.attempts))

    def mark_sent(self, claim: Claim) -> bool:
        """False when the claim was lost (lease expired and another dispatcher took the row)."""
        return self._release(claim, status="sent", sent_at=self.clock())

    def mark_failed(self, claim: Claim, error: str, retry_at: datetime) -> bool:
        return self._release(
            claim, status="queued", last_error=error[:2000], next_attempt_at=retry_at
        )

    def mark_dead(self, claim: Claim, error: str) -> bool:
        """Set aside: never claimed again until requeued; kept with its last error."""
        return self._release(claim, status="dead", last_error=error[:2000])

    def requeue(self, keys: list[str] | None = None) -> int:
        """Dead rows (those with these keys, or all) queued again, due now, attempts from 0;
        returns how many."""
        with self._tx() as conn:
            q = update(T).where(T.status == "dead")
            if keys is not None:
                q = q.where(T.key.in_(keys))
            done = conn.execute(q.values(status="queued", attempts=0, next_attempt_at=self.clock()))
            return int(done.rowcount)

    def _release(self, claim: Claim, **values: object) -> bool:
        with self._tx() as conn:
            done = conn.execute(
                update(T)
                .where(T.pk == claim.pk, T.claim_token == claim.token, T.status == "sending")
                .values(claim_token=None, claimed_at=None, **values)
            )
            return done.rowcount == 1

    def retry_now(self) -> int:
        """Make every queued row due now (after fixing the notifier); returns how many."""
        with self._tx() as conn:
            done = conn.execute(
                update(T).where(T.status == "queued").values(next_attempt_at=self.clock())
            )
            return int(done.rowcount)
