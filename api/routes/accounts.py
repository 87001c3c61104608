"""/v1/people, /v1/session, /v1/me, password resets and e-mail verification: accounts for
people, signed in by a session cookie. Programs keep using API keys (X-API-Key)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Depends, Request, Response, status

from api.account_schemas import (
    Accepted,
    ClaimOut,
    LogIn,
    MembershipOut,
    PersonOut,
    ResetConfirm,
    ResetRequest,
    SignUp,
    TokenConfirm,
)
from api.deps import AccountsDep, ClaimsDep, PersonDep, PrincipalDep, client_ip
from api.problems import ANONYMOUS_OK, problem_responses
from api.sessions import csrf_token, session_token, sign_in
from matcher.accounts import Claim, Claims, Person


def _no_store(response: Response) -> None:
    """Account data and CSRF tokens never sit in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/v1", tags=["accounts"], dependencies=[Depends(_no_store)])


def claim_out(claim: Claim) -> ClaimOut:
    return ClaimOut.model_validate(claim, from_attributes=True)


def person_out(person: Person, claims: Claims, csrf: str | None) -> PersonOut:
    memberships = [
        MembershipOut.model_validate(m, from_attributes=True) for m in claims.memberships(person.id)
    ]
    return PersonOut(
        id=person.id,
        email=person.email,
        name=person.name,
        email_verified=person.email_verified,
        created_at=person.created_at,
        memberships=memberships,
        claims=[claim_out(c) for c in claims.of_person(person.id)],
        csrf_token=csrf,
    )


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonOut,
    summary="Sign up (and sign in): an e-mail confirmation link is queued",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(400, 401, 409, 413, 415, 422, 429, 503),
)
async def sign_up(
    body: SignUp,
    request: Request,
    accounts: AccountsDep,
    claims: ClaimsDep,
    principal: PrincipalDep,
) -> PersonOut:
    person = await anyio.to_thread.run_sync(
        lambda: accounts.sign_up(body.email, body.password, body.name)
    )
    token = await anyio.to_thread.run_sync(accounts.start_session, person.id)
    csrf = sign_in(request, token, person.email)
    return await anyio.to_thread.run_sync(person_out, person, claims, csrf)


@router.post(
    "/session",
    response_model=PersonOut,
    summary="Log in: sets the session cookie; 5 failures in 15 minutes give 429",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(400, 401, 413, 415, 422, 429, 503),
)
async def log_in(
    body: LogIn,
    request: Request,
    accounts: AccountsDep,
    claims: ClaimsDep,
    principal: PrincipalDep,
) -> PersonOut:
    ip = client_ip(request)
    person = await anyio.to_thread.run_sync(lambda: accounts.log_in(body.email, body.password, ip))
    token = await anyio.to_thread.run_sync(accounts.start_session, person.id)
    csrf = sign_in(request, token, person.email)
    return await anyio.to_thread.run_sync(person_out, person, claims, csrf)


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out (ends this session on the server too)",
    responses=problem_responses(401, 403, 429, 503),
)
async def log_out(request: Request, person: PersonDep, accounts: AccountsDep) -> Response:
    token = session_token(request)
    if token is not None:
        await anyio.to_thread.run_sync(accounts.end_session, token)
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me",
    response_model=PersonOut,
    summary="The signed-in person, their organisations and claims",
    responses=problem_responses(401, 429, 503),
)
async def me(request: Request, person: PersonDep, claims: ClaimsDep) -> PersonOut:
    return await anyio.to_thread.run_sync(person_out, person, claims, csrf_token(request))


@router.post(
    "/me/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Send the e-mail confirmation link again",
    responses=problem_responses(401, 403, 429, 503),
)
async def resend_verification(person: PersonDep, accounts: AccountsDep) -> Accepted:
    queued = await anyio.to_thread.run_sync(accounts.send_verification, person.id)
    detail = "a confirmation link is on its way" if queued else "the e-mail is already confirmed"
    return Accepted(detail=detail)


@router.post(
    "/email-verifications",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm an e-mail address with the token of its link",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(400, 401, 404, 413, 415, 422, 429, 503),
)
async def verify_email(
    body: TokenConfirm, accounts: AccountsDep, claims: ClaimsDep, principal: PrincipalDep
) -> Response:
    await anyio.to_thread.run_sync(accounts.verify_email, body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-resets",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Ask for a password reset link (the same answer whether the account exists)",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(400, 401, 413, 415, 422, 429, 503),
)
async def request_reset(
    body: ResetRequest, accounts: AccountsDep, principal: PrincipalDep
) -> Accepted:
    await anyio.to_thread.run_sync(accounts.request_reset, body.email)
    return Accepted(detail="if an account exists for that e-mail, a reset link is on its way")


@router.post(
    "/password-resets/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the token of a reset link (once, within 1 hour)",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(400, 401, 404, 413, 415, 422, 429, 503),
)
async def confirm_reset(
    body: ResetConfirm, accounts: AccountsDep, principal: PrincipalDep
) -> Response:
    await anyio.to_thread.run_sync(accounts.reset_password, body.token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
