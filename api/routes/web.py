"""The web page: describe a need and a place, see the coalition then partners per sector,
reopen a recommendation by its permalink (`/r/{id}`), mark partners; errors as pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

import anyio
import pydantic
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.deps import (
    ClaimsDep,
    EngineDep,
    FormCsrf,
    LoadingEngineDep,
    OptionalPersonDep,
    PrincipalDep,
    RecordsDep,
    StateDep,
)
from api.records import StoredRecommendation
from api.schemas import Outcome, RecommendationRequest
from api.state import AppState
from api.views import organisation_view
from api.web.distance import (
    held_first,
    place_in_text,
    places_also,
    read_within,
    searched_area,
    unused_distance,
    within_value,
)
from api.web.errors import error_page
from api.web.offers_shown import offers_shown
from api.web.public_records import public_records
from api.web.render import card_id, context, local_path, result_view, role_labels_for, templates
from api.web.searching_as import NO_GROUP, memberships_of, own_ids, requester_of, shown_choice
from matcher.accounts.claims import Membership
from matcher.domain import REGISTERED_SOURCE, Filters, Need, Recommendation
from matcher.errors import NotFoundError, ValidationError
from matcher.feedback_standing import COUNTED, UNCONFIRMED, standing

router = APIRouter(include_in_schema=False)

RESULT_LIMIT = 10
FORM_TEXT_MAX = 100_000
REC_ID_MAX = 64


def place_supported() -> bool:
    """True once the recommendation request takes a place name (added in parallel)."""
    return "place" in RecommendationRequest.model_fields


def form_errors(
    exc: pydantic.ValidationError, labels: dict[str, str] | None = None, item: str = "item"
) -> list[str]:
    """Each error in the form's words: the field as the form labels it and, for a text too
    short or too long, what to do ("text: String should have at least 3 characters" was shown
    to a person who had typed only spaces)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(loc) or "form"
        known = FORM_LABELS if labels is None else labels
        label = known.get(field, field)
        if len(loc) == 2 and loc[0] in known and loc[1].isdigit():
            # one entry of a list field: "Offers, line 2", not "offers.1" (real data walk)
            label = f"{known[loc[0]]}, {item} {int(loc[1]) + 1}"
        ctx = err.get("ctx") or {}
        kind = err.get("type")
        if kind == "string_too_short" and field == "text":
            least = ctx.get("min_length", 3)
            out.append(f"{label}: describe the problem in a few words (at least {least} letters).")
        elif kind == "string_too_short":
            out.append(f"{label}: too short (at least {ctx.get('min_length')} characters).")
        elif kind == "string_too_long":
            out.append(f"{label}: too long (at most {ctx.get('max_length')} characters).")
        elif kind == "too_long":  # a list
            out.append(f"{label}: at most {ctx.get('max_length')} {item}s.")
        else:  # a validator's own words, without pydantic's "Value error, " before them
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            out.append(f"{label}: {msg}")
    return out


FORM_LABELS = {
    "text": "The need",
    "place": "Place",
    "radius_km": "Distance",
    "required_capabilities": "Required help",
    "wanted_sectors": "Sectors",
    "as_org": "Searching for",
}


def _domain_errors(exc: ValidationError) -> list[str]:
    """A matcher ValidationError in the form's words: 'Place: unknown place ...', not the
    API's "field 'place': ..." (the field named as the form labels it)."""
    label = FORM_LABELS.get(exc.field or "")
    return [f"{label}: {exc.message}"] if label else [str(exc)]


LOCAL_SECTORS = ["nonprofit", "community"]


