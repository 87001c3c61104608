"""The evaluation reports' page for analysts: /analyst/reports.

The reports `matcher train evaluate` and `train fit` write in DATA_DIR/reports (the ones
`GET /v1/analyst/reports` lists), for a browser: their list (name, model version, when,
verdict), and each report's page as written. The key is given as on the analytics page
(api.deps.PageKeyDep): in the X-API-Key header, or typed into the page's form, which POSTs it
with the session's CSRF token; never put in a URL, a cookie or the page. Without a key the page
shows the form; a wrong key is 401, a key of a lower role 403.

A POST with the key answers the list; a POST with the key and a report's `name` (the list's
Open buttons, one form with a key field) answers that report's page. The name is checked as
`GET /v1/analyst/reports/{name}` checks it (reports.read_report): only a file directly in the
folder is served, anything else is 404."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import PageKeyDep, PrincipalDep, StateDep, StrictFormCsrf
from api.routes.account_pages import _page
from api.routes.reports import list_reports, read_report
from api.state import AppState
from api.web.analyst_key import analyst_refusal
from api.web.errors import error_page
from training.report import reports_dir

router = APIRouter(include_in_schema=False)
PAGE = "The evaluation reports page"
_NO_STORE = {"Cache-Control": "private, no-store"}  # a report as GET /v1/analyst/reports/{name}


async def _list(request: Request, state: AppState, key_in_header: bool) -> Response:
    folder = reports_dir(state.settings.data_dir)
    reports = await anyio.to_thread.run_sync(list_reports, folder)
    return _page(
        request, "reports.html", reports=reports, ask_key=False, key_in_header=key_in_header
    )


async def _open(request: Request, state: AppState, name: str) -> Response:
    body = await anyio.to_thread.run_sync(read_report, state.settings.data_dir, name, ".html")
    if body is None:
        missing = f"There is no evaluation report '{name}' (the list names them)."
        return error_page(request, 404, missing)
    return Response(body, media_type="text/html; charset=utf-8", headers=_NO_STORE)


@router.get("/analyst/reports", response_class=HTMLResponse)
async def reports_page(request: Request, state: StateDep, principal: PrincipalDep) -> Response:
    if not principal.authenticated:
        return _page(request, "reports.html", ask_key=True)
    refusal = analyst_refusal(request, principal, PAGE)  # a key in the X-API-Key header
    return refusal or await _list(request, state, key_in_header=True)


@router.post("/analyst/reports", response_class=HTMLResponse, dependencies=[StrictFormCsrf])
async def reports_with_key(
    request: Request,
    state: StateDep,
    who: PageKeyDep,
    principal: PrincipalDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    refusal = analyst_refusal(request, who, PAGE)
    if refusal is not None:
        return refusal
    if name.strip():
        return await _open(request, state, name.strip())
    return await _list(request, state, key_in_header=principal.authenticated)
