"""The page's "Save this need" form: saves a shown recommendation's need and filters for the
API key given in the form (or the X-API-Key header), then says where its alerts go."""

from __future__ import annotations

from typing import Annotated

import anyio
import pydantic
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import EngineDep, FormCsrf, PrincipalDep, RecordsDep, StateDep
from api.routes.web import RESULT_LIMIT, _stored, _unknown_recommendation, stored_filters
from api.saved_schemas import SavedNeedCreate
from api.security import Principal
from api.web.errors import error_page
from api.web.render import context, templates
from matcher.alerts.service import save_need
from matcher.domain import Need

router = APIRouter(include_in_schema=False)


@router.post("/r/{rec_id}/save", dependencies=[FormCsrf])
async def save_from_page(
    request: Request,
    rec_id: str,
    engine: EngineDep,
    records: RecordsDep,
    principal: PrincipalDep,
    state: StateDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    notify_to: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    who: Principal | None = principal if principal.authenticated else None
    if who is None and api_key.strip() and state.keys is not None:
        who = await anyio.to_thread.run_sync(state.keys.authenticate, api_key.strip())
    if who is None:
        return error_page(request, 401, "Saving a need needs a valid API key.")
    try:
        address = SavedNeedCreate.model_validate(
            {"recommendation_id": "rec_0", "notify_to": notify_to.strip() or None}
        ).notify_to
    except pydantic.ValidationError:
        return error_page(request, 422, "The alert address must be an e-mail address or URL.")
    stored = await anyio.to_thread.run_sync(_stored, records, rec_id)
    if stored is None:
        return _unknown_recommendation(request, rec_id)
    doc = {k: v for k, v in stored.need.items() if k in Need.model_fields and k != "created_at"}
    owner = who.key_id

    def work() -> str:
        saved, _ = save_need(
            engine,
            Need.model_validate(doc),
            filters=stored_filters(stored),
            limit=RESULT_LIMIT,
            owner=owner,
            notify_to=address,
        )
        return saved.id

    saved_id = await state.compute(work)
    ctx = context(request, saved_id=saved_id, rec_id=rec_id, limit=RESULT_LIMIT, notify_to=address)
    return templates.TemplateResponse(request, "saved.html", ctx, status_code=201)
