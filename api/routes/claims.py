"""Organisation claims and members: a signed-in person claims a profile; the claim is approved
at once when their confirmed e-mail is at the organisation's website domain, else an admin
(API key) approves or rejects it. Members (and analyst or admin keys) list the members."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict

from api.account_schemas import ClaimOut, MemberOut
from api.deps import (
    AdminDep,
    ClaimsDep,
    OptionalPersonDep,
    OrganisationAdminDep,
    PersonDep,
    PrincipalDep,
)
from api.problems import ApiProblem, problem_responses
from api.routes.accounts import claim_out
from api.schemas import ID_PATTERN

router = APIRouter(prefix="/v1", tags=["accounts"])

OrgId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=ID_PATTERN, examples=["org-00001"])
]
ClaimId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, examples=["claim_1a2b3c4d5e6f"])
]


@router.post(
    "/organisations/{org_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimOut,
    summary="Claim an organisation's profile for the signed-in person",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def create_claim(org_id: OrgId, person: PersonDep, claims: ClaimsDep) -> ClaimOut:
    claim = await anyio.to_thread.run_sync(claims.request, person, org_id)
    return claim_out(claim)


@router.get(
    "/organisations/{org_id}/members",
    response_model=list[MemberOut],
    summary="The people of a claimed organisation (its members, analysts and admins only)",
    responses=problem_responses(401, 403, 422, 429, 503),
)
async def list_members(
    org_id: OrgId, principal: PrincipalDep, person: OptionalPersonDep, claims: ClaimsDep
) -> list[MemberOut]:
    if not principal.privileged:
        if person is None:
            raise ApiProblem(401, "sign in as a member of this organisation, or use an API key")
        role = await anyio.to_thread.run_sync(claims.role, person.id, org_id)
        if role is None:
            raise ApiProblem(403, "only the organisation's members see its members")
    members = await anyio.to_thread.run_sync(claims.members, org_id)
    return [MemberOut.model_validate(m, from_attributes=True) for m in members]


@router.get(
    "/claims",
    response_model=list[ClaimOut],
    summary="List claims, e.g. the pending ones (admins)",
    responses=problem_responses(401, 403, 422, 429, 503),
)
async def list_claims(
    principal: AdminDep,
    claims: ClaimsDep,
    claim_status: Annotated[
        Literal["pending", "approved", "rejected", "withdrawn"] | None,
        Query(alias="status", description="Only claims in this state"),
    ] = None,
) -> list[ClaimOut]:
    found = await anyio.to_thread.run_sync(claims.list_claims, claim_status)
    return [claim_out(c) for c in found]


@router.post(
    "/claims/{claim_id}/approve",
    response_model=ClaimOut,
    summary="Approve a pending claim: the person becomes a member (admins)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def approve_claim(claim_id: ClaimId, principal: AdminDep, claims: ClaimsDep) -> ClaimOut:
    claim = await anyio.to_thread.run_sync(claims.approve, claim_id, principal.key_id)
    return claim_out(claim)


@router.post(
    "/claims/{claim_id}/reject",
    response_model=ClaimOut,
    summary="Reject a pending claim (admins)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def reject_claim(claim_id: ClaimId, principal: AdminDep, claims: ClaimsDep) -> ClaimOut:
    claim = await anyio.to_thread.run_sync(claims.reject, claim_id, principal.key_id)
    return claim_out(claim)


@router.delete(
    "/claims/{claim_id}",
    response_model=ClaimOut,
    summary="Withdraw your own pending claim",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def withdraw_claim(claim_id: ClaimId, person: PersonDep, claims: ClaimsDep) -> ClaimOut:
    claim = await anyio.to_thread.run_sync(claims.withdraw, claim_id, person)
    return claim_out(claim)


# ---- an organisation's admins manage its people (matcher.accounts.members) -----------------


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["member", "admin"]


PersonId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, examples=["person_0a1b2c3d4e5f"])
]


@router.get(
    "/organisations/{org_id}/claims",
    response_model=list[ClaimOut],
    summary="The pending claims on your organisation (its admins)",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def pending_claims(
    org_id: OrgId, person: PersonDep, admin: OrganisationAdminDep
) -> list[ClaimOut]:
    found = await anyio.to_thread.run_sync(admin.pending, person, org_id)
    return [claim_out(c) for c in found]


@router.post(
    "/organisations/{org_id}/claims/{claim_id}/{decision}",
    response_model=ClaimOut,
    summary="Approve or reject a pending claim on your organisation (its admins)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def decide_claim(
    org_id: OrgId,
    claim_id: ClaimId,
    decision: Literal["approve", "reject"],
    person: PersonDep,
    admin: OrganisationAdminDep,
) -> ClaimOut:
    claim = await anyio.to_thread.run_sync(
        admin.decide, person, org_id, claim_id, decision == "approve"
    )
    return claim_out(claim)


@router.patch(
    "/organisations/{org_id}/members/{person_id}",
    response_model=RoleChange,
    summary="Change a member's role (its admins; the last admin cannot be demoted)",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503),
)
async def change_role(
    org_id: OrgId,
    person_id: PersonId,
    body: RoleChange,
    person: PersonDep,
    admin: OrganisationAdminDep,
) -> RoleChange:
    role = await anyio.to_thread.run_sync(admin.set_role, person, org_id, person_id, body.role)
    return RoleChange(role=role)  # type: ignore[arg-type]


@router.delete(
    "/organisations/{org_id}/members/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (its admins), or leave (yourself)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
async def remove_member(
    org_id: OrgId, person_id: PersonId, person: PersonDep, admin: OrganisationAdminDep
) -> Response:
    await anyio.to_thread.run_sync(admin.remove, person, org_id, person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
