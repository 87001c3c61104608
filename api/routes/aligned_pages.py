"""An organisation's aligned partners as a page (`/organisations/{id}/aligned`): for a CSR
manager looking for nonprofits near the company's home to support, a nonprofit looking for a
company or an agency to approach. One sector at a time. Without a focus, fit is judged both
ways between the two profiles (`Engine.match`, as GET /v1/organisations/{id}/matches): it
finds organisations like this one (for a company: its industry's associations). With a focus
("financial literacy for young people"), the focus is the need, placed at the organisation's
home and asked by it, so what the organisation offers counts towards what the others need."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.aligned_area import aligned_area, aligned_matches
from api.deps import EngineDep, OptionalPersonDep, PrincipalDep, StateDep
from api.web.distance import WITHIN_KM, read_within  # the distances offered (the home page's too)
from api.web.errors import error_page
from api.web.render import context, templates
from api.web.searching_as import memberships_of, own_ids
from matcher.domain import FOCUS_MAX, SECTORS, Match, Sector
from matcher.errors import NotFoundError, PlaceError, ValidationError
from matcher.places import state_name
from matcher.score import GAIN_REASON

router = APIRouter(include_in_schema=False)

ALIGNED_LIMIT = 15
# within a distance, the bodies working statewide or wider are listed apart: asked for this
# many, so that they cannot fill the whole list and leave none based near (each list shows
# ALIGNED_LIMIT at most)
ALIGNED_FETCH_NEAR = 60
ALL = "all"
WIDE_LEVELS = ("national", "international")


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
    person: OptionalPersonDep,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    focus: Annotated[str, Query(max_length=FOCUS_MAX)] = "",
    # text, as the form sends it: its "any distance" is an empty value (a number-typed query
    # parameter refused it with a 422 naming an integer)
    distance: Annotated[str, Query(alias="within", max_length=12)] = "",
    # where to look, when not around the organisation's home ("nonprofits in New Mexico" for a
    # company based elsewhere: the focus "... in New Mexico" ranked Montana first, real data)
    place: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    org_id = org_id[:128]
    try:
        stored = engine.store.get_organisation(org_id)
    except NotFoundError:
        stored = None
    if stored is None or not principal.can_see(stored.record.owner, stored.record.published):
        return error_page(request, 404, f"No organisation '{org_id}'.")
    org = stored.record
    # what the form asks that cannot be read: said together on the page, the form as typed
    # (a bare error page's link went back to the home page, and only the first was said)
    errors: list[str] = []
    candidates: list[str] = []
    if sector is not None and sector != ALL and sector not in SECTORS:
        errors.append(f"Sector: '{sector[:20]}' is not one of {', '.join((*SECTORS, ALL))}.")
        sector = None
    chosen = sector or default_sector(org.sector.value)
    wanted = None if chosen == ALL else [chosen]
    focus = focus.strip()
    focus_ok = not focus or len(focus) >= 3
    if not focus_ok:
        errors.append("Focus: say in a few words what you would support.")
    within: int | None = None
    try:
        radius = read_within(distance)
        within = None if radius is None else max(1, round(radius))
    except ValidationError:
        offered = ", ".join(f"{km} km" for km in WITHIN_KM)
        errors.append(f"Distance: choose any distance or within {offered}.")
    try:
        found = aligned_area(org, place, within)
    except PlaceError as exc:
        errors.append(f"Place: {exc.message}")
        candidates = [str(c) for c in exc.candidates][:8]
    if errors:
        ctx = context(
            request,
            org=org,
            matches=None,
            wide=[],
            chosen=chosen,
            choices=(*SECTORS, ALL),
            focus=focus,
            within=within,
            within_choices=WITHIN_KM,
            place=place.strip(),
            where=place.strip() or org.city or org.region or "its home",
            errors=errors,
            candidates=candidates,
            # the places' links keep the focus only when it can be read: each led to the
            # same "Focus:" error again (real data walk)
            link_focus=focus if focus_ok else "",
        )
        return templates.TemplateResponse(request, "aligned.html", ctx, 422)
    placed, near, home_region, where = found.placed, found.near, found.home_region, found.where
    limit = ALIGNED_FETCH_NEAR if near else ALIGNED_LIMIT

    def work() -> list[Match]:
        return aligned_matches(engine, org, found, focus=focus, sectors=wanted, limit=limit)

    try:
        matches: list[Match] | None = await state.compute(work)
    except NotFoundError:  # stored but not indexed yet (written since the last build)
        matches = None

    # bodies whose area is a whole country or more pass every distance, and a statewide one
    # (or one limited to some states) a distance in its state: listed apart, so a "within
    # 25 km" list does not read as if a company 4,000 km away were near
    def beyond(m: Match) -> bool:  # passed the distance by the area it serves
        return within is not None and (m.distance_km is None or m.distance_km > within)

    wide = [m for m in matches or () if m.service_level in WIDE_LEVELS or (near and beyond(m))]
    # none listed in a state the data holds none of (Springfield, IL on data of New Mexico and
    # Oregon said only "no close enough match yet", real data walk)
    unheld = None
    # none anywhere: "try a place in another state" sent a CSR manager looking for academic
    # partners on data holding none at all (real data walk)
    nowhere = matches == [] and not engine.holds_sectors(wanted)
    # none based near, only bodies working there from elsewhere: "No organisation based within
    # 25 km is a close enough match" for Springfield, IL read as if some were too far (walk)
    none_near = matches is not None and all(m in wide for m in matches)
    if (
        none_near
        and home_region
        and not nowhere
        and not engine.holds_in_region(wanted, home_region)
    ):
        unheld = state_name(home_region)
    # the hint promises what the organisation offers that they need: said when no card has it
    # (a bank's page for nonprofits whose IRS missions name no need, real data walk)
    says_gains = any(r.startswith(GAIN_REASON) for m in matches or () for r in m.reasons)
    ctx = context(
        request,
        org=org,
        matches=None if matches is None else [m for m in matches if m not in wide][:ALIGNED_LIMIT],
        wide=wide[:ALIGNED_LIMIT],
        chosen=chosen,
        nowhere=nowhere,
        choices=(*SECTORS, ALL),
        focus=focus,
        within=within if near else None,
        within_choices=WITHIN_KM if placed else (),
        # nearness is scored from a point or a state: a national agency with neither ("its
        # home" was "US") read "nearer its home first among equals" (real data walk)
        near_known=placed or bool(home_region),
        unplaced=bool(within) and not placed,
        place=place.strip(),
        where=where,
        says_gains=says_gains,
        unheld=unheld,
        # a signed-in person asks a card for an introduction (a CSR manager had to open each
        # profile, real data walk), except their own groups'
        own_ids=own_ids(await memberships_of(state.claims, person)),
    )
    return templates.TemplateResponse(request, "aligned.html", ctx)
