"""/v1/places: suggestions for a place field (offline gazetteer; no key needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import PrincipalDep
from api.problems import ANONYMOUS_OK, problem_responses
from api.schemas import PlaceSuggestion
from matcher import places

router = APIRouter(prefix="/v1/places", tags=["places"])


@router.get(
    "",
    response_model=list[PlaceSuggestion],
    summary="Places whose name starts with q: states, US cities, counties, ZIP codes, countries",
    openapi_extra=ANONYMOUS_OK,
    responses=problem_responses(401, 422, 429),
)
async def suggest_places(
    principal: PrincipalDep,
    q: Annotated[
        str, Query(min_length=1, max_length=100, pattern=r"^[^\x00]*\S[^\x00]*$", examples=["Prov"])
    ],
    limit: Annotated[int, Query(ge=1, le=50, description="At most 50")] = 10,
) -> list[PlaceSuggestion]:
    found = await run_in_threadpool(places.suggest, q, limit)  # the first call loads (~1-2 s)
    return [PlaceSuggestion.model_validate(s.as_dict()) for s in found]
