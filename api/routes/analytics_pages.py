"""The analytics page for analysts: /analyst/analytics.

An analyst reaches it with an analyst (or admin) API key, as the page's other key-holding form
("Save this need") does: in the X-API-Key header (a program, or a browser extension that sets
it), or typed into the page's form, which POSTs it with the session's CSRF token (required: the
form always comes from this site). The key is never put in a URL, a cookie or the page. Without
a key the page shows the form; a wrong key is 401, a key of a lower role 403."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import PrincipalDep, StateDep, StrictFormCsrf
from api.routes.account_pages import _page
from api.routes.analytics import compute
from api.security import Principal, Role
from api.web.bar_charts import Bar, Stack, rate_chart, stacked_chart
from api.web.errors import error_page
from matcher.analytics import Analytics, GroupStats

router = APIRouter(include_in_schema=False)
OUTCOMES = (
    ("achieved", "#15803d"),
    ("partly achieved", "#ca8a04"),
    ("not achieved", "#b91c1c"),
)
MAX_BARS = 15
NO_REQUESTS = (
    '<p class="chart-empty">No introduction requests yet: their rates are drawn here once '
    "organisations ask each other for introductions.</p>"
)
NONE_CLOSED = (
    '<p class="chart-empty">No partnership record closed yet: outcomes are drawn here once '
    "a record is closed with one.</p>"
)


def _note(part: int, whole: int) -> str:
    return f"{part} of {whole}" if whole else ""


def charts(result: Analytics) -> dict[str, Markup]:
    pairs, causes = result.by_sector_pair[:MAX_BARS], result.by_cause[:MAX_BARS]

    def acceptance(groups: list[GroupStats]) -> list[Bar]:
        return [
            Bar(g.label, g.acceptance_rate, _note(g.accepted, g.responses))
            for g in groups
            if g.requests
        ]

    def response(groups: list[GroupStats]) -> list[Bar]:
        return [
            Bar(g.label, g.response_rate, _note(g.responses, g.responses + g.expired))
            for g in groups
            if g.requests
        ]

    def outcomes(groups: list[GroupStats]) -> list[Stack]:
        return [
            Stack(g.label, (g.achieved, g.partly_achieved, g.not_achieved))
            for g in groups
            if g.records_closed
        ]

    def rates(title: str, bars: list[Bar]) -> Markup:
        # a plot of nothing was a bare axis with no word (partnership records, no request)
        return Markup(rate_chart(title, bars)) if bars else Markup(NO_REQUESTS)

    def results(title: str, stacks: list[Stack]) -> Markup:
        return Markup(stacked_chart(title, OUTCOMES, stacks)) if stacks else Markup(NONE_CLOSED)

    return {
        "pair_acceptance": rates("Acceptance rate by sector pair", acceptance(pairs)),
        "pair_response": rates("Response rate by sector pair", response(pairs)),
        "pair_outcomes": results("Partnership outcomes by sector pair", outcomes(pairs)),
        "cause_acceptance": rates("Acceptance rate by cause", acceptance(causes)),
        "cause_response": rates("Response rate by cause", response(causes)),
        "cause_outcomes": results("Partnership outcomes by cause", outcomes(causes)),
    }


async def _report(request: Request, state: Any, who: Principal) -> Response:
    if not who.at_least(Role.analyst):
        return error_page(request, 403, "The analytics page needs an analyst or admin API key.")
    result = await compute(state)
    return _page(request, "analytics.html", result=result, charts=charts(result), ask_key=False)


@router.get("/analyst/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, state: StateDep, principal: PrincipalDep) -> Response:
    if principal.authenticated:  # a key in the X-API-Key header
        return await _report(request, state, principal)
    return _page(request, "analytics.html", ask_key=True)


@router.post("/analyst/analytics", response_class=HTMLResponse, dependencies=[StrictFormCsrf])
async def analytics_with_key(
    request: Request,
    state: StateDep,
    principal: PrincipalDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    who: Principal | None = principal if principal.authenticated else None
    if who is None and api_key.strip() and state.keys is not None:
        who = await anyio.to_thread.run_sync(state.keys.authenticate, api_key.strip())
    if who is None:
        return error_page(request, 401, "The analytics page needs a valid analyst API key.")
    return await _report(request, state, who)
