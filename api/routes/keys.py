"""/v1/keys: API key management (admins only). The secret is shown once, at creation."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Response, status

from api.deps import AdminDep, StateDep, started
from api.keys import KeyInfo, KeyRing
from api.problems import problem_responses
from api.schemas import KeyCreate, KeyCreated, KeyPublic


def _no_store(response: Response) -> None:
    """Key material (secrets, prefixes) must never sit in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[Depends(_no_store)])

KeyId = Annotated[str, Path(min_length=1, max_length=64, examples=["key_5b1e0c2d9a8f"])]


def _ring(state: StateDep) -> KeyRing:
    return started(state.keys)


def _public(info: KeyInfo) -> KeyPublic:
    return KeyPublic(
        id=info.id,
        name=info.name,
        role=info.role,
        prefix=info.prefix,
        created_at=info.created_at,
        revoked=info.revoked,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    summary="Create an API key",
    responses=problem_responses(400, 401, 403, 413, 422, 429, 503),
)
async def create_key(body: KeyCreate, state: StateDep, principal: AdminDep) -> KeyCreated:
    key, info = await anyio.to_thread.run_sync(_ring(state).create, body.name, body.role)
    return KeyCreated(**_public(info).model_dump(), key=key)


@router.get(
    "",
    response_model=list[KeyPublic],
    summary="List API keys (never their secrets)",
    responses=problem_responses(401, 403, 429, 503),
)
async def list_keys(state: StateDep, principal: AdminDep) -> list[KeyPublic]:
    infos = await anyio.to_thread.run_sync(_ring(state).list)
    return [_public(i) for i in infos]


@router.delete(
    "/{key_id}",
    response_model=KeyPublic,
    summary="Revoke an API key",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def revoke_key(key_id: KeyId, state: StateDep, principal: AdminDep) -> KeyPublic:
    info = await anyio.to_thread.run_sync(_ring(state).revoke, key_id)
    return _public(info)
