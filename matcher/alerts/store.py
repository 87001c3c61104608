"""Saved needs, the alert inbox and the change-log cursor (tables in matcher.store.models)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from matcher.alerts.signing import new_secret
from matcher.domain import Filters, Need, new_id, utcnow
from matcher.engine import NeedReading
from matcher.errors import ConflictError, NotFoundError, ValidationError
from matcher.notify.base import Message, is_webhook_url
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import AlertCursorRow, AlertRow, OrganisationChangeRow, SavedNeedRow


@dataclass(frozen=True)
class TopEntry:
    """One of a saved need's top results, as compared between runs."""

    id: str
    score: float
    relevance: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "relevance": self.relevance}


@dataclass
class SavedNeed:
    id: str
    owner: str | None
    need: Need
    filters: Filters | None
    limit: int
    snapshot: list[TopEntry]
    created_at: datetime
    notify_to: str | None = None
    last_alerted_at: datetime | None = None
    pending: list[str] = field(default_factory=list)
    pk: int = 0
    reading: NeedReading | None = None  # as stored: the caller checks its key
    recommendation_id: str | None = None  # the page's results it was saved from
    # its webhook's signing secret, only on what `create` and `rotate_secret` return (shown to
    # the owner once); a saved need read back never carries it
    new_webhook_secret: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Alert:
    id: int
    saved_need_id: str
    owner: str | None
    day: str
    organisation_ids: list[str]
    results: list[TopEntry]
    notification_key: str | None
    created_at: datetime


@dataclass
class NewAlert:
    """An alert to write (`SavedNeeds.add_alerts`), with its notification when it has one."""

    saved: SavedNeed
    day: str
    organisation_ids: list[str]
    results: list[TopEntry]
    notification_key: str | None
    message: Message | None


@dataclass(frozen=True)
class Change:
    seq: int
    organisation_pk: int
    organisation_id: str
    version: int
    changed_at: datetime
    kind: str = "organisation"  # the log holds needs, keys, ... too: the worker screens these
    op: str = "upsert"


def need_doc(need: Need) -> dict[str, Any]:
    return need.model_dump(mode="json")


def _reading(row: SavedNeedRow) -> NeedReading | None:
    blob, clauses = row.query_vector, row.reading_clauses
    if not row.reading_key or blob is None or clauses is None or row.reading_required is None:
        return None
    q = np.frombuffer(blob, dtype=np.float32)
    if q.size == 0 or len(clauses) % (4 * q.size):
        return None
    rows = np.frombuffer(clauses, dtype=np.float32).reshape(-1, q.size)
    return NeedReading(row.reading_key, q, rows, dict(row.reading_required))


def _store_reading(row: SavedNeedRow, reading: NeedReading) -> None:
    row.query_vector = np.asarray(reading.query, dtype=np.float32).tobytes()
    row.reading_key = reading.key
    row.reading_clauses = np.ascontiguousarray(reading.clauses, dtype=np.float32).tobytes()
    row.reading_required = dict(reading.required)


_NEED_FIELDS = frozenset(Need.model_fields)  # read once: pydantic makes the mapping per access


def _saved(row: SavedNeedRow) -> SavedNeed:
    fields = {k: v for k, v in (row.need or {}).items() if k in _NEED_FIELDS}
    return SavedNeed(
        id=row.id,
        owner=row.owner,
        need=Need.model_validate(fields),
        filters=Filters.model_validate(row.filters) if row.filters else None,
        limit=row.limit,
        snapshot=[TopEntry(**e) for e in row.snapshot or []],
        created_at=_aware(row.created_at) or row.created_at,
        notify_to=row.notify_to,
        last_alerted_at=_aware(row.last_alerted_at),
        pending=list(row.pending or []),
        pk=row.pk,
        reading=_reading(row),
        recommendation_id=row.recommendation_id,
    )


def _alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.pk,
        saved_need_id=row.saved_need_id,
        owner=row.owner,
        day=row.day,
        organisation_ids=list(row.organisation_ids),
        results=[TopEntry(**e) for e in row.results],
        notification_key=row.notification_key,
        created_at=_aware(row.created_at) or row.created_at,
    )


