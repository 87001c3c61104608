"""/v1/saved-needs and /v1/alerts: save a need, list and delete your saved needs, run one again
on today's data, read your alerts. A saved need belongs to the API key that saved it (as needs
do); another key gets 404 for it, as for anything it cannot see."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query, Response, status

from api.deps import EngineDep, PageDep, ReaderDep, RecordsDep, StateDep
from api.problems import ApiProblem, problem_responses
from api.records import Records
from api.routes.recommendations import json_response
from api.saved_schemas import (
    AlertPage,
    AlertPublic,
    SavedNeedCreate,
    SavedNeedCreated,
    SavedNeedPage,
    SavedNeedPublic,
    TopEntryPublic,
    WebhookSecretPublic,
    filters_public,
)
from api.schemas import NeedPublic, RecommendationPublic
from api.security import Principal
from api.views import recommendation_json
from matcher.alerts.service import rerun, save_need
from matcher.alerts.store import Alert, SavedNeed, SavedNeeds
from matcher.domain import Filters, Need
from matcher.errors import NotFoundError
from matcher.notify.base import shown_address
from matcher.notify.hosts import HostPolicy, check_address

router = APIRouter(tags=["saved needs"])

SAVED_ID = r"^sn_[0-9a-f]{1,60}$"
SavedId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=SAVED_ID, description="Saved need id"),
]


def saved_view(saved: SavedNeed, *, whole_address: bool = False) -> SavedNeedPublic:
    """A saved need as the API shows it: a webhook URL `notify_to` masked
    (`https://host/…`: its path or query is often its credential), except in the response
    that creates it (`whole_address`: its owner just typed it)."""
    need = NeedPublic.model_validate(saved.need.model_dump(mode="python", exclude={"owner"}))
    return SavedNeedPublic(
        id=saved.id,
        need=need,
        filters=filters_public(saved.filters),
        limit=saved.limit,
        notify_to=saved.notify_to if whole_address else shown_address(saved.notify_to),
        snapshot=[TopEntryPublic(**e.as_dict()) for e in saved.snapshot],
        pending=saved.pending,
        created_at=saved.created_at,
        last_alerted_at=saved.last_alerted_at,
        run_url=f"/v1/saved-needs/{saved.id}/run",
    )


def alert_view(alert: Alert) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        saved_need_id=alert.saved_need_id,
        day=alert.day,
        organisation_ids=alert.organisation_ids,
        results=[TopEntryPublic(**e.as_dict()) for e in alert.results],
        notification_key=alert.notification_key,
        created_at=alert.created_at,
    )


def own(engine: EngineDep, saved_id: str, principal: Principal) -> SavedNeed:
    """The caller's saved need; 404 when it is unknown or someone else's."""
    try:
        saved = SavedNeeds(engine.store.db).get(saved_id)
    except NotFoundError:
        saved = None
    if saved is None or not principal.owns(saved.owner):
        raise ApiProblem(404, f"saved need '{saved_id}' not found")
    return saved


def _stored_need(records: Records, recommendation_id: str) -> dict[str, Any]:
    """The need document of a recommendation (waits, bounded, for one another process may
    still be writing: call it off the event loop, and outside the compute slots)."""
    try:
        return records.get_recommendation(recommendation_id).need
    except NotFoundError:
        raise ApiProblem(404, f"recommendation '{recommendation_id}' not found") from None


def _need_and_filters(
    body: SavedNeedCreate, stored_need: dict[str, Any] | None
) -> tuple[Need, Filters | None, int]:
    if stored_need is not None:
        doc: dict[str, Any] = stored_need
        fields = {k: v for k, v in doc.items() if k in Need.model_fields and k != "created_at"}
        filters = doc.get("filters")
        return (
            Need.model_validate(fields),
            Filters.model_validate(filters) if isinstance(filters, dict) else None,
            body.limit,
        )
    data = body.model_dump(
        exclude={"limit", "filters", "recommendation_id", "notify_to"}, exclude_none=True
    )
    filters_in = body.filters.model_dump() if body.filters is not None else None
    return (
        Need.model_validate(data),
        Filters.model_validate(filters_in) if filters_in else None,
        body.limit,
    )


@router.post(
    "/v1/saved-needs",
    status_code=status.HTTP_201_CREATED,
    response_model=SavedNeedCreated,
    summary="Save a need: be alerted when a new or changed organisation enters its top results",
    responses={
        201: {"headers": {"Location": {"schema": {"type": "string"}}}},
        **problem_responses(400, 401, 403, 404, 413, 422, 429, 503),
    },
)
async def create_saved_need(
    body: SavedNeedCreate,
    engine: EngineDep,
    principal: ReaderDep,
    records: RecordsDep,
    state: StateDep,
    response: Response,
) -> SavedNeedCreated:
    # a webhook on the service's own networks is refused (422 naming notify_to)
    policy = HostPolicy.from_settings(state.settings)
    await anyio.to_thread.run_sync(check_address, body.notify_to, policy)
    stored_need = None
    if body.recommendation_id is not None:
        stored_need = await anyio.to_thread.run_sync(_stored_need, records, body.recommendation_id)

    def work() -> SavedNeed:
        need, filters, limit = _need_and_filters(body, stored_need)
        saved, _ = save_need(
            engine,
            need,
            filters=filters,
            limit=limit,
            owner=principal.key_id,
            notify_to=body.notify_to,
        )
        return saved

    saved = await state.compute(work)
    response.headers["Location"] = f"/v1/saved-needs/{saved.id}"
    response.headers["Cache-Control"] = "no-store"  # it may carry the signing secret
    return SavedNeedCreated(
        **saved_view(saved, whole_address=True).model_dump(),
        webhook_secret=saved.new_webhook_secret,
    )


@router.get(
    "/v1/saved-needs",
    response_model=SavedNeedPage,
    summary="Your saved needs",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_saved_needs(engine: EngineDep, principal: ReaderDep, page: PageDep) -> SavedNeedPage:
    assert principal.key_id is not None
    items, total = SavedNeeds(engine.store.db).owned(
        principal.key_id, offset=page.offset, limit=page.page_size
    )
    return SavedNeedPage(
        items=[saved_view(s) for s in items], total=total, page=page.page, page_size=page.page_size
    )


@router.get(
    "/v1/saved-needs/{saved_id}",
    response_model=SavedNeedPublic,
    summary="Read one of your saved needs",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def get_saved_need(saved_id: SavedId, engine: EngineDep, principal: ReaderDep) -> SavedNeedPublic:
    return saved_view(own(engine, saved_id, principal))


@router.delete(
    "/v1/saved-needs/{saved_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one of your saved needs (and its alerts)",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def delete_saved_need(saved_id: SavedId, engine: EngineDep, principal: ReaderDep) -> Response:
    own(engine, saved_id, principal)
    try:
        SavedNeeds(engine.store.db).delete(saved_id)
    except NotFoundError:
        raise ApiProblem(404, f"saved need '{saved_id}' not found") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/saved-needs/{saved_id}/webhook-secret",
    response_model=WebhookSecretPublic,
    summary="Replace the secret that signs the alerts POSTed to the saved need's webhook URL",
    description="The new secret is shown this once; the old one signs nothing from now on."
    " A saved need whose alerts go to an e-mail address has none (422).",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def rotate_webhook_secret(
    saved_id: SavedId, engine: EngineDep, principal: ReaderDep, response: Response
) -> WebhookSecretPublic:
    own(engine, saved_id, principal)
    try:
        saved = SavedNeeds(engine.store.db).rotate_secret(saved_id)
    except NotFoundError:
        raise ApiProblem(404, f"saved need '{saved_id}' not found") from None
    # an e-mail address: ValidationError, 422 naming notify_to
    assert saved.new_webhook_secret is not None
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretPublic(saved_need_id=saved.id, webhook_secret=saved.new_webhook_secret)


@router.post(
    "/v1/saved-needs/{saved_id}/run",
    response_model=RecommendationPublic,
    summary="Run a saved need again on today's data (its filters kept); a new permalink",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def run_saved_need(
    saved_id: SavedId,
    engine: EngineDep,
    principal: ReaderDep,
    records: RecordsDep,
    state: StateDep,
) -> Response:
    def work() -> Response:
        saved = own(engine, saved_id, principal)
        rec = rerun(engine, saved)
        rec_id = records.save_recommendation(
            rec, api_key_id=principal.key_id, filters=saved.filters
        )
        return json_response(recommendation_json(rec, rec_id))

    return await state.compute(work)


@router.get(
    "/v1/alerts",
    response_model=AlertPage,
    summary="Your alerts, newest first",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_alerts(
    engine: EngineDep,
    principal: ReaderDep,
    page: PageDep,
    saved_need_id: Annotated[
        str | None,
        Query(max_length=64, pattern=SAVED_ID, description="Only this saved need's alerts"),
    ] = None,
) -> AlertPage:
    assert principal.key_id is not None
    items, total = SavedNeeds(engine.store.db).alerts(
        principal.key_id, saved_need_id=saved_need_id, offset=page.offset, limit=page.page_size
    )
    return AlertPage(
        items=[alert_view(a) for a in items], total=total, page=page.page, page_size=page.page_size
    )
