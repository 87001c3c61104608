"""/v1/introductions: a signed-in member asks another organisation for an introduction; the
asked organisation's members accept or decline; once accepted both sides see each other's
contact details and write in a thread. Anyone of neither organisation gets 404 for it."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.deps import IntroductionsDep, PageDep, PersonDep, RecordsDep
from api.introduction_schemas import (
    EventOut,
    IntroductionCreate,
    IntroductionOut,
    IntroductionPage,
    IntroStatus,
    MessageCreate,
    MessageOut,
    event_out,
    introduction_out,
    message_out,
)
from api.problems import problem_responses
from matcher.introductions import IntroductionView


def _no_store(response: Response) -> None:
    """Introductions (and, once accepted, contact details) never sit in a shared cache."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/v1", tags=["introductions"], dependencies=[Depends(_no_store)])

IntroId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^intro_[0-9a-f]{1,60}$", examples=["intro_1a2b"]),
]
_READ = problem_responses(401, 404, 422, 429, 503)
_WRITE = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


@router.post(
    "/introductions",
    status_code=status.HTTP_201_CREATED,
    response_model=IntroductionOut,
    summary="Ask another organisation for an introduction (rate-limited per organisation)",
    responses=_WRITE,
)
async def create_introduction(
    body: IntroductionCreate, person: PersonDep, intros: IntroductionsDep, records: RecordsDep
) -> IntroductionOut:
    def ask() -> IntroductionView:
        if body.recommendation_id is not None:  # one just served (maybe by another process)
            records.ensure_stored(body.recommendation_id)
        return intros.request(
            person.id,
            body.to_organisation_id,
            body.message,
            from_org=body.from_organisation_id,
            need_text=body.need_text,
            need_id=body.need_id,
            recommendation_id=body.recommendation_id,
        )

    view = await anyio.to_thread.run_sync(ask)
    return introduction_out(view)


@router.get(
    "/introductions",
    response_model=IntroductionPage,
    summary="Your organisations' introductions: incoming (asked of them) or outgoing",
    responses=_READ,
)
async def list_introductions(
    person: PersonDep,
    intros: IntroductionsDep,
    paging: PageDep,
    box: Annotated[
        Literal["incoming", "outgoing"], Query(description="incoming: the inbox; outgoing: sent")
    ] = "incoming",
    intro_status: Annotated[IntroStatus | None, Query(alias="status")] = None,
) -> IntroductionPage:
    views, total = await anyio.to_thread.run_sync(
        lambda: intros.inbox(
            person.id, box, status=intro_status, limit=paging.page_size, offset=paging.offset
        )
    )
    return IntroductionPage(
        items=[introduction_out(v) for v in views],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/introductions/{intro_id}",
    response_model=IntroductionOut,
    summary="One introduction of your organisations (contact details once accepted)",
    responses=_READ,
)
async def get_introduction(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> IntroductionOut:
    return introduction_out(await anyio.to_thread.run_sync(intros.get, intro_id, person.id))


@router.post(
    "/introductions/{intro_id}/accept",
    response_model=IntroductionOut,
    summary="Accept a request made of your organisation: contact details are shared",
    responses=_WRITE,
)
async def accept_introduction(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> IntroductionOut:
    return introduction_out(await anyio.to_thread.run_sync(intros.accept, intro_id, person.id))


@router.post(
    "/introductions/{intro_id}/decline",
    response_model=IntroductionOut,
    summary="Decline a request made of your organisation (no reason; who declined stays private)",
    responses=_WRITE,
)
async def decline_introduction(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> IntroductionOut:
    return introduction_out(await anyio.to_thread.run_sync(intros.decline, intro_id, person.id))


@router.post(
    "/introductions/{intro_id}/withdraw",
    response_model=IntroductionOut,
    summary="Withdraw your organisation's open request",
    responses=_WRITE,
)
async def withdraw_introduction(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> IntroductionOut:
    return introduction_out(await anyio.to_thread.run_sync(intros.withdraw, intro_id, person.id))


@router.get(
    "/introductions/{intro_id}/messages",
    response_model=list[MessageOut],
    summary="The thread of an accepted introduction, oldest first",
    responses=problem_responses(401, 404, 409, 422, 429, 503),
)
async def list_messages(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> list[MessageOut]:
    found = await anyio.to_thread.run_sync(intros.messages, intro_id, person.id)
    return [message_out(m) for m in found]


@router.post(
    "/introductions/{intro_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    summary="Write in the thread of an accepted introduction (plain text)",
    responses=_WRITE,
)
async def post_message(
    intro_id: IntroId, body: MessageCreate, person: PersonDep, intros: IntroductionsDep
) -> MessageOut:
    msg = await anyio.to_thread.run_sync(intros.post_message, intro_id, person.id, body.body)
    return message_out(msg)


@router.get(
    "/introductions/{intro_id}/events",
    response_model=list[EventOut],
    summary="The audit log of an introduction (the two organisations' admins)",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def list_events(
    intro_id: IntroId, person: PersonDep, intros: IntroductionsDep
) -> list[EventOut]:
    found = await anyio.to_thread.run_sync(intros.events, intro_id, person.id)
    return [event_out(e) for e in found]
