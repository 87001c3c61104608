"""The web page at `/`: describe a need, see the coalition, partners per sector, gaps; feedback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
import pydantic
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import EngineDep, PrincipalDep, RecordsDep
from api.schemas import NeedFields, Outcome
from api.views import organisation_view
from matcher.domain import SECTORS, Match, Need, Recommendation
from matcher.errors import NotFoundError, ValidationError

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    directory=str(Path(__file__).resolve().parents[1] / "web" / "templates")
)

COMPONENT_ORDER = ("fit", "coverage", "reciprocity", "proximity", "freshness")
COMPONENT_LABELS = {
    "fit": "Fit to the need",
    "coverage": "Covers what is required",
    "reciprocity": "Gains for both sides",
    "proximity": "Nearby",
    "freshness": "Profile up to date",
}
ROLE_LABELS = {
    "business": "Business",
    "government": "Government",
    "nonprofit": "Nonprofit / community",
}


def breakdown(match: Match, weights: dict[str, float]) -> list[dict[str, Any]]:
    """Segments of the score bar: each component's weighted share of the total score."""
    total_w = sum(weights.get(c, 0.0) for c in COMPONENT_ORDER) or 1.0
    out = []
    for name in COMPONENT_ORDER:
        value = float(match.components.get(name, 0.0))
        share = weights.get(name, 0.0) * value / total_w
        out.append(
            {
                "name": name,
                "label": COMPONENT_LABELS[name],
                "value": value,
                "percent": round(max(0.0, min(1.0, share)) * 100, 1),
            }
        )
    return out


def _form_errors(exc: pydantic.ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err.get("loc", ())) or "form"
        out.append(f"{field}: {err.get('msg', 'invalid')}")
    return out


def _float(value: str | None) -> float | None:
    value = (value or "").strip()
    return float(value) if value else None


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "sectors": SECTORS,
        "role_labels": ROLE_LABELS,
        "component_labels": COMPONENT_LABELS,
        **extra,
    }


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, principal: PrincipalDep) -> Response:
    return templates.TemplateResponse(request, "index.html", _context(request, form={}))


@router.post("/", response_class=HTMLResponse)
def submit(
    request: Request,
    engine: EngineDep,
    records: RecordsDep,
    principal: PrincipalDep,
    text: Annotated[str, Form(max_length=5000)] = "",
    city: Annotated[str, Form(max_length=200)] = "",
    lat: Annotated[str, Form(max_length=32)] = "",
    lon: Annotated[str, Form(max_length=32)] = "",
    radius_km: Annotated[str, Form(max_length=32)] = "",
    capabilities: Annotated[str, Form(max_length=1000)] = "",
    sectors: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {
        "text": text,
        "city": city,
        "lat": lat,
        "lon": lon,
        "radius_km": radius_km,
        "capabilities": capabilities,
        "sectors": sectors or [],
    }
    try:
        fields = NeedFields.model_validate(
            {
                "text": text,
                "city": city.strip() or None,
                "lat": _float(lat),
                "lon": _float(lon),
                "radius_km": _float(radius_km),
                "wanted_sectors": [s for s in (sectors or []) if s],
                "required_capabilities": [c.strip() for c in capabilities.split(",") if c.strip()],
            }
        )
        need = Need.model_validate(fields.model_dump(exclude_none=True))
    except ValueError as exc:  # pydantic.ValidationError and float() errors
        errors = (
            _form_errors(exc)
            if isinstance(exc, pydantic.ValidationError)
            else ["lat, lon and radius must be numbers"]
        )
        ctx = _context(request, form=form, errors=errors)
        return templates.TemplateResponse(request, "index.html", ctx, status_code=422)
    rec: Recommendation = engine.recommend(need, limit=10)
    rec_id = records.save_recommendation(rec, api_key_id=principal.key_id)
    weights = dict(engine.weights)
    sector_lists = {s: [(m, breakdown(m, weights)) for m in ms] for s, ms in rec.by_sector.items()}
    members = [(m, breakdown(m, weights)) for m in rec.coalition.members]
    role_of = {org_id: role for role, org_id in rec.coalition.roles.items()}
    ctx = _context(
        request,
        form=form,
        rec=rec,
        rec_id=rec_id,
        by_sector=sector_lists,
        members=members,
        role_of=role_of,
    )
    return templates.TemplateResponse(request, "index.html", ctx)


@router.get("/organisations/{org_id}", response_class=HTMLResponse)
def profile(request: Request, org_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    org_view = None
    try:
        stored = engine.store.get_organisation(org_id[:128])
        if principal.can_see(stored.record.owner, stored.record.published):
            org_view = organisation_view(stored, principal)
    except NotFoundError:
        pass
    if org_view is None:
        ctx = _context(request, message=f"No organisation '{org_id[:128]}'.")
        return templates.TemplateResponse(request, "error.html", ctx, status_code=404)
    return templates.TemplateResponse(request, "organisation.html", _context(request, org=org_view))


@router.post("/feedback")
async def feedback(
    request: Request,
    records: RecordsDep,
    principal: PrincipalDep,
    recommendation_id: Annotated[str, Form(min_length=1, max_length=64)],
    organisation_id: Annotated[str, Form(min_length=1, max_length=128)],
    outcome: Annotated[Outcome, Form()],
) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        await anyio.to_thread.run_sync(
            lambda: records.add_feedback(
                recommendation_id=recommendation_id,
                organisation_id=organisation_id,
                outcome=outcome.value,
                note=None,
                api_key_id=principal.key_id,
            )
        )
    except (NotFoundError, ValidationError) as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422
        if wants_json:
            return JSONResponse({"ok": False, "detail": str(exc)}, status_code=status)
        ctx = _context(request, message=str(exc))
        return templates.TemplateResponse(request, "error.html", ctx, status_code=status)
    if wants_json:
        return JSONResponse({"ok": True, "outcome": outcome.value}, status_code=201)
    ctx = _context(request, outcome=outcome.value)
    return templates.TemplateResponse(request, "thanks.html", ctx, status_code=201)