class SavedNeeds:
    def __init__(self, db: Database):
        self.db = db

    # saved needs ------------------------------------------------------------------------------
    def create(
        self,
        need: Need,
        filters: Filters | None,
        limit: int,
        snapshot: list[TopEntry],
        *,
        owner: str | None,
        notify_to: str | None,
        model: str,
        vector: np.ndarray,
        reading: NeedReading | None = None,
        recommendation_id: str | None = None,
    ) -> SavedNeed:
        """`reading`: the need as the engine read it to rank it (its query vector is then
        `vector`), kept so the alert worker does not embed the text again;
        `recommendation_id`: the results it was saved from. A webhook URL `notify_to` gets a
        signing secret, on the returned SavedNeed only (`new_webhook_secret`)."""
        secret = new_secret() if is_webhook_url(notify_to) else None
        row = SavedNeedRow(
            id=new_id("sn"),
            owner=owner,
            notify_to=notify_to,
            need=need_doc(need),
            filters=filters.model_dump(mode="json") if filters else None,
            limit=limit,
            snapshot=[e.as_dict() for e in snapshot],
            model=model,
            query_vector=np.asarray(vector, dtype=np.float32).tobytes(),
            created_at=utcnow(),
            pending=[],
            has_pending=False,
            recommendation_id=recommendation_id,
            webhook_secret=secret,
        )
        if reading is not None:
            _store_reading(row, reading)
        with self.db.session() as s:
            s.add(row)
            s.flush()
            saved = _saved(row)
        saved.new_webhook_secret = secret
        return saved

    def rotate_secret(self, saved_id: str) -> SavedNeed:
        """A new signing secret for the saved need's webhook (on the returned SavedNeed only:
        shown once); the old one signs nothing from now on. ValidationError when its alerts go
        to an e-mail address (or nowhere), NotFoundError when it is unknown."""
        with self.db.session() as s:
            row = s.scalar(select(SavedNeedRow).where(SavedNeedRow.id == saved_id))
            if row is None:
                raise NotFoundError(f"saved need '{saved_id}' not found")
            if not is_webhook_url(row.notify_to):
                raise ValidationError(
                    "its alerts do not go to a webhook URL: there is no signing secret",
                    field="notify_to",
                )
            secret = row.webhook_secret = new_secret()
            saved = _saved(row)
        saved.new_webhook_secret = secret
        return saved

    def get(self, saved_id: str) -> SavedNeed:
        with self.db.session() as s:
            row = s.scalar(select(SavedNeedRow).where(SavedNeedRow.id == saved_id))
            if row is None:
                raise NotFoundError(f"saved need '{saved_id}' not found")
            return _saved(row)

    def owned(self, owner: str, *, offset: int = 0, limit: int = 50) -> tuple[list[SavedNeed], int]:
        q = select(SavedNeedRow).where(SavedNeedRow.owner == owner)
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(SavedNeedRow.pk).offset(offset).limit(limit)).all()
            return [_saved(r) for r in rows], int(total)

    def delete(self, saved_id: str) -> None:
        with self.db.session() as s:
            s.execute(delete(AlertRow).where(AlertRow.saved_need_id == saved_id))
            done = s.execute(delete(SavedNeedRow).where(SavedNeedRow.id == saved_id))
            if int(getattr(done, "rowcount", 0)) != 1:
                raise NotFoundError(f"saved need '{saved_id}' not found")

    def fill_address(self, owner: str, address: str) -> int:
        """Give the owner's saved needs without an alert address this one; how many."""
        with self.db.session() as s:
            done = s.execute(
                update(SavedNeedRow)
                .where(SavedNeedRow.owner == owner, SavedNeedRow.notify_to.is_(None))
                .values(notify_to=address)
            )
            return int(getattr(done, "rowcount", 0))

    def signature(self) -> tuple[int, int]:
        """(count, max pk): changes when a saved need is added or deleted."""
        with self.db.session() as s:
            n, top = s.execute(select(func.count(), func.max(SavedNeedRow.pk))).one()
        return int(n or 0), int(top or 0)

    def vectors(
        self, model: str, dimension: int, *, after_pk: int = 0
    ) -> tuple[list[str], np.ndarray, list[str]]:
        """(ids, their query vectors, ids whose vector is missing or from another model), of
        the saved needs with pk above `after_pk`."""
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        stale: list[str] = []
        q = select(SavedNeedRow.id, SavedNeedRow.model, SavedNeedRow.query_vector).where(
            SavedNeedRow.pk > after_pk
        )
        with self.db.session() as s:
            for sid, m, blob in s.execute(q.order_by(SavedNeedRow.pk)):
                if m != model or blob is None or len(blob) != 4 * dimension:
                    stale.append(sid)
                    continue
                ids.append(sid)
                vecs.append(np.frombuffer(blob, dtype=np.float32))
        matrix = np.vstack(vecs) if vecs else np.zeros((0, dimension), dtype=np.float32)
        return ids, matrix, stale

    def count_after(self, pk: int) -> int:
        with self.db.session() as s:
            q = select(func.count()).where(SavedNeedRow.pk > pk)
            return int(s.scalar(q) or 0)

    def set_vector(self, saved_id: str, model: str, vector: np.ndarray) -> None:
        with self.db.session() as s:
            row = s.scalar(select(SavedNeedRow).where(SavedNeedRow.id == saved_id))
            if row is not None:
                row.model = model
                row.query_vector = np.asarray(vector, dtype=np.float32).tobytes()

    def set_readings(self, readings: dict[str, NeedReading]) -> None:
        """Store each saved need's reading (one transaction)."""
        if not readings:
            return
        with self.db.session() as s:
            rows = s.scalars(select(SavedNeedRow).where(SavedNeedRow.id.in_(list(readings))))
            for row in rows:
                _store_reading(row, readings[row.id])

    def many(self, ids: list[str]) -> list[SavedNeed]:
        with self.db.session() as s:
            rows = s.scalars(select(SavedNeedRow).where(SavedNeedRow.id.in_(ids))).all()
            return [_saved(r) for r in rows]

    def with_pending(self) -> list[SavedNeed]:
        with self.db.session() as s:
            rows = s.scalars(select(SavedNeedRow).where(SavedNeedRow.has_pending)).all()
            return [_saved(r) for r in rows if r.pending]

    def update_state(
        self,
        saved_id: str,
        *,
        snapshot: list[TopEntry],
        pending: list[str],
        last_alerted_at: datetime | None,
    ) -> None:
        with self.db.session() as s:
            row = s.scalar(select(SavedNeedRow).where(SavedNeedRow.id == saved_id))
            if row is None:
                return  # deleted meanwhile
            row.snapshot = [e.as_dict() for e in snapshot]
            row.pending = list(pending)
            row.has_pending = bool(pending)
            row.last_alerted_at = last_alerted_at

    # alerts -----------------------------------------------------------------------------------
    def add_alert(
        self,
        saved: SavedNeed,
        *,
        day: str,
        organisation_ids: list[str],
        results: list[TopEntry],
        notification_key: str | None,
        at: datetime,
    ) -> Alert:
        """The day's one alert for `saved`, with its new state; ConflictError when the day has
        one already (another worker wrote it)."""
        with self.db.session() as s:
            have = s.scalar(
                select(AlertRow.pk).where(AlertRow.saved_need_id == saved.id, AlertRow.day == day)
            )
            if have is not None:
                raise ConflictError(f"saved need '{saved.id}' was alerted on {day} already")
            row = AlertRow(
                saved_need_id=saved.id,
                owner=saved.owner,
                day=day,
                organisation_ids=organisation_ids,
                results=[e.as_dict() for e in results],
                notification_key=notification_key,
                created_at=at,
            )
            s.add(row)
            sn = s.scalar(select(SavedNeedRow).where(SavedNeedRow.id == saved.id))
            if sn is not None:
                sn.snapshot = [e.as_dict() for e in results]
                sn.pending = []
                sn.has_pending = False
                sn.last_alerted_at = at
            s.flush()
            return _alert(row)

    def add_alerts(
        self,
        new: list[NewAlert],
        *,
        at: datetime,
        queue: Callable[[Session, Message], None],
    ) -> tuple[list[Alert], list[NewAlert]]:
        """Many saved needs' alerts, their new state and their notifications (`queue` adds
        one to the session) in one transaction: (the alerts written, the ones left out because
        their day has an alert already). IntegrityError when a notification key or an alert
        was written meanwhile by another worker (nothing is written then)."""
        if not new:
            return [], []
        ids = [n.saved.id for n in new]
        with self.db.session() as s:
            have = set(
                s.execute(
                    select(AlertRow.saved_need_id, AlertRow.day).where(
                        AlertRow.saved_need_id.in_(ids)
                    )
                ).all()
            )
            rows = {
                r.id: r for r in s.scalars(select(SavedNeedRow).where(SavedNeedRow.id.in_(ids)))
            }
            written: list[AlertRow] = []
            skipped: list[NewAlert] = []
            for n in new:
                if (n.saved.id, n.day) in have or n.saved.id not in rows:
                    skipped.append(n)
                    continue
                row = AlertRow(
                    saved_need_id=n.saved.id,
                    owner=n.saved.owner,
                    day=n.day,
                    organisation_ids=n.organisation_ids,
                    results=[e.as_dict() for e in n.results],
                    notification_key=n.notification_key,
                    created_at=at,
                )
                s.add(row)
                sn = rows[n.saved.id]
                sn.snapshot = [e.as_dict() for e in n.results]
                sn.pending, sn.has_pending, sn.last_alerted_at = [], False, at
                if n.message is not None:
                    queue(s, n.message)
                written.append(row)
            s.flush()
            return [_alert(r) for r in written], skipped

    def update_states(self, states: dict[str, tuple[list[TopEntry], list[str]]]) -> None:
        """Several saved needs' snapshot and pending entrants (one transaction)."""
        if not states:
            return
        with self.db.session() as s:
            q = select(SavedNeedRow).where(SavedNeedRow.id.in_(list(states)))
            for row in s.scalars(q):
                snapshot, pending = states[row.id]
                row.snapshot = [e.as_dict() for e in snapshot]
                row.pending = list(pending)
                row.has_pending = bool(pending)

    def alert_on(self, saved_id: str, day: str) -> Alert | None:
        with self.db.session() as s:
            row = s.scalar(
                select(AlertRow).where(AlertRow.saved_need_id == saved_id, AlertRow.day == day)
            )
            return None if row is None else _alert(row)

    def alerts(
        self, owner: str, *, saved_need_id: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[Alert], int]:
        q = select(AlertRow).where(AlertRow.owner == owner)
        if saved_need_id is not None:
            q = q.where(AlertRow.saved_need_id == saved_need_id)
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(AlertRow.pk.desc()).offset(offset).limit(limit)).all()
            return [_alert(r) for r in rows], int(total)

    # the change log and its cursor -----------------------------------------------------------
    def cursor(self, name: str) -> tuple[int, set[int]]:
        """(every seq up to this one is done, seqs above it done); a follower that never ran
        starts after the changes older than every saved need (they cannot be new to one)."""
        with self.db.session() as s:
            row = s.get(AlertCursorRow, name)
            if row is not None:
                return int(row.seq), set(row.done or [])
            first = s.scalar(select(func.min(SavedNeedRow.created_at)))
            q = select(func.max(OrganisationChangeRow.seq))
            if first is not None:
                q = q.where(OrganisationChangeRow.changed_at < first)
            return int(s.scalar(q) or 0), set()

    def save_cursor(self, name: str, seq: int, done: set[int]) -> None:
        with self.db.session() as s:
            row = s.get(AlertCursorRow, name)
            if row is None:
                row = AlertCursorRow(name=name, seq=seq, done=[], updated_at=utcnow())
                s.add(row)
            row.seq, row.done, row.updated_at = seq, sorted(done), utcnow()

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        q = (
            select(OrganisationChangeRow)
            .where(OrganisationChangeRow.seq > seq)
            .order_by(OrganisationChangeRow.seq)
            .limit(limit)
        )
        with self.db.session() as s:
            return [
                Change(
                    r.seq,
                    r.organisation_pk,
                    r.organisation_id,
                    r.version,
                    _aware(r.changed_at) or r.changed_at,
                    r.kind or "organisation",
                    r.op or "upsert",
                )
                for r in s.scalars(q)
            ]

    def last_change(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.max(OrganisationChangeRow.seq))) or 0)
