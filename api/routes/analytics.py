"""Introduction and partnership analytics for analysts (role analyst or admin):
`GET /v1/analyst/analytics` answers acceptance and response rates, time to answer and
partnership outcomes by sector pair and by cause (see matcher.analytics for the definitions).
The page at /analyst/analytics draws the same figures (api/routes/analytics_pages.py)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from api.deps import AnalystDep, StateDep, started
from api.problems import problem_responses
from api.state import AppState
from matcher.analytics import Analytics, analytics

router = APIRouter()


def cause_titles() -> dict[str, str]:
    """Titles of the NTEE major groups (the IRS importer's cause codes count under them)."""
    from training.importers.irs import NTEE_MAJOR

    return dict(NTEE_MAJOR)


async def compute(state: AppState) -> Analytics:
    db = started(state.db)
    least = state.settings.analytics_min_group
    return await anyio.to_thread.run_sync(
        lambda: analytics(db, cause_titles=cause_titles(), min_group=least)
    )


@router.get(
    "/v1/analyst/analytics",
    tags=["analyst"],
    response_model=Analytics,
    summary="Introduction response and acceptance rates and partnership outcomes, by sector "
    "pair and by cause",
    responses=problem_responses(401, 403, 429),
)
async def get_analytics(state: StateDep, principal: AnalystDep) -> Analytics:
    """Per sector pair (asking sector -> asked sector) and per cause of the asked organisation:
    requests, responses (accepted + declined), response rate (responses / (responses +
    expired)), acceptance rate (accepted / responses), median hours to answer; partnership
    records proposed, started and closed by outcome, and the mean check-in rating. A rate with
    nothing to divide by is null. Groups of fewer than `min_group` requests (or records;
    MATCHER_ANALYTICS_MIN_GROUP, default 5) are not shown on their own: they are merged into
    one row, key '(other)', 'other (small groups)', whose `groups` counts them."""
    return await compute(state)
