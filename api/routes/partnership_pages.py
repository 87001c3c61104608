"""The partnership record pages: your organisations' records, and one record with its goals
drawn (baseline, target, every check-in), its milestones, check-ins and history; forms to
accept or decline, check in and close. Every form carries the session's CSRF token. A record
that is not yours is "not found", as in the API."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError as PydanticValidationError

from api.deps import FormCsrf, OptionalPersonDep, PartnershipRecordsDep
from api.problems import engine_error_status
from api.routes.account_pages import _page
from api.web.charts import Point, goal_chart
from api.web.names import organisation_names
from matcher.accounts import Person
from matcher.errors import (
    ConflictError,
    MatcherError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from matcher.followthrough.plan import CheckInInput, Outcome, Plan
from matcher.followthrough.records import PartnershipRecords

router = APIRouter(include_in_schema=False)
_ERRORS = (ConflictError, PermissionDeniedError, ValidationError, PydanticValidationError)


def _login(path: str) -> Response:
    return RedirectResponse(f"/login?next={path}", status_code=303)


@router.get("/partnerships", response_class=HTMLResponse)
async def partnerships(
    request: Request, person: OptionalPersonDep, records: PartnershipRecordsDep
) -> Response:
    if person is None:
        return _login("/partnerships")

    def load() -> tuple[list[Any], dict[str, str]]:
        items = records.for_person(person.id, None)
        return items, organisation_names(
            records.db, (i for r in items for i in (r.organisation_id, r.partner_id))
        )

    items, names = await anyio.to_thread.run_sync(load)
    return _page(request, "partnerships.html", person=person, records=items, names=names)


def _detail(records: PartnershipRecords, person: Person, record_id: str) -> dict[str, Any]:
    record = records.get(person.id, record_id)
    check_ins = records.check_ins(person.id, record_id)
    sides = record.sides()
    charts = []
    for g in record.plan.goals:
        points = [
            Point(c.progress[g.id], sides.index(c.organisation_id))
            for c in check_ins
            if g.id in c.progress
        ]
        charts.append((g, Markup(goal_chart(g.indicator, g.baseline, g.target, points))))
    return {
        "record": record,
        "check_ins": check_ins,
        "charts": charts,
        "versions": records.versions(person.id, record_id),
        "mine": set(sides) & records.organisations_of(person.id),
        "names": organisation_names(records.db, sides),
    }


async def _show(
    request: Request,
    records: PartnershipRecords,
    person: Person,
    record_id: str,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    try:
        ctx = await anyio.to_thread.run_sync(_detail, records, person, record_id[:64])
    except NotFoundError as exc:
        return _page(request, "error.html", 404, title="Not found", message=str(exc))
    return _page(request, "partnership.html", status_code, errors=errors or [], **ctx)


@router.get("/partnerships/{record_id}", response_class=HTMLResponse)
async def partnership(
    request: Request, record_id: str, person: OptionalPersonDep, records: PartnershipRecordsDep
) -> Response:
    if person is None:
        return _login(f"/partnerships/{record_id[:64]}")
    return await _show(request, records, person, record_id)


async def _act(
    request: Request,
    records: PartnershipRecords,
    person: Person | None,
    record_id: str,
    action: Any,
) -> Response:
    if person is None:
        return _login(f"/partnerships/{record_id[:64]}")
    try:
        await anyio.to_thread.run_sync(action, person)
    except NotFoundError:
        return await _show(request, records, person, record_id)
    except _ERRORS as exc:
        status = engine_error_status(exc) if isinstance(exc, MatcherError) else 422
        return await _show(request, records, person, record_id, status, [_message(exc)])
    return RedirectResponse(f"/partnerships/{record_id[:64]}", status_code=303)


def _message(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


@router.post("/partnerships/new", dependencies=[FormCsrf])
async def propose(
    request: Request,
    person: OptionalPersonDep,
    records: PartnershipRecordsDep,
    introduction_id: Annotated[str, Form(max_length=64)],
    organisation_id: Annotated[str, Form(max_length=128)],
    partner_id: Annotated[str, Form(max_length=128)],
    title: Annotated[str, Form(max_length=300)],
    goal: Annotated[str, Form(max_length=300)],
    indicator: Annotated[str, Form(max_length=300)],
    baseline: Annotated[str, Form(max_length=40)],
    target: Annotated[str, Form(max_length=40)],
    role: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """The "keep a partnership record" form of an accepted introduction: one shared goal."""
    back = f"/introductions/{introduction_id}"
    if person is None:
        return _login(back)
    try:
        plan = Plan.model_validate(
            {
                "title": title,
                "goals": [
                    {
                        "id": "goal-1",
                        "description": goal,
                        "indicator": indicator,
                        "baseline": baseline,
                        "target": target,
                    }
                ],
                "roles": {organisation_id: role} if role.strip() else {},
            }
        )
        record = await anyio.to_thread.run_sync(
            lambda: records.propose(person.id, organisation_id, partner_id, plan, introduction_id)
        )
    except _ERRORS as exc:
        status = engine_error_status(exc) if isinstance(exc, MatcherError) else 422
        return _page(
            request,
            "error.html",
            status,
            title="The record was not started",
            errors=[_message(exc)],
            advice=f"Go back to the introduction ({back}) and try again.",
        )
    return RedirectResponse(f"/partnerships/{record.id}", status_code=303)


@router.post("/partnerships/{record_id}/accept", dependencies=[FormCsrf])
async def accept(
    request: Request, record_id: str, person: OptionalPersonDep, records: PartnershipRecordsDep
) -> Response:
    return await _act(
        request, records, person, record_id, lambda p: records.accept(p.id, record_id)
    )


@router.post("/partnerships/{record_id}/decline", dependencies=[FormCsrf])
async def decline(
    request: Request, record_id: str, person: OptionalPersonDep, records: PartnershipRecordsDep
) -> Response:
    return await _act(
        request, records, person, record_id, lambda p: records.decline(p.id, record_id)
    )


@router.post("/partnerships/{record_id}/check-in", dependencies=[FormCsrf])
async def check_in(
    request: Request, record_id: str, person: OptionalPersonDep, records: PartnershipRecordsDep
) -> Response:
    form = await request.form()
    progress = {
        str(k)[len("goal-") :]: str(v)
        for k, v in form.items()
        if str(k).startswith("goal-") and str(v).strip()
    }
    rating = str(form.get("rating") or "").strip() or None
    side = str(form.get("organisation_id") or "").strip() or None

    def act(p: Person) -> Any:
        body = CheckInInput.model_validate(
            {
                "progress": progress,
                "rating": rating,
                "note": str(form.get("note") or "")[:4000],
                "organisation_id": side,
            }
        )
        return records.check_in(p.id, record_id, body)

    return await _act(request, records, person, record_id, act)


@router.post("/partnerships/{record_id}/close", dependencies=[FormCsrf])
async def close(
    request: Request,
    record_id: str,
    person: OptionalPersonDep,
    records: PartnershipRecordsDep,
    result: Annotated[str, Form(max_length=32)],
    learned: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    def act(p: Person) -> Any:
        outcome = Outcome.model_validate({"result": result, "learned": learned})
        return records.close(p.id, record_id, outcome, None)

    return await _act(request, records, person, record_id, act)
