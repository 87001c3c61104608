"""/v1/feedback: outcomes of recommended partners, stored for training; export for analysts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import AnalystDep, PageDep, ReaderDep, RecordsDep
from api.problems import problem_responses
from api.schemas import FeedbackCreate, FeedbackPage, FeedbackPublic, Outcome

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    summary="Record what happened with a recommended organisation",
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 503),
)
def add_feedback(body: FeedbackCreate, records: RecordsDep, principal: ReaderDep) -> FeedbackPublic:
    row = records.add_feedback(
        recommendation_id=body.recommendation_id,
        organisation_id=body.organisation_id,
        outcome=body.outcome.value,
        note=body.note,
        api_key_id=principal.key_id,
    )
    return FeedbackPublic.model_validate(row, from_attributes=True)


@router.get(
    "",
    response_model=FeedbackPage,
    summary="Export feedback (analysts and admins)",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_feedback(
    records: RecordsDep,
    principal: AnalystDep,
    page: PageDep,
    outcome: Annotated[Outcome | None, Query(description="Only this outcome")] = None,
) -> FeedbackPage:
    items, total = records.list_feedback(
        outcome=outcome.value if outcome else None, offset=page.offset, limit=page.page_size
    )
    return FeedbackPage(
        items=[FeedbackPublic.model_validate(r, from_attributes=True) for r in items],
        total=total,
        page=page.page,
        page_size=page.page_size,
    )
