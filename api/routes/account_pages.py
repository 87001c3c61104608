"""The account pages: sign up, log in, log out, password reset, e-mail confirmation, and the
account page (organisations, claims, saved needs). Every form carries the session's CSRF
token."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import (
    AccountsDep,
    ClaimsDep,
    FormCsrf,
    OptionalPersonDep,
    PrincipalDep,
    StrictFormCsrf,
    client_ip,
)
from api.problems import engine_error_status
from api.sessions import csrf_token, session_token, sign_in
from api.web.names import organisation_names
from api.web.render import context, local_path, templates
from api.web.saved_list import person_saved_needs
from matcher.accounts import Claims, Person
from matcher.accounts.members import OrganisationAdmin
from matcher.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)

router = APIRouter(include_in_schema=False)

EmailField = Annotated[str, Form(max_length=254)]
PasswordField = Annotated[str, Form(max_length=1024)]
_NO_STORE = {"Cache-Control": "no-store"}


def _page(request: Request, name: str, status_code: int = 200, **extra: Any) -> Response:
    ctx = context(request, csrf=csrf_token(request), **extra)
    headers = dict(_NO_STORE)
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return templates.TemplateResponse(request, name, ctx, status_code, headers=headers)


def _local(path: str) -> str:
    """Only a local path is followed after log-in or sign-up (no open redirect)."""
    return path if local_path(path) else "/account"


NextQuery = Annotated[str, Query(alias="next", max_length=200)]
NextField = Annotated[str, Form(alias="next", max_length=200)]


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(
    request: Request, principal: PrincipalDep, next_path: NextQuery = "/account"
) -> Response:
    return _page(request, "signup.html", form={"next": _local(next_path)})


@router.post("/signup", dependencies=[StrictFormCsrf])
async def signup(
    request: Request,
    accounts: AccountsDep,
    principal: PrincipalDep,
    email: EmailField,
    password: PasswordField,
    name: Annotated[str, Form(max_length=200)] = "",
    next_path: NextField = "/account",
) -> Response:
    form = {"email": email, "name": name, "next": _local(next_path)}
    try:
        person = await anyio.to_thread.run_sync(lambda: accounts.sign_up(email, password, name))
    except ValidationError as exc:
        return _page(request, "signup.html", 422, form=form, errors=[str(exc)])
    except ConflictError as exc:
        return _page(request, "signup.html", 409, form=form, errors=[str(exc)])
    token = await anyio.to_thread.run_sync(accounts.start_session, person.id)
    sign_in(request, token, person.email)
    return RedirectResponse(form["next"], status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    principal: PrincipalDep,
    next_path: NextQuery = "/account",
) -> Response:
    return _page(request, "login.html", form={"next": _local(next_path)})


@router.post("/login", dependencies=[StrictFormCsrf])
async def login(
    request: Request,
    accounts: AccountsDep,
    principal: PrincipalDep,
    email: EmailField,
    password: PasswordField,
    next_path: NextField = "/account",
) -> Response:
    form = {"email": email, "next": _local(next_path)}
    ip = client_ip(request)
    try:
        person = await anyio.to_thread.run_sync(lambda: accounts.log_in(email, password, ip))
    except AuthenticationError as exc:
        return _page(request, "login.html", 401, form=form, errors=[str(exc)])
    except ThrottledError as exc:
        wait = max(1, math.ceil(exc.retry_after))
        return _page(request, "login.html", 429, form=form, errors=[str(exc)], retry_after=wait)
    token = await anyio.to_thread.run_sync(accounts.start_session, person.id)
    sign_in(request, token, person.email)
    return RedirectResponse(_local(next_path), status_code=303)


@router.post("/logout", dependencies=[FormCsrf])
async def logout(request: Request, accounts: AccountsDep, principal: PrincipalDep) -> Response:
    token = session_token(request)
    if token is not None:
        await anyio.to_thread.run_sync(accounts.end_session, token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/reset", response_class=HTMLResponse)
async def reset_page(request: Request, principal: PrincipalDep) -> Response:
    return _page(request, "reset.html", form={})


@router.post("/reset", dependencies=[StrictFormCsrf])
async def reset(
    request: Request, accounts: AccountsDep, principal: PrincipalDep, email: EmailField
) -> Response:
    await anyio.to_thread.run_sync(accounts.request_reset, email)
    return _page(request, "reset.html", form={"email": email}, sent=True)


@router.get("/reset/confirm", response_class=HTMLResponse)
async def reset_confirm_page(
    request: Request,
    principal: PrincipalDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return _page(request, "reset_confirm.html", token=token)


@router.post("/reset/confirm", dependencies=[StrictFormCsrf])
async def reset_confirm(
    request: Request,
    accounts: AccountsDep,
    principal: PrincipalDep,
    token: Annotated[str, Form(max_length=200)],
    password: PasswordField,
) -> Response:
    try:
        await anyio.to_thread.run_sync(accounts.reset_password, token, password)
    except ValidationError as exc:
        return _page(request, "reset_confirm.html", 422, token=token, errors=[str(exc)])
    except NotFoundError as exc:
        return _page(request, "reset_confirm.html", 404, token="", errors=[str(exc)])
    request.session.clear()
    return _page(request, "reset_confirm.html", done=True)


@router.get("/verify", response_class=HTMLResponse)
async def verify(
    request: Request,
    accounts: AccountsDep,
    principal: PrincipalDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    try:
        await anyio.to_thread.run_sync(accounts.verify_email, token)
    except NotFoundError as exc:
        return _page(request, "verified.html", 404, errors=[str(exc)])
    return _page(request, "verified.html")


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, person: OptionalPersonDep, claims: ClaimsDep) -> Response:
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    return _page(request, "account.html", **await _account(person, claims))


async def _account(person: Person, claims: Claims) -> dict[str, Any]:
    """The account page's content: memberships, own claims, saved needs, and for each
    organisation the person administers, its pending claims and members."""

    def load() -> dict[str, Any]:
        memberships = claims.memberships(person.id)
        admin = OrganisationAdmin(claims)
        managed = {
            m.organisation_id: (
                admin.pending(person, m.organisation_id),
                claims.members(m.organisation_id),
            )
            for m in memberships
            if m.role == "admin"
        }
        saved, saved_total = person_saved_needs(claims.db, person)
        own_claims = claims.of_person(person.id)
        names = organisation_names(claims.db, [*(c.organisation_id for c in own_claims), *managed])
        return {
            "names": names,
            "saved_needs": saved,
            "saved_total": saved_total,
            "person": person,
            "memberships": memberships,
            "claims": own_claims,
            "managed": managed,
        }

    return await anyio.to_thread.run_sync(load)


@router.post("/account/confirmation", dependencies=[FormCsrf])
async def resend_confirmation(
    request: Request, person: OptionalPersonDep, accounts: AccountsDep, claims: ClaimsDep
) -> Response:
    """A new confirmation link (the page had no way to ask for one, real data walk)."""
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    sent = await anyio.to_thread.run_sync(accounts.send_verification, person.id)
    ctx = await _account(person, claims)
    note = "A new confirmation link is on its way to " + person.email + "." if sent else None
    return _page(request, "account.html", notice=note, **ctx)


async def _claim(request: Request, org_id: str, person: Person | None, claims: Claims) -> Response:
    if person is None:
        return RedirectResponse(f"/login?next=/organisations/{quote(org_id)}", status_code=303)
    try:
        await anyio.to_thread.run_sync(claims.request, person, org_id)
    except (NotFoundError, ConflictError, ValidationError) as exc:
        status = engine_error_status(exc)
        ctx = await _account(person, claims)
        return _page(request, "account.html", status, errors=[str(exc)], **ctx)
    return RedirectResponse("/account", status_code=303)


@router.post("/organisations/{org_id}/claim", dependencies=[FormCsrf])
async def claim(
    request: Request, org_id: str, person: OptionalPersonDep, claims: ClaimsDep
) -> Response:
    """The "This is my organisation" button of a profile page."""
    return await _claim(request, org_id[:128], person, claims)


@router.post("/account/claim", dependencies=[FormCsrf])
async def claim_by_id(
    request: Request,
    person: OptionalPersonDep,
    claims: ClaimsDep,
    organisation_id: Annotated[str, Form(min_length=1, max_length=128)],
) -> Response:
    return await _claim(request, organisation_id.strip(), person, claims)


@router.post(
    "/account/organisations/{org_id}/claims/{claim_id}/{decision}", dependencies=[FormCsrf]
)
async def decide_claim(
    request: Request,
    org_id: str,
    claim_id: str,
    decision: str,
    person: OptionalPersonDep,
    claims: ClaimsDep,
) -> Response:
    """An organisation admin's Approve / Reject buttons on the account page."""
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    admin = OrganisationAdmin(claims)
    try:
        if decision not in ("approve", "reject"):
            raise NotFoundError(f"no action '{decision[:20]}'")
        await anyio.to_thread.run_sync(
            admin.decide, person, org_id[:128], claim_id[:64], decision == "approve"
        )
    except (NotFoundError, ConflictError, PermissionDeniedError) as exc:
        status = engine_error_status(exc)
        ctx = await _account(person, claims)
        return _page(request, "account.html", status, errors=[str(exc)], **ctx)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/organisations/{org_id}/members/{member_id}/remove", dependencies=[FormCsrf])
async def remove_member(
    request: Request, org_id: str, member_id: str, person: OptionalPersonDep, claims: ClaimsDep
) -> Response:
    """Remove a member (an admin), or leave (oneself)."""
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    try:
        await anyio.to_thread.run_sync(
            OrganisationAdmin(claims).remove, person, org_id[:128], member_id[:64]
        )
    except (NotFoundError, ConflictError, PermissionDeniedError) as exc:
        status = engine_error_status(exc)
        ctx = await _account(person, claims)
        return _page(request, "account.html", status, errors=[str(exc)], **ctx)
    return RedirectResponse("/account", status_code=303)
