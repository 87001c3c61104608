"""The introduction pages: the inbox (incoming and outgoing), one introduction with its
contact details (once accepted) and thread, and the form that asks for one. Server-rendered;
every form carries the session's CSRF token; text is escaped by the templates."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import (
    ClaimsDep,
    EngineDep,
    FormCsrf,
    IntroductionsDep,
    OptionalPersonDep,
    PrincipalDep,
    RecordsDep,
    StateDep,
)
from api.introduction_schemas import TEXT_MAX
from api.schemas import OrganisationOut
from api.security import Principal
from api.sessions import csrf_token
from api.views import organisation_view
from api.web.render import context, operator_contact, templates
from matcher.engine import Engine
from matcher.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)
from matcher.introductions import IntroductionView

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}
TextField = Annotated[str, Form(max_length=TEXT_MAX)]


def _page(request: Request, name: str, status_code: int = 200, **extra: Any) -> Response:
    ctx = context(request, csrf=csrf_token(request), **extra)
    return templates.TemplateResponse(request, name, ctx, status_code, headers=_NO_STORE)


def _login(path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


def _status(exc: Exception) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, ThrottledError):
        return 429
    return 422


@router.get("/introductions", response_class=HTMLResponse)
async def inbox(request: Request, person: OptionalPersonDep, intros: IntroductionsDep) -> Response:
    if person is None:
        return _login("/introductions")
    incoming, _ = await anyio.to_thread.run_sync(lambda: intros.inbox(person.id, "incoming"))
    outgoing, _ = await anyio.to_thread.run_sync(lambda: intros.inbox(person.id, "outgoing"))
    return _page(request, "introductions.html", incoming=incoming, outgoing=outgoing)


def _target(engine: Engine, principal: Principal, org_id: str) -> OrganisationOut | None:
    """The organisation asked, as this person may see it (None: no such visible one)."""
    if not org_id:
        return None
    try:
        stored = engine.store.get_organisation(org_id)
    except NotFoundError:
        return None
    if not principal.can_see(stored.record.owner, stored.record.published):
        return None
    return organisation_view(stored, principal)


@router.get("/introductions/new", response_class=HTMLResponse)
async def new_form(
    request: Request,
    person: OptionalPersonDep,
    claims: ClaimsDep,
    engine: EngineDep,
    principal: PrincipalDep,
    state: StateDep,
    to: Annotated[str, Query(max_length=128)] = "",
    rec: Annotated[str, Query(max_length=64)] = "",
    # what the request is about, when not a search's need (an aligned page's focus)
    need: Annotated[str, Query(max_length=TEXT_MAX)] = "",
) -> Response:
    """The form; for a person with no organisation (an organiser whose group has no profile
    yet), what it takes to ask, and the asked organisation's public website meanwhile."""
    if person is None:
        also = f"&need={quote(need)}" if need else ""
        return _login(f"/introductions/new?to={quote(to)}&rec={quote(rec)}{also}")
    memberships = await anyio.to_thread.run_sync(claims.memberships, person.id)
    target = await anyio.to_thread.run_sync(_target, engine, principal, to)
    # nobody to read it: every registry profile until someone claims it (a walk's first
    # request went to an organisation no one manages, and the page promised an answer)
    unmanaged = target is not None and not await anyio.to_thread.run_sync(claims.members, target.id)
    form = {"to_organisation_id": to, "recommendation_id": rec, "need_text": need}
    # one of the person's own groups (a card of a search for none of them): no form that the
    # service refuses with an API message (real data walk)
    own = target is not None and any(m.organisation_id == target.id for m in memberships)
    return _page(
        request,
        "introduction_new.html",
        memberships=memberships,
        form=form,
        target=target,
        own_target=own,
        unmanaged=unmanaged,
        expiry_days=state.settings.introduction_expiry_days,
        contact=operator_contact(state.api.contact),
        # back here once the group is added (to an organisation this person may see only)
        add_group_next=(
            f"/introductions/new?to={quote(target.id)}&rec={quote(rec)}"
            if target is not None
            else "/introductions/new"
        ),
    )


@router.post("/introductions", dependencies=[FormCsrf])
async def create(
    request: Request,
    person: OptionalPersonDep,
    claims: ClaimsDep,
    intros: IntroductionsDep,
    records: RecordsDep,
    to_organisation_id: Annotated[str, Form(max_length=128)],
    message: TextField,
    need_text: TextField = "",
    from_organisation_id: Annotated[str, Form(max_length=128)] = "",
    recommendation_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if person is None:
        return _login("/introductions")

    def ask() -> IntroductionView:
        rec_id = recommendation_id.strip() or None
        if rec_id is not None:  # one just served (maybe by another process)
            records.ensure_stored(rec_id)
        return intros.request(
            person.id,
            to_organisation_id.strip(),
            message,
            from_org=from_organisation_id.strip() or None,
            need_text=need_text,
            recommendation_id=rec_id,
        )

    try:
        view = await anyio.to_thread.run_sync(ask)
    except (NotFoundError, ConflictError, PermissionDeniedError, ValidationError) as exc:
        memberships = await anyio.to_thread.run_sync(claims.memberships, person.id)
        form = {
            "to_organisation_id": to_organisation_id,
            "recommendation_id": recommendation_id,
            "from_organisation_id": from_organisation_id,
            "message": message,
            "need_text": need_text,
        }
        return _page(
            request,
            "introduction_new.html",
            _status(exc),
            memberships=memberships,
            form=form,
            # the reason in the page's words, not the API's "field '...':" prefix
            errors=[exc.message if isinstance(exc, ValidationError) else str(exc)],
        )
    return RedirectResponse(f"/introductions/{quote(view.introduction.id)}", status_code=303)


@router.get("/introductions/{intro_id}", response_class=HTMLResponse)
async def detail(
    request: Request, intro_id: str, person: OptionalPersonDep, intros: IntroductionsDep
) -> Response:
    if person is None:
        return _login(f"/introductions/{intro_id[:64]}")
    view = await anyio.to_thread.run_sync(intros.get, intro_id[:64], person.id)
    thread = []
    if view.introduction.status == "accepted":
        thread = await anyio.to_thread.run_sync(intros.messages, view.introduction.id, person.id)
    return _page(request, "introduction.html", view=view, thread=thread, max_chars=TEXT_MAX)


@router.post("/introductions/{intro_id}/{action}", dependencies=[FormCsrf])
async def act(
    request: Request,
    intro_id: str,
    action: str,
    person: OptionalPersonDep,
    intros: IntroductionsDep,
    body: TextField = "",
) -> Response:
    """accept, decline, withdraw, or messages (write in the thread); then back to the page."""
    intro_id = intro_id[:64]
    if person is None:
        return _login(f"/introductions/{intro_id}")
    back = f"/introductions/{quote(intro_id)}"
    if action == "messages":
        await anyio.to_thread.run_sync(intros.post_message, intro_id, person.id, body)
        return RedirectResponse(back + "#thread", status_code=303)
    verbs = {"accept": intros.accept, "decline": intros.decline, "withdraw": intros.withdraw}
    if action not in verbs:
        raise NotFoundError(f"no action '{action[:20]}' on an introduction")
    await anyio.to_thread.run_sync(verbs[action], intro_id, person.id)
    return RedirectResponse(back, status_code=303)
