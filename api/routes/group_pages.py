"""The pages of a group's own profile: "Add your group" (`/groups/new`) and "Edit this profile"
(`/organisations/{id}/edit`, for its admins). Both read the form as the JSON API reads its body
(`GroupCreate`, `OrganisationUpdate`) and keep what was typed when something is refused."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import anyio
import pydantic
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.account_schemas import GroupCreate
from api.deps import FormCsrf, GroupsDep, OptionalPersonDep
from api.problems import engine_error_status
from api.routes.web import form_errors
from api.schemas import OrganisationUpdate
from api.sessions import csrf_token
from api.web.render import context, local_path, templates
from matcher.accounts.groups import EDITABLE, Groups
from matcher.accounts.people import Person
from matcher.domain import Organisation
from matcher.errors import AlreadyListedError, MatcherError
from matcher.store.repository import Stored

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("name", "description", "city", "region", "country", "website", "contact")
LIST_FIELDS = ("offers", "needs", "focus_areas")  # one per line
LABELS = {
    "name": "Name",
    "sector": "Sector",
    "description": "What your group does",
    "offers": "What you can offer partners",
    "needs": "What you are looking for",
    "focus_areas": "Focus areas",
    "city": "City or town",
    "region": "State or region",
    "country": "Country",
    "website": "Website",
    "contact": "How partners reach you",
}
_NO_STORE = {"Cache-Control": "no-store"}


async def _form(request: Request) -> dict[str, Any]:
    """The posted fields as the form shows them again (lists as their lines)."""
    posted = await request.form()
    form: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, "sector", "version", "next"):
        value = posted.get(name)
        form[name] = value.strip() if isinstance(value, str) else ""
    for name in LIST_FIELDS:
        value = posted.get(name)
        text = value if isinstance(value, str) else ""
        form[name] = [line.strip() for line in text.splitlines() if line.strip()]
    return form


def _fields(form: dict[str, Any]) -> dict[str, Any]:
    """The form as a request body: an empty text field is no value (None clears it on edit)."""
    body: dict[str, Any] = {k: (form[k] or None) for k in TEXT_FIELDS}
    site = body["website"]
    if site and "://" not in site:
        # "www.example.org" was stored, then never shown (a profile links http(s) only) and
        # refused by the edit form's URL field (real data walk)
        body["website"] = f"https://{site}"
    body.update({k: form[k] for k in LIST_FIELDS})
    if form.get("sector"):
        body["sector"] = form["sector"]
    return body


def _missing(form: dict[str, Any]) -> list[str]:
    """The fields a profile cannot be without, named as the form labels them."""
    return [f"{LABELS[k]}: required." for k in ("name", "sector", "description") if not form[k]]


def _page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    ctx = context(request, csrf=csrf_token(request), labels=LABELS, **extra)
    return templates.TemplateResponse(
        request, "group_form.html", ctx, status_code, headers=_NO_STORE
    )


def _login(path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=303)


NextQuery = Annotated[str, Query(alias="next", max_length=300)]


def _next(path: str) -> str:
    """Where to go once the group is added: back to the introduction it was asked from."""
    return path if path and local_path(path) else ""


@router.get("/groups/new", response_class=HTMLResponse)
async def new_group_page(
    request: Request, person: OptionalPersonDep, next_path: NextQuery = ""
) -> Response:
    back = _next(next_path)
    if person is None:
        return _login(f"/groups/new?next={quote(back)}" if back else "/groups/new")
    form = {**{k: "" for k in TEXT_FIELDS}, "country": "US", "sector": "community", "next": back}
    return _page(request, form={**form, **{k: [] for k in LIST_FIELDS}}, editing=None)


@router.post("/groups/new", dependencies=[FormCsrf])
async def new_group(request: Request, person: OptionalPersonDep, groups: GroupsDep) -> Response:
    if person is None:
        return _login("/groups/new")
    form = await _form(request)
    if missing := _missing(form):
        return _page(request, 422, form=form, editing=None, errors=missing)
    try:
        body = GroupCreate.model_validate(
            {k: v for k, v in _fields(form).items() if v not in (None, [])}
        )
        org = Organisation.model_validate(body.model_dump(exclude_none=True))
        stored = await anyio.to_thread.run_sync(groups.register, person, org)
    except pydantic.ValidationError as exc:
        errors = form_errors(exc, LABELS, item="line")
        return _page(request, 422, form=form, editing=None, errors=errors)
    except MatcherError as exc:
        status = engine_error_status(exc)
        # the group listed already: a link to claim it, not a path to copy (a helper's check)
        listed = exc.organisation_id if isinstance(exc, AlreadyListedError) else None
        return _page(request, status, form=form, editing=None, errors=[str(exc)], listed=listed)
    back = _next(form["next"])
    return RedirectResponse(back or f"/organisations/{quote(stored.record.id)}", status_code=303)


async def _admin_profile(
    request: Request, person: Person | None, groups: Groups, org_id: str
) -> Stored | Response:
    """The profile a signed-in admin edits, or the page to show instead (log in, or why not)."""
    if person is None:
        return _login(f"/organisations/{org_id}/edit")
    try:
        stored: Stored = await anyio.to_thread.run_sync(groups.admin_profile, person, org_id)
    except MatcherError as exc:
        status = engine_error_status(exc)
        return _page(request, status, form=None, editing=None, errors=[str(exc)])
    return stored


@router.get("/organisations/{org_id}/edit", response_class=HTMLResponse)
async def edit_group_page(
    request: Request, org_id: str, person: OptionalPersonDep, groups: GroupsDep
) -> Response:
    org_id = org_id[:128]
    stored = await _admin_profile(request, person, groups, org_id)
    if isinstance(stored, Response):
        return stored
    org: Organisation = stored.record
    form: dict[str, Any] = {k: getattr(org, k) or "" for k in TEXT_FIELDS}
    form.update({k: list(getattr(org, k)) for k in LIST_FIELDS})
    form["sector"] = org.sector.value
    form["version"] = str(stored.version)
    return _page(request, form=form, editing=org)


@router.post("/organisations/{org_id}/edit", dependencies=[FormCsrf])
async def edit_group(
    request: Request, org_id: str, person: OptionalPersonDep, groups: GroupsDep
) -> Response:
    org_id = org_id[:128]
    stored = await _admin_profile(request, person, groups, org_id)
    if isinstance(stored, Response):
        return stored
    assert person is not None
    form = await _form(request)
    editing: Organisation = stored.record
    if missing := _missing(form):
        return _page(request, 422, form=form, editing=editing, errors=missing)
    version = int(form["version"]) if form["version"].isdigit() else None
    try:
        changes = OrganisationUpdate.model_validate(_fields(form)).changes()
        changes = {k: v for k, v in changes.items() if k in EDITABLE}
        await anyio.to_thread.run_sync(
            lambda: groups.update(person, org_id, changes, expected_version=version)
        )
    except pydantic.ValidationError as exc:
        errors = form_errors(exc, LABELS, item="line")
        return _page(request, 422, form=form, editing=editing, errors=errors)
    except MatcherError as exc:
        status = engine_error_status(exc)
        errors = [str(exc)]
        if status == 409:  # another admin saved first: what they saved is on the profile
            errors = [
                "Someone saved this profile after you opened it (see its page for what it "
                "says now). What you typed is below: saving again replaces their changes "
                "with it."
            ]
            form["version"] = str(stored.version)
        return _page(request, status, form=form, editing=editing, errors=errors)
    return RedirectResponse(f"/organisations/{quote(org_id)}", status_code=303)
