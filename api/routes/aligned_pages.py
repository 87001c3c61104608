"""An organisation's aligned partners as a page (`/organisations/{id}/aligned`): for a CSR
manager looking for nonprofits near the company's home to support, a nonprofit looking for a
company or an agency to approach. Fit is judged both ways (`Engine.match`: what each offers
the other, the profiles' meaning, the distance), one sector at a time, nearest and closest
first. The API has the same as GET /v1/organisations/{id}/matches (a reader key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import EngineDep, PrincipalDep, StateDep
from api.web.errors import error_page
from api.web.render import context, templates
from matcher.domain import SECTORS, Sector
from matcher.errors import NotFoundError

router = APIRouter(include_in_schema=False)

ALIGNED_LIMIT = 15
ALL = "all"


def default_sector(own: str) -> str:
    """What an organisation of this sector most often looks for: a company or an agency,
    nonprofits; a nonprofit or a community group, companies."""
    return Sector.business.value if own in ("nonprofit", "community") else Sector.nonprofit.value


@router.get("/organisations/{org_id}/aligned", response_class=HTMLResponse)
async def aligned(
    request: Request,
    org_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    state: StateDep,
    sector: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    org_id = org_id[:128]
    try:
        stored = engine.store.get_organisation(org_id)
    except NotFoundError:
        stored = None
    if stored is None or not principal.can_see(stored.record.owner, stored.record.published):
        return error_page(request, 404, f"No organisation '{org_id}'.")
    org = stored.record
    if sector is not None and sector != ALL and sector not in SECTORS:
        choices = ", ".join((*SECTORS, ALL))
        return error_page(request, 422, f"sector: '{sector}' is not one of {choices}.")
    chosen = sector or default_sector(org.sector.value)
    wanted = None if chosen == ALL else [chosen]
    try:
        matches = await state.compute(
            lambda: engine.match(org_id, sectors=wanted, limit=ALIGNED_LIMIT)
        )
    except NotFoundError:  # stored but not indexed yet (written since the last build)
        matches = None
    ctx = context(request, org=org, matches=matches, chosen=chosen, choices=(*SECTORS, ALL))
    return templates.TemplateResponse(request, "aligned.html", ctx)
