"""Saved needs, the alert inbox and the change-log cursor (tables in matcher.store.models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select

from matcher.domain import Filters, Need, new_id, utcnow
from matcher.errors import ConflictError, NotFoundError
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


def _saved(row: SavedNeedRow) -> SavedNeed:
    fields = {k: v for k, v in (row.need or {}).items() if k in Need.model_fields}
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
    ) -> SavedNeed:
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
        )
        with self.db.session() as s:
            s.add(row)
            s.flush()
            return _saved(row)

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
