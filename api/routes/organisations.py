"""/v1/organisations: create, read, list, partial update, delete (ETag / If-Match guarded)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import (
    EditorDep,
    EngineDep,
    IfMatchDep,
    IfNoneMatchDep,
    PageDep,
    PrincipalDep,
    etag,
    if_none_match_hits,
)
from api.problems import ANONYMOUS_OK, ApiProblem, problem_responses
from api.schemas import (
    ID_PATTERN,
    NO_NUL,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationUpdate,
)
from api.security import Principal
from api.views import organisation_view
from matcher.domain import Organisation, Sector
from matcher.errors import ConflictError, NotFoundError
from matcher.store.repository import Stored

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])

OrgId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        examples=["org-00001"],
        description="Organisation id",
    ),
]
_ETAG_HEADER = {
    "ETag": {"description": "The version; send it back in If-Match", "schema": {"type": "string"}}
}


def visible(engine: EngineDep, org_id: str, principal: Principal) -> Stored:
    """The stored organisation if this caller may see it; 404 otherwise (no existence leak)."""
    try:
        stored = engine.store.get_organisation(org_id)
    except NotFoundError:
        raise ApiProblem(404, f"organisation '{org_id}' not found") from None
    org: Organisation = stored.record
    if not principal.can_see(org.owner, org.published):
        raise ApiProblem(404, f"organisation '{org_id}' not found")
    return stored


def editable(engine: EngineDep, org_id: str, principal: Principal) -> Stored:
    stored = visible(engine, org_id, principal)
    if not principal.can_edit(stored.record.owner):
        raise ApiProblem(404, f"organisation '{org_id}' not found")
    return stored


def expected_version(stored: Stored, if_match: set[int] | None) -> int | None:
    if if_match is None:
        return None
    if stored.version not in if_match:
        raise ApiProblem(
            412, f'If-Match does not match the current ETag "{stored.version}"; re-read it'
        )
    return stored.version


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    summary="Create an organisation you own",
    responses={
        201: {"headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}}},
        **problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
    },
)
def create_organisation(
    body: OrganisationCreate, engine: EngineDep, principal: EditorDep, response: Response
) -> OrganisationOut:
    data = body.model_dump(exclude_none=True)
    org = Organisation.model_validate({**data, "owner": principal.key_id})
    try:
        stored = engine.create_organisation(org)
    except ConflictError as exc:
        raise ApiProblem(409, str(exc)) from None
    response.headers["ETag"] = etag(stored.version)
    response.headers["Location"] = f"/v1/organisations/{org.id}"
    return organisation_view(stored, principal)


@router.get(
    "",
    response_model=OrganisationPage,
    summary="List organisations (published ones, plus your own with mine=true)",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(401, 422, 429, 503),
)
def list_organisations(
    engine: EngineDep,
    principal: PrincipalDep,
    page: PageDep,
    sector: Annotated[Sector | None, Query(description="Only this sector")] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2,3}$", examples=["US"])] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL)] = None,
    mine: Annotated[bool, Query(description="Only the organisations your key owns")] = False,
    name: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=NO_NUL,
            description="Only names holding these words in this order, any case; shortest first",
            examples=["food bank"],
        ),
    ] = None,
) -> OrganisationPage:
    owner = None
    published_only = not principal.privileged
    if mine:
        if not principal.authenticated:
            raise ApiProblem(401, "mine=true needs an API key")
        owner, published_only = principal.key_id, False
    items, total = engine.store.list_organisations(
        sector=sector.value if sector else None,
        country=country,
        region=region,
        owner=owner,
        published_only=published_only,
        offset=page.offset,
        limit=page.page_size,
        name=name,
    )
    return OrganisationPage(
        items=[organisation_view(s, principal) for s in items],
        total=total,
        page=page.page,
        page_size=page.page_size,
    )


@router.get(
    "/{org_id}",
    response_model=OrganisationOut,
    summary="Read a profile (contact details only for its owner, analysts and admins)",
    openapi_extra=ANONYMOUS_OK,
    responses={
        200: {"headers": _ETAG_HEADER},
        304: {"description": "Not modified: If-None-Match names the current ETag"},
        **problem_responses(401, 404, 422, 429, 503),
    },
)
def get_organisation(
    org_id: OrgId,
    engine: EngineDep,
    principal: PrincipalDep,
    response: Response,
    if_none_match: IfNoneMatchDep,
) -> OrganisationOut | Response:
    stored = visible(engine, org_id, principal)
    # The body depends on who asks (contact details), so caches must key on the API key too.
    headers = {"ETag": etag(stored.version), "Vary": "X-API-Key"}
    if if_none_match_hits(if_none_match, stored.version):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    return organisation_view(stored, principal, engine.offers_counted(org_id))


@router.patch(
    "/{org_id}",
    response_model=OrganisationOut,
    summary="Partly update an organisation you own (If-Match guards concurrent edits)",
    responses={
        200: {"headers": _ETAG_HEADER},
        **problem_responses(400, 401, 403, 404, 412, 413, 422, 429, 503),
    },
)
def update_organisation(
    org_id: OrgId,
    body: OrganisationUpdate,
    engine: EngineDep,
    principal: EditorDep,
    if_match: IfMatchDep,
    response: Response,
) -> OrganisationOut:
    stored = editable(engine, org_id, principal)
    expected = expected_version(stored, if_match)
    try:
        updated = engine.update_organisation(org_id, body.changes(), expected_version=expected)
    except ConflictError as exc:
        raise ApiProblem(412, str(exc)) from None
    response.headers["ETag"] = etag(updated.version)
    return organisation_view(updated, principal)


@router.delete(
    "/{org_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an organisation you own",
    responses=problem_responses(401, 403, 404, 412, 422, 429, 503),
)
def delete_organisation(
    org_id: OrgId, engine: EngineDep, principal: EditorDep, if_match: IfMatchDep
) -> Response:
    stored = editable(engine, org_id, principal)
    expected = expected_version(stored, if_match)
    try:
        engine.delete_organisation(org_id, expected_version=expected)
    except ConflictError as exc:
        raise ApiProblem(412, str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
