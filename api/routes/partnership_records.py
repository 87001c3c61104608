"""/v1/partnership-records: follow-through after an introduction. A member of one organisation
proposes a record to another (shared goals with indicators, baselines and targets; each side's
role; milestones); a member of the other accepts or declines it; then either side edits the
plan (If-Match: every version is kept), checks in with progress and a rating, and closes it
with an outcome, which becomes a training label. Records are visible to the two
organisations' members only; to anyone else they do not exist (404)."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Query, Response, status

from api.deps import IfMatchDep, PartnershipRecordsDep, PersonDep
from api.partnership_schemas import (
    CheckInCreate,
    CheckInList,
    CheckInOut,
    GoalProgress,
    OutcomeIn,
    PartnershipRecordCreate,
    PartnershipRecordEdit,
    PartnershipRecordList,
    PartnershipRecordOut,
    VersionList,
    VersionOut,
)
from api.problems import ApiProblem, problem_responses
from matcher.errors import StaleVersionError
from matcher.followthrough.records import CheckIn, Record

router = APIRouter(prefix="/v1/partnership-records", tags=["partnership records"])

RecordId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^pr_[0-9a-f]{1,60}$", examples=["pr_1a2b"])
]


def record_out(record: Record, check_ins: list[CheckIn] | None = None) -> PartnershipRecordOut:
    latest: dict[str, float] = {}
    for c in check_ins or []:
        latest.update(c.progress)
    progress = []
    for g in record.plan.goals:
        value = latest.get(g.id)
        share = None if value is None else round(g.share_done(value), 4)
        progress.append(GoalProgress(goal_id=g.id, latest=value, share_done=share))
    return PartnershipRecordOut(
        id=record.id,
        organisation_id=record.organisation_id,
        partner_id=record.partner_id,
        introduction_id=record.introduction_id,
        status=record.status,
        plan=record.plan,
        outcome=record.outcome,
        progress=progress,
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        started_at=record.started_at,
    )


def check_in_out(c: CheckIn) -> CheckInOut:
    return CheckInOut(
        id=c.id,
        organisation_id=c.organisation_id,
        person_id=c.person_id,
        progress=c.progress,
        rating=c.rating,
        note=c.note,
        at=c.at,
    )


def _one_version(if_match: set[int] | None) -> int | None:
    if if_match is None:
        return None
    if len(if_match) != 1:
        raise ApiProblem(422, "send one version in If-Match")
    return next(iter(if_match))


def _etag(response: Response, record: Record) -> None:
    response.headers["ETag"] = f'"{record.version}"'


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnershipRecordOut,
    summary="Propose a partnership record to another organisation",
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
)
async def propose(
    body: PartnershipRecordCreate,
    person: PersonDep,
    records: PartnershipRecordsDep,
    response: Response,
) -> PartnershipRecordOut:
    record = await anyio.to_thread.run_sync(
        lambda: records.propose(
            person.id, body.organisation_id, body.partner_id, body.plan, body.introduction_id
        )
    )
    _etag(response, record)
    response.headers["Location"] = f"/v1/partnership-records/{record.id}"
    return record_out(record)


@router.get(
    "",
    response_model=PartnershipRecordList,
    summary="The partnership records of your organisations",
    responses=problem_responses(401, 422, 429, 503),
)
async def list_records(
    person: PersonDep,
    records: PartnershipRecordsDep,
    status_: Annotated[
        Literal["proposed", "active", "declined", "closed"] | None,
        Query(alias="status", description="only records in this state"),
    ] = None,
) -> PartnershipRecordList:
    items = await anyio.to_thread.run_sync(records.for_person, person.id, status_)
    return PartnershipRecordList(items=[record_out(r) for r in items])


@router.get(
    "/{record_id}",
    response_model=PartnershipRecordOut,
    summary="One partnership record, with the latest progress towards each goal",
    responses=problem_responses(401, 404, 422, 429, 503),
)
async def read(
    record_id: RecordId, person: PersonDep, records: PartnershipRecordsDep, response: Response
) -> PartnershipRecordOut:
    def load() -> tuple[Record, list[CheckIn]]:
        return records.get(person.id, record_id), records.check_ins(person.id, record_id)

    record, check_ins = await anyio.to_thread.run_sync(load)
    _etag(response, record)
    return record_out(record, check_ins)


@router.patch(
    "/{record_id}",
    response_model=PartnershipRecordOut,
    summary="Edit the plan (If-Match: the version you read; a new version is kept)",
    responses=problem_responses(400, 401, 404, 409, 412, 413, 422, 428, 429, 503),
)
async def edit(
    record_id: RecordId,
    body: PartnershipRecordEdit,
    person: PersonDep,
    records: PartnershipRecordsDep,
    if_match: IfMatchDep,
    response: Response,
) -> PartnershipRecordOut:
    version = _one_version(if_match)
    if version is None:
        raise ApiProblem(428, "send If-Match with the version you edited")
    try:
        record = await anyio.to_thread.run_sync(
            lambda: records.edit(person.id, record_id, body.plan, version)
        )
    except StaleVersionError as exc:
        raise ApiProblem(412, str(exc)) from None
    _etag(response, record)
    return record_out(record)


@router.post(
    "/{record_id}/accept",
    response_model=PartnershipRecordOut,
    summary="Accept a record proposed to your organisation",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def accept(
    record_id: RecordId, person: PersonDep, records: PartnershipRecordsDep, response: Response
) -> PartnershipRecordOut:
    record = await anyio.to_thread.run_sync(records.accept, person.id, record_id)
    _etag(response, record)
    return record_out(record)


@router.post(
    "/{record_id}/decline",
    response_model=PartnershipRecordOut,
    summary="Decline a record proposed to your organisation (no reason needed)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def decline(
    record_id: RecordId, person: PersonDep, records: PartnershipRecordsDep, response: Response
) -> PartnershipRecordOut:
    record = await anyio.to_thread.run_sync(records.decline, person.id, record_id)
    _etag(response, record)
    return record_out(record)


@router.post(
    "/{record_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckInOut,
    summary="Report progress on the goals, a rating (1-5) and a note, for your side",
    responses=problem_responses(400, 401, 404, 409, 413, 422, 429, 503),
)
async def check_in(
    record_id: RecordId, body: CheckInCreate, person: PersonDep, records: PartnershipRecordsDep
) -> CheckInOut:
    done = await anyio.to_thread.run_sync(records.check_in, person.id, record_id, body)
    return check_in_out(done)


@router.get(
    "/{record_id}/check-ins",
    response_model=CheckInList,
    summary="Every check-in of both sides, oldest first",
    responses=problem_responses(401, 404, 422, 429, 503),
)
async def list_check_ins(
    record_id: RecordId, person: PersonDep, records: PartnershipRecordsDep
) -> CheckInList:
    items = await anyio.to_thread.run_sync(records.check_ins, person.id, record_id)
    return CheckInList(items=[check_in_out(c) for c in items])


@router.post(
    "/{record_id}/close",
    response_model=PartnershipRecordOut,
    summary="Close with an outcome (achieved, partly_achieved, not_achieved) and what was learned",
    responses=problem_responses(400, 401, 404, 409, 412, 413, 422, 429, 503),
)
async def close(
    record_id: RecordId,
    body: OutcomeIn,
    person: PersonDep,
    records: PartnershipRecordsDep,
    if_match: IfMatchDep,
    response: Response,
) -> PartnershipRecordOut:
    version = _one_version(if_match)
    try:
        record = await anyio.to_thread.run_sync(
            lambda: records.close(person.id, record_id, body, version)
        )
    except StaleVersionError as exc:
        raise ApiProblem(412, str(exc)) from None
    _etag(response, record)
    return record_out(record)


@router.get(
    "/{record_id}/versions",
    response_model=VersionList,
    summary="Every version of the record: who changed what, when",
    responses=problem_responses(401, 404, 422, 429, 503),
)
async def versions(
    record_id: RecordId, person: PersonDep, records: PartnershipRecordsDep
) -> VersionList:
    items = await anyio.to_thread.run_sync(records.versions, person.id, record_id)
    return VersionList(
        items=[
            VersionOut(
                version=v.version,
                status=v.status,
                change=v.change,
                person_id=v.person_id,
                plan=v.plan,
                outcome=v.outcome,
                at=v.at,
            )
            for v in items
        ]
    )
