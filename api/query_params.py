"""Unknown query parameters of the JSON API are a 422 naming them, as unknown body fields are.

`?sectr=nonprofit` answered 200 with every sector, `/v1/organisations?nam=cvs` listed all 3,711
organisations, and `/matches?focus=...` (a parameter only the page has) answered the unfocused
list: an integrator's typo or wrong guess looked like an answer (real data walk). Pages are
left alone (a link may carry what a browser or a campaign adds)."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.problems import ApiProblem

# read by a middleware on every route (api.replication: wait until this change is applied)
EVERY_ROUTE = frozenset({"min_seq"})
# kept on the route object itself: an app's routes go with it (an id() key could be reused by
# a later app's route and answer with another endpoint's parameters; routes are unhashable)
_NAMES = "_matcher_query_names"


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _allowed(route: APIRoute) -> frozenset[str]:
    names: frozenset[str] | None = getattr(route, _NAMES, None)
    if names is None:
        names = frozenset(_query_names(route.dependant)) | EVERY_ROUTE
        setattr(route, _NAMES, names)
    return names


async def known_query_params(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.path.startswith("/v1/"):
        return
    unknown = sorted(set(request.query_params) - _allowed(route))
    if unknown:
        known = ", ".join(sorted(_allowed(route))) or "none"
        raise ApiProblem(
            422,
            f"unknown query parameter(s) {', '.join(unknown)} (this endpoint takes: {known})",
        )
