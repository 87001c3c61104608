"""Served recommendations and feedback, stored for training (tables in matcher.store.models)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydantic
from sqlalchemy import func, select

from matcher.domain import Filters, Need, Recommendation, utcnow
from matcher.errors import NotFoundError, ValidationError
from matcher.store.db import Database
from matcher.store.models import FeedbackRow, OrganisationRow, RecommendationRow


def new_recommendation_id() -> str:
    return f"rec_{uuid.uuid4().hex[:16]}"


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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _record(row: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(
        row.pk,
        row.recommendation_id,
        row.organisation_id,
        row.outcome,
        row.note,
        _aware(row.created_at),
    )


class Records:
    def __init__(self, db: Database):
        self.db = db

    def save_recommendation(
        self,
        rec: Recommendation,
        *,
        api_key_id: str | None,
        need: Need | None = None,
        filters: Filters | None = None,
    ) -> str:
        rec_id = new_recommendation_id()
        shown = [m.id for m in rec.results] + [m.id for m in rec.coalition.members]
        for matches in rec.by_sector.values():
            shown.extend(m.id for m in matches)
        ids = list(dict.fromkeys(shown))
        need_doc: dict[str, Any] = (need or rec.need).model_dump(mode="json")
        if filters is not None:  # kept beside the need, so it can be run again as asked
            need_doc["filters"] = filters.model_dump(mode="json")
        snapshot = rec.model_dump(mode="json", exclude={"need"})
        with self.db.session() as s:
            # The subject of any label given on this recommendation, fixed when it is written:
            # the requesting organisation when it exists, else the need itself.
            requester = need_doc.get("requester_id")
            known = requester and s.scalar(
                select(OrganisationRow.pk).where(OrganisationRow.id == requester)
            )
            need_doc["subject"] = requester if known else f"need:{need_doc.get('id') or rec_id}"
            s.add(
                RecommendationRow(
                    id=rec_id,
                    created_at=utcnow(),
                    need=need_doc,
                    result_ids=ids,
                    model_version=rec.model_version,
                    index_generation=rec.index_generation,
                    api_key_id=api_key_id,
                    snapshot=snapshot,
                )
            )
        return rec_id

    def get_recommendation(self, recommendation_id: str) -> StoredRecommendation:
        """The stored recommendation, rebuilt as it was served; NotFoundError if unknown."""
        with self.db.session() as s:
            row = s.get(RecommendationRow, recommendation_id)
            if row is None:
                raise NotFoundError(f"recommendation '{recommendation_id}' not found")
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
    ) -> FeedbackRecord:
        """Store an outcome; the organisation must have been in that recommendation."""
        for field, value in (
            ("recommendation_id", recommendation_id),
            ("organisation_id", organisation_id),
            ("note", note or ""),
        ):
            if "\x00" in value:  # PostgreSQL refuses NUL; answer the same on every backend
                raise ValidationError(
                    f"{field} must not contain NUL (\\x00) characters", field=field
                )
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