def need_from_form(form: dict[str, Any]) -> Need:
    """The form as a recommendation request, read the same way as POST /v1/recommendations
    (so a `place` and its `radius_km` are handled exactly as the API handles them). The
    distance (`within`) is used only with a place that has a point: without a place, or with
    a whole state or country, it is left out (the results say so: `unused_distance`). With
    the place left empty, `form["place_read"]` (the place its text names: `place_in_text`) is
    the place. Raises pydantic.ValidationError, or matcher ValidationError for a value that is
    no distance."""
    radius = read_within(form.get("within", ""))
    payload: dict[str, Any] = {
        "text": form["text"],
        "wanted_sectors": [s for s in form["sectors"] if s],
        "required_capabilities": [c.strip() for c in form["capabilities"].split(",") if c.strip()],
    }
    place = form["place"].strip() or form.get("place_read") or ""
    if place and place_supported():
        payload["place"] = place
        if radius is not None:
            payload["radius_km"] = radius
    body = RecommendationRequest.model_validate(payload)
    doc = body.model_dump(exclude={"limit", "filters", "radius_km"}, exclude_none=True)
    need = Need.model_validate(doc)
    if body.radius_km is not None and need.lat is not None and need.lon is not None:
        need = need.model_copy(update={"radius_km": body.radius_km})
    return need


def form_of_need(need: dict[str, Any]) -> dict[str, Any]:
    """The form's fields for a stored need (to show what was asked, and to ask again)."""
    place = need.get("place") or ", ".join(
        str(p) for p in (need.get("city"), need.get("region")) if p
    )
    return {
        "text": need.get("text", ""),
        "place": place or "",
        "within": within_value(need.get("radius_km")),
        "sectors": list(need.get("wanted_sectors") or []),
        "capabilities": ", ".join(need.get("required_capabilities") or []),
        "as_org": need.get("requester_id") or NO_GROUP,
    }


def _results(
    request: Request,
    rec: Recommendation,
    rec_id: str,
    weights: dict[str, float],
    form: dict[str, Any],
    status_code: int = 200,
    **extra: Any,
) -> Response:
    view = result_view(rec, rec_id, weights)
    ignored_place = bool(form.get("place", "").strip()) and not place_supported()
    within = form.get("within", "")
    unused = None  # a distance chosen but not used (no place, or no point to measure from)
    if within and rec.need.radius_km is None and not ignored_place:
        unused = unused_distance(form.get("place", ""), within)
    if request.method != "GET":  # a POST's results: signing in comes back to their permalink
        extra.setdefault("back_to", f"/r/{quote(rec_id, safe='')}")
    ctx = context(
        request,
        form=form,
        view=view,
        role_labels=role_labels_for(form.get("sectors") or []),
        ignored_place=ignored_place,
        searched=searched_area(rec.need),
        unused_distance=unused,
        **extra,
    )
    return templates.TemplateResponse(request, "index.html", ctx, status_code)


def _groups_context(groups: list[Membership], wanted: str | None) -> dict[str, Any]:
    """The form's "Searching for" choice and the ids whose cards say "Your group"."""
    return {"groups": groups, "as_org": shown_choice(groups, wanted), "own_ids": own_ids(groups)}


def _starting(state: AppState) -> bool:
    """Whether the service is still loading its model and index (not failed)."""
    return (state.engine is None or state.records is None) and state.load_error is None


@router.get("/", response_class=HTMLResponse)
async def page(
    request: Request,
    principal: PrincipalDep,
    state: StateDep,
    person: OptionalPersonDep,
) -> Response:
    held = state.engine.sectors_held() if state.engine is not None else None
    groups = await memberships_of(state.claims, person)
    ctx = context(
        request, form={}, starting=_starting(state), held=held, **_groups_context(groups, None)
    )
    return templates.TemplateResponse(request, "index.html", ctx)


