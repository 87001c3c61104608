"""FastAPI dependencies and their `Annotated` aliases: state, engine, caller, paging, If-Match."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Form, Header, Query, Request
from fastapi.security import APIKeyHeader

from api.keys import KeyRing
from api.problems import ApiProblem
from api.ratelimit import retry_after_header
from api.records import Records
from api.schemas import MAX_PAGE_SIZE
from api.security import ANONYMOUS, Principal, Role
from api.sessions import CSRF_FIELD, CSRF_HEADER, csrf_ok, has_session, session_token
from api.state import AppState
from matcher.accounts import Accounts, Claims, Person
from matcher.accounts.groups import Groups
from matcher.accounts.members import OrganisationAdmin
from matcher.engine import Engine
from matcher.followthrough.records import PartnershipRecords
from matcher.introductions import Introductions
from training.registry import load_published

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key: `pm_<prefix>_<secret>`"
)


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.api
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_engine(state: StateDep) -> Engine:
    if state.engine is None:
        detail = (
            "the model and index are still loading"
            if state.load_error is None
            else ("the matching engine failed to load; see /readyz")
        )
        raise ApiProblem(503, detail, headers={"Retry-After": "5"})
    # Follow the model registry: a `matcher models publish/rollback` takes effect on the next
    # request, without a restart (one stat of models/CURRENT when nothing changed); a newly
    # published embedding model is loaded beside the engine and served once ready (one stat
    # of models/EMBEDDING when nothing changed).
    state.embedding_switch.check()
    engine = state.engine
    load_published(engine, state.settings.data_dir)
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_engine_when_loaded(state: StateDep) -> Engine | None:
    """The engine, or None while it is still loading (a page keeps what the person typed and
    says so, rather than answer with an error page); 503 when it failed to load."""
    if state.engine is None and state.load_error is None:
        return None
    return await get_engine(state)


LoadingEngineDep = Annotated[Engine | None, Depends(get_engine_when_loaded)]


_T = TypeVar("_T")


def started(part: _T | None) -> _T:
    """A part of the service state, or 503 with Retry-After while the service is starting."""
    if part is None:
        raise ApiProblem(503, "the service is starting", headers={"Retry-After": "1"})
    return part


def _keys(state: AppState) -> KeyRing:
    return started(state.keys)


async def get_records(state: StateDep) -> Records:
    return started(state.records)


RecordsDep = Annotated[Records, Depends(get_records)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _rate_limit(state: AppState, key_id: str | None, request: Request) -> None:
    limits = state.limits
    if limits.shared:  # a database write: in a worker thread, not on the event loop
        wait = await anyio.to_thread.run_sync(limits.check, key_id, client_ip(request))
    else:
        wait = limits.check(key_id, client_ip(request))
    if wait > 0:
        raise ApiProblem(
            429,
            "rate limit exceeded; retry after the number of seconds in Retry-After",
            headers={"Retry-After": retry_after_header(wait)},
        )


async def get_principal(
    request: Request,
    state: StateDep,
    api_key: Annotated[str | None, Depends(_api_key_header)] = None,
) -> Principal:
    """The caller: anonymous without a key, 401 with a wrong key; then the rate limit."""
    if not api_key:
        await _rate_limit(state, None, request)
        return ANONYMOUS
    keys = _keys(state)
    principal = keys.cached(api_key)
    if principal is None:
        principal = await anyio.to_thread.run_sync(keys.authenticate, api_key)
    if principal is None:
        await _rate_limit(state, None, request)  # failed attempts spend the client IP's budget
        raise ApiProblem(
            401,
            "the X-API-Key header is not a valid key",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        )
    await _rate_limit(state, principal.key_id, request)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_page_key_principal(
    state: StateDep,
    principal: PrincipalDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
) -> Principal | None:
    """The caller of a page whose form holds an API key (the analyst pages): the key of the
    X-API-Key header, else the one typed into the form's `api_key` field (POSTed, never put in a
    URL, a cookie or the page); None without a valid key. A wrong key in the form was already
    counted against the client IP's rate limit (the request came without a header key)."""
    if principal.authenticated:
        return principal
    key = api_key.strip()
    if not key or state.keys is None:
        return None
    return await anyio.to_thread.run_sync(state.keys.authenticate, key)


PageKeyDep = Annotated[Principal | None, Depends(get_page_key_principal)]


