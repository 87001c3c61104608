"""Ranking routes: recommendations for a need, matches and opportunities for an organisation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.aligned_area import aligned_area, aligned_matches
from api.deps import EngineDep, ReaderDep, RecordsDep, StateDep
from api.problems import ApiProblem, FieldError, problem_responses
from api.routes.needs import NeedId, find_need
from api.routes.organisations import OrgId, visible
from api.schemas import (
    MAX_LIMIT,
    MatchList,
    NeedMatchPublic,
    OpportunityList,
    RecommendationPublic,
    RecommendationRequest,
)
from api.security import Principal
from api.views import match_view, recommendation_json
from matcher.domain import FOCUS_MAX, Filters, Need, Sector

router = APIRouter(tags=["recommendations"])

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"How many results, at most {MAX_LIMIT}")
]


def json_response(body: bytes) -> Response:
    """The body is already serialised from validated models (api.views.recommendation_json):
    FastAPI would build, validate and dump the response model again."""
    return Response(body, media_type="application/json")


def _check_requester(engine: EngineDep, requester_id: str | None, principal: Principal) -> None:
    if requester_id is None:
        return
    try:
        visible(engine, requester_id, principal)
    except ApiProblem:
        raise ApiProblem(
            404,
            f"requester_id: no organisation '{requester_id}' you can see",
            errors=[
                FieldError(
                    field="requester_id",
                    location="body",
                    message="unknown organisation",
                    type="value_error",
                )
            ],
        ) from None


@router.post(
    "/v1/recommendations",
    response_model=RecommendationPublic,
    summary="Recommend partners, a cross-sector coalition and the gaps for a need",
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 503),
)
async def recommend(
    body: RecommendationRequest,
    engine: EngineDep,
    principal: ReaderDep,
    records: RecordsDep,
    state: StateDep,
) -> Response:
    data = body.model_dump(exclude={"limit", "filters"}, exclude_none=True)
    need = Need.model_validate(data)
    q = await state.query_vector(need)

    def work() -> Response:
        _check_requester(engine, body.requester_id, principal)
        filters = None
        if body.filters is not None:
            filters = Filters.model_validate(body.filters.model_dump())
        rec = engine.recommend(need, filters=filters, limit=body.limit, query_vector=q)
        rec_id = records.save_recommendation(rec, api_key_id=principal.key_id, filters=filters)
        return json_response(recommendation_json(rec, rec_id))

    return await state.compute(work)


@router.get(
    "/v1/needs/{need_id}/recommendations",
    response_model=RecommendationPublic,
    summary="Recommend partners for a stored need",
    tags=["needs"],
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def recommend_for_need(
    need_id: NeedId,
    engine: EngineDep,
    principal: ReaderDep,
    records: RecordsDep,
    state: StateDep,
    limit: LimitQuery = 10,
) -> Response:
    def work() -> Response:
        need: Need = find_need(engine, need_id).record
        rec = engine.recommend(need, limit=limit)
        rec_id = records.save_recommendation(rec, api_key_id=principal.key_id)
        return json_response(recommendation_json(rec, rec_id, need_id=need.id))

    return await state.compute(work)


@router.get(
    "/v1/organisations/{org_id}/matches",
    response_model=MatchList,
    summary="Aligned organisations for an organisation, fit judged both ways",
    tags=["organisations"],
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def matches(
    org_id: OrgId,
    engine: EngineDep,
    principal: ReaderDep,
    sector: Annotated[
        list[Sector] | None, Query(description="Wanted sectors (repeatable)", max_length=5)
    ] = None,
    limit: LimitQuery = 10,
    focus: Annotated[
        str,
        Query(
            max_length=FOCUS_MAX,
            description="What you would support, in a few words ('financial literacy for "
            "young people'): ranked as a need placed at the organisation's home, as the "
            "aligned page does; without it, fit is judged both ways",
        ),
    ] = "",
    place: Annotated[
        str,
        Query(
            max_length=200,
            description="Where to look, when not around the organisation's home: a city and "
            "state, a county, a state or a ZIP code ('Portland, OR'); nearer partners rank "
            "higher. Unknown or ambiguous: 422 with `candidates`",
        ),
    ] = "",
    radius_km: Annotated[
        float | None,
        Query(
            gt=0,
            le=20_000,
            description="Only partners within this distance of the place (or of the "
            "organisation's home), and the statewide and national bodies that serve its state",
        ),
    ] = None,
) -> MatchList:
    org = visible(engine, org_id, principal).record
    wanted = [s.value for s in sector or []] or None
    focus = focus.strip()
    if focus and len(focus) < 3:
        raise ApiProblem(422, "focus: say in a few words what you would support")
    area = aligned_area(org, place, radius_km)  # PlaceError: 422 naming the candidates
    found = aligned_matches(engine, org, area, focus=focus, sectors=wanted, limit=limit)
    return MatchList(
        organisation_id=org_id,
        model_version=engine.model_version,
        index_generation=engine.index_generation,
        results=[match_view(m) for m in found],
    )


@router.get(
    "/v1/organisations/{org_id}/opportunities",
    response_model=OpportunityList,
    summary="Open needs this organisation could help with",
    tags=["organisations"],
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def opportunities(
    org_id: OrgId,
    engine: EngineDep,
    principal: ReaderDep,
    limit: LimitQuery = 10,
    kind: Annotated[
        Literal["need", "programme"] | None,
        Query(
            description="Only groups' needs, or only public programmes (each item says its "
            "kind); both by default"
        ),
    ] = None,
) -> OpportunityList:
    visible(engine, org_id, principal)
    found = engine.needs_for(org_id, limit=limit, kind=kind)
    return OpportunityList(
        organisation_id=org_id,
        model_version=engine.model_version,
        index_generation=engine.index_generation,
        results=[NeedMatchPublic.model_validate(m.model_dump()) for m in found],
    )
