"""The analytics page for analysts: /analyst/analytics.

An analyst reaches it with an analyst (or admin) API key, as the page's other key-holding form
("Save this need") does: in the X-API-Key header (a program, or a browser extension that sets
it), or typed into the page's form, which POSTs it with the session's CSRF token (required: the
form always comes from this site). The key is never put in a URL, a cookie or the page. Without
a key the page shows the form; a wrong key is 401, a key of a lower role 403. The evaluation
reports' page (report_pages.py) takes the key the same way (api.deps.PageKeyDep,
api.web.analyst_key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import PageKeyDep, PrincipalDep, StateDep, StrictFormCsrf
from api.routes.account_pages import _page
from api.routes.analytics import compute
from api.security import Principal
from api.web.analyst_key import analyst_refusal
from api.web.bar_charts import Bar, Stack, rate_chart, stacked_chart
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


async def _report(request: Request, state: Any, who: Principal | None) -> Response:
    refusal = analyst_refusal(request, who, "The analytics page")
    if refusal is not None:
        return refusal
    result = await compute(state)
    return _page(request, "analytics.html", result=result, charts=charts(result), ask_key=False)


@router.get("/analyst/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, state: StateDep, principal: PrincipalDep) -> Response:
    if principal.authenticated:  # a key in the X-API-Key header
        return await _report(request, state, principal)
    return _page(request, "analytics.html", ask_key=True)


@router.post("/analyst/analytics", response_class=HTMLResponse, dependencies=[StrictFormCsrf])
async def analytics_with_key(request: Request, state: StateDep, who: PageKeyDep) -> Response:
    return await _report(request, state, who)