def require(role: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def dependency(principal: PrincipalDep) -> Principal:
        if not principal.authenticated:
            raise ApiProblem(
                401,
                f"this operation needs an API key with role '{role.value}' or above",
                headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
            )
        if not principal.at_least(role):
            raise ApiProblem(403, f"this operation needs role '{role.value}' or above")
        return principal

    return dependency


ReaderDep = Annotated[Principal, Depends(require(Role.reader))]
EditorDep = Annotated[Principal, Depends(require(Role.editor))]
AnalystDep = Annotated[Principal, Depends(require(Role.analyst))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]


async def get_accounts(state: StateDep) -> Accounts:
    return started(state.accounts)


async def get_claims(state: StateDep) -> Claims:
    return started(state.claims)


async def get_partnership_records(state: StateDep) -> PartnershipRecords:
    return started(state.partnership_records)


async def get_introductions(state: StateDep) -> Introductions:
    return started(state.introductions)


async def get_organisation_admin(state: StateDep) -> OrganisationAdmin:
    return OrganisationAdmin(started(state.claims))


async def get_groups(state: StateDep, engine: EngineDep) -> Groups:
    return Groups(started(state.claims), engine, per_person=state.settings.groups_per_person)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
GroupsDep = Annotated[Groups, Depends(get_groups)]
OrganisationAdminDep = Annotated[OrganisationAdmin, Depends(get_organisation_admin)]
PartnershipRecordsDep = Annotated[PartnershipRecords, Depends(get_partnership_records)]
ClaimsDep = Annotated[Claims, Depends(get_claims)]
IntroductionsDep = Annotated[Introductions, Depends(get_introductions)]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_optional_person(
    request: Request, accounts: AccountsDep, principal: PrincipalDep
) -> Person | None:
    """The signed-in person of the session cookie, or None (after the rate limit). Kept on
    `request.state.person` too, so the page's templates know it without another lookup
    (api.web.render.context)."""
    token = session_token(request)
    if token is None:
        return None
    person = await anyio.to_thread.run_sync(accounts.session_person, token)
    if person is None:  # expired, logged out elsewhere, or the password was reset
        request.session.pop("sid", None)
        request.session.pop("email", None)
    request.state.person = person
    return person


OptionalPersonDep = Annotated[Person | None, Depends(get_optional_person)]


async def get_person(request: Request, person: OptionalPersonDep) -> Person:
    """A signed-in person (401 otherwise). Cookie-authenticated writes must send the session's
    CSRF token in X-CSRF-Token (403 otherwise): another site cannot read it."""
    if person is None:
        raise ApiProblem(401, "sign in first: this needs a person's session (log in at /login)")
    if request.method not in _SAFE_METHODS and not csrf_ok(
        request, request.headers.get(CSRF_HEADER)
    ):
        raise ApiProblem(403, f"missing or wrong {CSRF_HEADER} header for this session")
    return person


PersonDep = Annotated[Person, Depends(get_person)]


async def check_form_csrf(
    request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = ""
) -> None:
    """Page forms: a POST that comes with a session must carry that session's token."""
    if has_session(request) and not csrf_ok(request, csrf_token):
        raise ApiProblem(403, "the form has expired or did not come from this site; reload it")


async def require_form_csrf(
    request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = ""
) -> None:
    """Forms that start a session (sign up, log in, reset): the token is always required."""
    if not csrf_ok(request, csrf_token):
        raise ApiProblem(403, "the form has expired or did not come from this site; reload it")


FormCsrf = Depends(check_form_csrf)
StrictFormCsrf = Depends(require_form_csrf)


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def get_page(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}")
    ] = 50,
) -> PageParams:
    return PageParams(page, page_size)


PageDep = Annotated[PageParams, Depends(get_page)]


def parse_if_match(value: str | None) -> set[int] | None:
    """None when absent or `*`; else the versions it names (unparseable tags match nothing)."""
    if value is None or value.strip() == "*" or not value.strip():
        return None
    versions: set[int] = set()
    for tag in value.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tag = tag.strip('"')
        if tag.isdigit() and len(tag) < 10:
            versions.add(int(tag))
    if not versions:
        versions.add(-1)
    return versions


async def get_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag from a previous read; a stale one gives 412",
            examples=['"3"'],
        ),
    ] = None,
) -> set[int] | None:
    return parse_if_match(if_match)


IfMatchDep = Annotated[set[int] | None, Depends(get_if_match)]


def if_none_match_hits(value: str | None, version: int) -> bool:
    """True if an If-None-Match header names this version (weak tags compare equal) or is `*`."""
    if value is None or not value.strip():
        return False
    if value.strip() == "*":
        return True
    versions = parse_if_match(value)
    return versions is not None and version in versions


async def get_if_none_match(
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            description="The ETag of your cached copy; unchanged gives 304 with no body",
            examples=['"3"'],
        ),
    ] = None,
) -> str | None:
    return if_none_match


IfNoneMatchDep = Annotated[str | None, Depends(get_if_none_match)]


def etag(version: int) -> str:
    return f'"{version}"'
