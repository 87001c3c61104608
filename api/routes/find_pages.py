"""Finding an organisation by name (`/organisations?q=...`): a CSR manager looking for their
company's page, an organiser for their own group's (to claim it), a programme officer for their
agency's. Before this a profile was reached only from a result or a typed address (real data
walk, 2026-12-04)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import EngineDep, PrincipalDep
from api.web.render import context, templates
from matcher.store.repository import Stored

router = APIRouter(include_in_schema=False)

FOUND_LIMIT = 25
QUERY_MAX = 200


@router.get("/organisations", response_class=HTMLResponse)
async def find(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=QUERY_MAX)] = "",
) -> Response:
    typed = " ".join(q.split())  # NUL never reaches a route (api.nulguard)
    found: list[Stored] = []
    total = 0
    if typed:

        def lookup() -> tuple[list[Stored], int]:
            return engine.store.list_organisations(
                name=typed, published_only=not principal.privileged, limit=FOUND_LIMIT
            )

        found, total = await anyio.to_thread.run_sync(lookup)
    records = [s.record for s in found]
    low = typed.lower()
    holding = [low in r.name.lower() for r in records]
    called = [(r.short_name or "").lower() == low for r in records]
    ctx = context(
        request,
        q=typed,
        found=records,
        total=total,
        # no name holds it: found by the initials of their names ("FEMA")
        by_initials=bool(records) and not any(holding) and not any(called),
        # some found by their short name ("USDA") or initials beside the names holding it: the
        # count said "17 names hold 'CDC'" (real data walk)
        all_hold=all(holding),
    )
    return templates.TemplateResponse(request, "find.html", ctx)
