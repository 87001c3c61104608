"""/v1/me/organisations: a signed-in person adds their own group (a new profile, the person its
first admin) and the admins of an organisation change its profile (matcher.accounts.groups)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Response, status

from api.account_schemas import GroupCreate
from api.deps import GroupsDep, IfMatchDep, PersonDep, PrincipalDep, etag
from api.problems import ApiProblem, problem_responses
from api.schemas import ID_PATTERN, OrganisationOut, OrganisationUpdate
from api.views import organisation_view
from matcher.domain import Organisation
from matcher.errors import ConflictError

router = APIRouter(prefix="/v1/me/organisations", tags=["accounts"])

OrgId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=ID_PATTERN, examples=["org_3f2a9c1b7d4e"])
]
_ETAG_HEADER = {
    "ETag": {"description": "The version; send it back in If-Match", "schema": {"type": "string"}}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    summary="Add your group: a new published profile, you its first admin (confirmed e-mail)",
    responses={
        201: {"headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}}},
        **problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
    },
)
async def register_group(
    body: GroupCreate,
    person: PersonDep,
    groups: GroupsDep,
    principal: PrincipalDep,
    response: Response,
) -> OrganisationOut:
    org = Organisation.model_validate(body.model_dump(exclude_none=True))
    stored = await anyio.to_thread.run_sync(groups.register, person, org)
    response.headers["ETag"] = etag(stored.version)
    response.headers["Location"] = f"/v1/organisations/{org.id}"
    return organisation_view(stored, principal, admin=True)


@router.patch(
    "/{org_id}",
    response_model=OrganisationOut,
    summary="Change the profile of an organisation you are an admin of (If-Match optional)",
    responses={
        200: {"headers": _ETAG_HEADER},
        **problem_responses(400, 401, 403, 404, 412, 413, 422, 429, 503),
    },
)
async def update_group(
    org_id: OrgId,
    body: OrganisationUpdate,
    person: PersonDep,
    groups: GroupsDep,
    principal: PrincipalDep,
    if_match: IfMatchDep,
    response: Response,
) -> OrganisationOut:
    expected = None
    if if_match is not None:
        if len(if_match) != 1:
            raise ApiProblem(412, "send one version in If-Match")
        expected = next(iter(if_match))
    try:
        stored = await anyio.to_thread.run_sync(
            lambda: groups.update(person, org_id, body.changes(), expected_version=expected)
        )
    except ConflictError as exc:
        if expected is None:
            raise
        raise ApiProblem(412, str(exc)) from None
    response.headers["ETag"] = etag(stored.version)
    return organisation_view(stored, principal, admin=True)
