"""Served recommendations and feedback, stored for training (tables in matcher.store.models)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, TypeVar

import pydantic
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.recids import in_flight_wait_seconds, new_recommendation_id, wait_until
from api.recordqueue import PendingRecord, RecordQueue
from matcher.domain import Filters, Need, Recommendation, utcnow
from matcher.errors import NotFoundError, OverloadedError, ValidationError
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import FeedbackRow, OrganisationRow, RecommendationRow


class QueueSettings(TypedDict, total=False):
    batch_size: int
    flush_seconds: float
    put_timeout: float


T = TypeVar("T")
POLL_FIRST, POLL_MAX = 0.01, 0.05  # seconds between reads while another process writes an id


@dataclass(frozen=True)
class StoredRecommendation:
    """A served recommendation as stored; `recommendation` is None for rows stored before
    snapshots were kept (or whose snapshot no longer reads): only the need can be run again."""

    id: str
    created_at: datetime
    need: dict[str, Any]
    model_version: str
    index_generation: int
    recommendation: Recommendation | None


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    recommendation_id: str
    organisation_id: str
    outcome: str
    note: str | None
    created_at: datetime
    api_key_id: str | None = None
    person_id: str | None = None

    @property
    def given_by(self) -> str:
        """Who marked it: "person" (signed in on the web page), "api_key", or "anonymous"
        (a visitor not signed in: stored, but never a training label)."""
        if self.person_id is not None:
            return "person"
        return "api_key" if self.api_key_id is not None else "anonymous"


def _record(row: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(
        row.pk,
        row.recommendation_id,
        row.organisation_id,
        row.outcome,
        row.note,
        _aware(row.created_at),
        row.api_key_id,
        row.person_id,
    )


def _shown_ids(rec: Recommendation) -> list[str]:
    """Every organisation shown: the ones feedback may be given on."""
    shown = [m.id for m in rec.results] + [m.id for m in rec.coalition.members]
    for matches in rec.by_sector.values():
        shown.extend(m.id for m in matches)
    return list(dict.fromkeys(shown))


def _need_doc(record: PendingRecord) -> dict[str, Any]:
    """The stored need document: the need, and the filters beside it when given (so the
    recommendation can be run again as asked)."""
    doc: dict[str, Any] = record.need.model_dump(mode="json")
    if record.filters is not None:
        doc["filters"] = record.filters.model_dump(mode="json")
    return doc


class Records:
    def __init__(self, db: Database, queue_settings: QueueSettings | None = None):
        """With `queue_settings`, recommendations are written off the request path by a
        `RecordQueue` (call `start()` and `stop()`); without, each is written at once."""
        self.db = db
        self.queue: RecordQueue | None = None
        # how long an id issued by another process may take to reach the database (0: every
        # process writes before it answers, so an id not found is not in flight)
        self.in_flight_seconds = 0.0
        if queue_settings is not None:
            self.queue = RecordQueue(self.write_batch, **queue_settings)
            self.in_flight_seconds = in_flight_wait_seconds(self.queue.flush_seconds)

    def start(self) -> None:
        if self.queue is not None:
            self.queue.start()

    def stop(self) -> None:
        """Write everything queued (a clean shutdown loses no acknowledged recommendation)."""
        if self.queue is not None:
            self.queue.stop()

    @property
    def backlogged(self) -> bool:
        return self.queue is not None and self.queue.stalled

    def save_recommendation(
        self,
        rec: Recommendation,
        *,
        api_key_id: str | None,
        need: Need | None = None,
        filters: Filters | None = None,
    ) -> str:
        """Store a served recommendation and return its id: through the record queue when one
        is attached (written in a batch shortly after; readable here at once), else now."""

        def make() -> PendingRecord:  # the id carries the time it enters the queue
            return PendingRecord(
                id=new_recommendation_id(),
                created_at=utcnow(),
                rec=rec,
                need=need or rec.need,
                api_key_id=api_key_id,
                filters=filters,
            )

        if self.queue is not None:
            return self.queue.submit(make).id
        record = make()
        self.write_batch([record])
        return record.id

    def write_batch(self, records: list[PendingRecord]) -> None:
        """Insert served recommendations in one transaction."""
        docs = [_need_doc(r) for r in records]
        with self.db.session() as s:
            subjects = self._subjects(s, docs, [r.id for r in records])
            s.add_all(
                RecommendationRow(
                    id=r.id,
                    created_at=r.created_at,
                    need={**doc, "subject": subject},
                    result_ids=_shown_ids(r.rec),
                    model_version=r.rec.model_version,
                    index_generation=r.rec.index_generation,
                    api_key_id=r.api_key_id,
                    snapshot=r.rec.model_dump(mode="json", exclude={"need"}),
                )
                for r, doc, subject in zip(records, docs, subjects, strict=True)
            )

    @staticmethod
    def _subjects(s: Session, docs: list[dict[str, Any]], rec_ids: list[str]) -> list[str]:
        """The subject of any label given on each recommendation, fixed when it is written: the
        requesting organisation when it exists, else the need itself."""
        asked = {d["requester_id"] for d in docs if d.get("requester_id")}
        known = (
            set(s.scalars(select(OrganisationRow.id).where(OrganisationRow.id.in_(asked))))
            if asked
            else set()
        )
        return [
            d["requester_id"] if d.get("requester_id") in known else f"need:{d.get('id') or i}"
            for d, i in zip(docs, rec_ids, strict=True)
        ]

    def flush(self, timeout: float = 30.0) -> bool:
        """Write every queued recommendation now (True when none is left)."""
        return self.queue.flush(timeout) if self.queue is not None else True

    def _pending(self, recommendation_id: str) -> StoredRecommendation | None:
        record = self.queue.get(recommendation_id) if self.queue is not None else None
        if record is None:
            return None
        need_doc = _need_doc(record)
        with self.db.session() as s:
            need_doc["subject"] = self._subjects(s, [need_doc], [record.id])[0]
        return StoredRecommendation(
            id=record.id,
            created_at=record.created_at,
            need=need_doc,
            model_version=record.rec.model_version,
            index_generation=record.rec.index_generation,
            recommendation=record.rec.model_copy(update={"need": record.need}),
        )

    def _eventually(self, recommendation_id: str, read: Callable[[], T | None]) -> T | None:
        """`read()`, again every few milliseconds while another process may still be writing
        `recommendation_id` (`api.recids.wait_until`; at once None for any other id). Blocks:
        call it off the event loop."""
        found = read()
        deadline = (
            None if found is not None else wait_until(recommendation_id, self.in_flight_seconds)
        )
        step = POLL_FIRST
        while deadline is not None and (left := deadline - time.time()) > 0:
            time.sleep(min(step, left))
            step = min(step * 2, POLL_MAX)
            if (found := read()) is not None:
                return found
        return found

    def ensure_stored(self, recommendation_id: str) -> bool:
        """Wait until `recommendation_id` is in the database: its batch written now when it is
        queued here, or (bounded) while another process may still be writing it. False when it
        is not there (unknown, or lost in another process's crash); OverloadedError when this
        process's write does not finish in time. Blocks: call it off the event loop."""
        if "\x00" in recommendation_id:  # never stored (PostgreSQL refuses it in a query)
            return False
        if self.queue is not None and not self.queue.wait_written(recommendation_id):
            raise OverloadedError("the recommendation is still being stored; retry shortly")

        def stored() -> bool | None:
            with self.db.session() as s:
                row = s.scalar(
                    select(RecommendationRow.id).where(RecommendationRow.id == recommendation_id)
                )
                return True if row is not None else None

        return bool(self._eventually(recommendation_id, stored))

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation:
        """The stored recommendation, rebuilt as it was served; NotFoundError if unknown.
        One still in this process's record queue is read from there; one another process may
        still be writing is waited for (bounded, `api.recids`). Blocks: call it off the event
        loop."""
        found = self._eventually(
            recommendation_id,
            lambda: self._pending(recommendation_id) or self._stored(recommendation_id),
        )
        if found is None:
            raise NotFoundError(f"recommendation '{recommendation_id}' not found")
        return found

    def _stored(self, recommendation_id: str) -> StoredRecommendation | None:
        with self.db.session() as s:
            row = s.get(RecommendationRow, recommendation_id)
            if row is None:
                return None
            need_doc = dict(row.need or {})
            rec: Recommendation | None = None
            if row.snapshot:
                try:
                    # the stored need document also carries bookkeeping such as `subject`
                    fields = {k: v for k, v in need_doc.items() if k in Need.model_fields}
                    need = Need.model_validate(fields)
                    rec = Recommendation.model_validate({**row.snapshot, "need": need})
                except pydantic.ValidationError:
                    rec = None
            return StoredRecommendation(
                id=row.id,
                created_at=_aware(row.created_at),
                need=need_doc,
                model_version=row.model_version,
                index_generation=row.index_generation,
                recommendation=rec,
            )

    def add_feedback(
        self,
        *,
        recommendation_id: str,
        organisation_id: str,
        outcome: str,
        note: str | None,
        api_key_id: str | None,
        person_id: str | None = None,
    ) -> FeedbackRecord:
        """Store an outcome; the organisation must have been in that recommendation. Who gave
        it is kept: the API key, the signed-in person (`person_id`), or neither (anonymous)."""
        for field, value in (
            ("recommendation_id", recommendation_id),
            ("organisation_id", organisation_id),
            ("note", note or ""),
        ):
            if "\x00" in value:  # PostgreSQL refuses NUL; answer the same on every backend
                raise ValidationError(
                    f"{field} must not contain NUL (\\x00) characters", field=field
                )
        self.ensure_stored(recommendation_id)  # the row is looked up again below
        with self.db.session() as s:
            rec = s.get(RecommendationRow, recommendation_id)
            if rec is None:
                raise NotFoundError(f"recommendation '{recommendation_id}' not found")
            if organisation_id not in (rec.result_ids or []):
                raise ValidationError(
                    f"organisation '{organisation_id}' was not in recommendation "
                    f"'{recommendation_id}'",
                    field="organisation_id",
                )
            row = FeedbackRow(
                recommendation_id=recommendation_id,
                organisation_id=organisation_id,
                outcome=outcome,
                note=note,
                created_at=utcnow(),
                api_key_id=api_key_id,
                person_id=person_id,
            )
            s.add(row)
            s.flush()
            return _record(row)

    def list_feedback(
        self, *, outcome: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[FeedbackRecord], int]:
        with self.db.session() as s:
            q = select(FeedbackRow)
            if outcome:
                q = q.where(FeedbackRow.outcome == outcome)
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(FeedbackRow.pk).offset(offset).limit(limit)).all()
            return [_record(r) for r in rows], int(total)