@router.post("/", response_class=HTMLResponse, dependencies=[FormCsrf])
async def submit(
    request: Request,
    loaded: LoadingEngineDep,
    principal: PrincipalDep,
    state: StateDep,
    person: OptionalPersonDep,
    # far above the need's own limit (5,000): a text too long comes back with the form as
    # typed and the error beside it (`need_from_form`), not a bare error page that lost it
    # (real-data walk, 2026-12-04); the body size limit bounds it still
    text: Annotated[str, Form(max_length=FORM_TEXT_MAX)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    capabilities: Annotated[str, Form(max_length=1000)] = "",
    sectors: Annotated[list[str] | None, Form()] = None,
    within: Annotated[str, Form(max_length=12)] = "",
    # the signed-in person's group the search is for (api.web.searching_as); absent: their
    # first group
    # (a long value is refused by `requester_of` in the form's words, not by a bare 422)
    as_org: Annotated[str | None, Form(max_length=1000)] = None,
) -> Response:
    form: dict[str, Any] = {
        "text": text,
        "place": place,
        "within": within.strip(),
        "capabilities": capabilities,
        "sectors": sectors or [],
        # the place the text names, searched when Place was left empty (said on the page),
        # and a town it names of several states, which the page asks about
        "place_read": None,
        "place_choices": [],
        "place_also": [],  # other places the text names beside the one read
        "place_lower": [],  # towns it may name in lower case, when it names no other
    }

    def read_place(holds: Callable[[str], bool] | None) -> None:
        from matcher.places.towns import town_choices
        from matcher.places.towns_lower import towns_in_lower_case

        # each state asked once: the towns are read up to three times (the place, the
        # choices, the other places), each asking of every state its namesakes are in
        holds = functools.cache(holds) if holds is not None else None
        if not place.strip():
            read = form["place_read"] = place_in_text(text, holds)
            form["place_choices"] = [] if read else town_choices(text, holds)
            form["place_also"] = places_also(text, read, holds) if read else []
            if not read and not form["place_choices"]:  # "seniors in casper wy"
                form["place_lower"] = towns_in_lower_case(text, holds)

    groups = await memberships_of(state.claims, person)
    mine = _groups_context(groups, as_org)
    if loaded is None or state.records is None:
        read_place(None)
        # still starting: the form as typed, and a notice that the search did not run yet
        # (the error page's link back emptied it; a fresh server takes 10-45 s)
        ctx = context(request, form=form, starting=True, not_run=True, **mine)
        headers = {"Retry-After": "5"}
        return templates.TemplateResponse(request, "index.html", ctx, 503, headers=headers)
    engine, records = loaded, state.records

    def work() -> tuple[Recommendation, str]:
        # a town named alone is read in the states the data holds local groups in (an NM+OR
        # catalog's "Espanola" is New Mexico's, not Washington's; companies are held where
        # their head office is, so they say nothing of it); here, off the event loop, as it
        # reads the catalog
        read_place(lambda region: engine.holds_in_region(LOCAL_SECTORS, region))
        need = need_from_form(form)
        # signed out since the form was drawn: a search for no group, not an error about a
        # choice the page no longer shows
        requester = requester_of(groups, as_org) if person is not None else None
        if requester is not None:
            need = need.model_copy(update={"requester_id": requester})
        rec = engine.recommend(need, limit=RESULT_LIMIT)
        return rec, records.save_recommendation(rec, api_key_id=principal.key_id)

    try:
        rec, rec_id = await state.compute(work)
    except (pydantic.ValidationError, ValidationError) as exc:
        if isinstance(exc, pydantic.ValidationError):
            errors = form_errors(exc)
        else:
            errors = _domain_errors(exc)
        # an unknown or ambiguous place (matcher.errors.PlaceError) names what it could mean
        candidates = [str(c) for c in getattr(exc, "candidates", None) or []]
        # the places of the states the data holds first: "Norwich" offered Norwich, United
        # Kingdom first, "Sheridan" Maine's, Wyoming's tenth (helper-75's walk, 2026-12-06)
        # off the event loop, as it reads the catalog (once per state, at most ten)
        holds = functools.cache(lambda region: engine.holds_in_region(LOCAL_SECTORS, region))
        candidates = (await anyio.to_thread.run_sync(held_first, place, candidates, holds))[:8]
        unsaid = bool(candidates) and not any(candidates[0] in e for e in errors)
        ctx = context(
            request,
            form=form,
            errors=errors,
            candidates=candidates,
            candidates_unsaid=unsaid,
            held=engine.sectors_held(),
            **mine,
        )
        return templates.TemplateResponse(request, "index.html", ctx, status_code=422)
    held = engine.sectors_held()
    return _results(request, rec, rec_id, dict(engine.weights), form, held=held, **mine)


def _stored(records: RecordsDep, rec_id: str) -> StoredRecommendation | None:
    if len(rec_id) > REC_ID_MAX:
        return None
    try:
        return records.get_recommendation(rec_id)
    except NotFoundError:
        return None


def stored_filters(stored: StoredRecommendation) -> Filters | None:
    """The filters a stored recommendation was asked with (kept since saved needs)."""
    doc = stored.need.get("filters")
    try:
        return Filters.model_validate(doc) if isinstance(doc, dict) else None
    except pydantic.ValidationError:
        return None


def _unknown_recommendation(request: Request, rec_id: str) -> Response:
    shown = rec_id[:REC_ID_MAX]
    return error_page(
        request,
        404,
        f"There is no recommendation '{shown}'. The link may be mistyped or cut short.",
    )


@router.get("/r/{rec_id}", response_class=HTMLResponse)
async def permalink(
    request: Request,
    rec_id: str,
    engine: EngineDep,
    records: RecordsDep,
    principal: PrincipalDep,
    person: OptionalPersonDep,  # one lookup: the cards' mark notice (render.context)
    state: StateDep,
    marked: str | None = None,
    outcome: Outcome | None = None,
) -> Response:
    stored = await anyio.to_thread.run_sync(_stored, records, rec_id)
    if stored is None:
        return _unknown_recommendation(request, rec_id)
    form = form_of_need(stored.need)
    groups = await memberships_of(state.claims, person)
    extra: dict[str, Any] = {
        "stored": stored,
        "held": engine.sectors_held(),
        **_groups_context(groups, form["as_org"]),
    }
    if marked and outcome is not None:
        extra["marked"] = {marked[:128]: outcome.value}
    if stored.recommendation is None:
        ctx = context(request, form=form, **extra)
        return templates.TemplateResponse(request, "index.html", ctx)
    return _results(request, stored.recommendation, stored.id, dict(engine.weights), form, **extra)


@router.post("/r/{rec_id}/again", dependencies=[FormCsrf])
async def run_again(
    request: Request,
    rec_id: str,
    engine: EngineDep,
    records: RecordsDep,
    principal: PrincipalDep,
    state: StateDep,
) -> Response:
    """The stored need on today's data and model: a new recommendation, then its permalink."""
    stored = await anyio.to_thread.run_sync(_stored, records, rec_id)
    if stored is None:
        return _unknown_recommendation(request, rec_id)
    doc = {k: v for k, v in stored.need.items() if k in Need.model_fields and k != "created_at"}
    filters = stored_filters(stored)

    def work() -> str:
        rec = engine.recommend(Need.model_validate(doc), filters=filters, limit=RESULT_LIMIT)
        return records.save_recommendation(rec, api_key_id=principal.key_id, filters=filters)

    new_id = await state.compute(work)
    return RedirectResponse(f"/r/{quote(new_id)}", status_code=303)


@router.get("/organisations/{org_id}", response_class=HTMLResponse)
def profile(
    request: Request,
    org_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    person: OptionalPersonDep,
    claims: ClaimsDep,
    back: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    org_view = None
    # the signed-in person's part in it: its members are not offered to claim it or ask it
    # for an introduction, and its admins are offered to edit it
    role = claims.role(person.id, org_id[:128]) if person is not None else None
    try:
        stored = engine.store.get_organisation(org_id[:128])
        if principal.can_see(stored.record.owner, stored.record.published):
            org_view = organisation_view(stored, principal, admin=role == "admin")
    except NotFoundError:
        pass
    if org_view is None:
        return error_page(request, 404, f"No organisation '{org_id[:128]}'.")
    counted = engine.offers_counted(org_view.id)
    offers = offers_shown(org_view.offers, counted, org_view.focus_areas, org_view.description)
    # the results it was opened from (a card's link): its "Back" returns there, not to an
    # empty form (real data walk); only a path on this site
    back_to = back if back.startswith("/r/") and local_path(back) else None
    ctx = context(
        request,
        org=org_view,
        offers=offers,
        results_url=back_to,
        member_role=role,
        registered=REGISTERED_SOURCE in stored.record.sources,
        records=public_records(stored.record.sources),
    )
    return templates.TemplateResponse(request, "organisation.html", ctx)


def _return_path(value: str, rec_id: str, org_id: str, outcome: str) -> str | None:
    """Where a form post without JavaScript goes back to: the same card on the permalink page
    (only a local /r/ path of this recommendation; anything else is ignored)."""
    if value != f"/r/{rec_id}":
        return None
    query = f"marked={quote(org_id, safe='')}&outcome={outcome}"
    return f"/r/{quote(rec_id, safe='')}?{query}#{quote(card_id(org_id), safe='')}"


@router.post("/feedback", dependencies=[FormCsrf])
async def feedback(
    request: Request,
    records: RecordsDep,
    principal: PrincipalDep,
    person: OptionalPersonDep,
    state: StateDep,
    recommendation_id: Annotated[str, Form(min_length=1, max_length=64)],
    organisation_id: Annotated[str, Form(min_length=1, max_length=128)],
    outcome: Annotated[Outcome, Form()],
    return_to: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A mark from a result card. It is stored with who gave it: the signed-in person, or the
    API key. A visitor who is neither is still answered and the mark stored, but it teaches
    the ranking nothing (training.history skips it), so the answer says so (`counted`); so is
    a signed-in person's until their e-mail is confirmed (`unconfirmed`)."""
    wants_json = "application/json" in request.headers.get("accept", "")
    if person is not None and organisation_id in own_ids(
        await memberships_of(state.claims, person)
    ):
        # a member's mark on its own group would teach the ranking that the group fits its
        # own needs (the cards offer none; a form kept from before, or a script, still could)
        detail = "that organisation is your own group: marks are for partners"
        if wants_json:
            return JSONResponse({"ok": False, "detail": detail}, status_code=422)
        return error_page(request, 422, detail[0].upper() + detail[1:] + ".")
    try:
        row = await anyio.to_thread.run_sync(
            lambda: records.add_feedback(
                recommendation_id=recommendation_id,
                organisation_id=organisation_id,
                outcome=outcome.value,
                note=None,
                api_key_id=principal.key_id,
                person_id=person.id if person is not None else None,
            )
        )
    except (NotFoundError, ValidationError) as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422
        if wants_json:
            return JSONResponse({"ok": False, "detail": str(exc)}, status_code=status)
        return error_page(request, status, str(exc))
    # the rule training applies (matcher.feedback_standing)
    given = standing(
        row.api_key_id, row.person_id, person.email_verified if person is not None else None
    )
    unconfirmed, counted = given == UNCONFIRMED, given == COUNTED
    if wants_json:
        body = {
            "ok": True,
            "outcome": outcome.value,
            "counted": counted,
            "unconfirmed": unconfirmed,
        }
        return JSONResponse(body, status_code=201)
    back = _return_path(return_to, recommendation_id, organisation_id, outcome.value)
    if back is not None:
        return RedirectResponse(back, status_code=303)
    ctx = context(
        request,
        outcome=outcome.value,
        counted=counted,
        unconfirmed=unconfirmed,
        rec_id=recommendation_id,
        back_to=f"/r/{quote(recommendation_id, safe='')}",
    )
    return templates.TemplateResponse(request, "thanks.html", ctx, status_code=201)
