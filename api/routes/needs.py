"""/v1/needs: create, read, list, delete community needs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import EditorDep, EngineDep, PageDep, PrincipalDep
from api.problems import ANONYMOUS_OK, ApiProblem, problem_responses
from api.schemas import ID_PATTERN, NeedCreate, NeedPage, NeedPublic
from api.views import need_view
from matcher.domain import Need
from matcher.errors import ConflictError, NotFoundError
from matcher.store.repository import Stored

router = APIRouter(prefix="/v1/needs", tags=["needs"])

NeedId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        examples=["need-0001"],
        description="Need id",
    ),
]


def find_need(engine: EngineDep, need_id: str) -> Stored:
    try:
        return engine.store.get_need(need_id)
    except NotFoundError:
        raise ApiProblem(404, f"need '{need_id}' not found") from None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NeedPublic,
    summary="Describe a community need",
    responses={
        201: {"headers": {"Location": {"schema": {"type": "string"}}}},
        **problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
    },
)
def create_need(
    body: NeedCreate, engine: EngineDep, principal: EditorDep, response: Response
) -> NeedPublic:
    need = Need.model_validate({**body.model_dump(exclude_none=True), "owner": principal.key_id})
    try:
        stored = engine.create_need(need)
    except ConflictError as exc:
        raise ApiProblem(409, str(exc)) from None
    response.headers["Location"] = f"/v1/needs/{need.id}"
    return need_view(stored)


@router.get(
    "",
    response_model=NeedPage,
    summary="List needs",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(401, 422, 429, 503),
)
def list_needs(
    engine: EngineDep,
    principal: PrincipalDep,
    page: PageDep,
    status_: Annotated[
        Literal["open", "closed"] | None, Query(alias="status", description="open or closed")
    ] = None,
    mine: Annotated[bool, Query(description="Only the needs your key created")] = False,
) -> NeedPage:
    if mine and not principal.authenticated:
        raise ApiProblem(401, "mine=true needs an API key")
    items, total = engine.store.list_needs(
        status=status_,
        owner=principal.key_id if mine else None,
        offset=page.offset,
        limit=page.page_size,
    )
    return NeedPage(
        items=[need_view(s) for s in items],
        total=total,
        page=page.page,
        page_size=page.page_size,
    )


@router.get(
    "/{need_id}",
    response_model=NeedPublic,
    summary="Read a need",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(401, 404, 422, 429, 503),
)
def get_need(need_id: NeedId, engine: EngineDep, principal: PrincipalDep) -> NeedPublic:
    return need_view(find_need(engine, need_id))


@router.delete(
    "/{need_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a need you created",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def delete_need(need_id: NeedId, engine: EngineDep, principal: EditorDep) -> Response:
    stored = find_need(engine, need_id)
    if not principal.can_edit(stored.record.owner):
        raise ApiProblem(404, f"need '{need_id}' not found")
    engine.delete_need(need_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
