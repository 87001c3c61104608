"""The page's "Save this need" form and the account page's "Remove" buttons.

Signed in, a person saves a shown recommendation's need and filters as their own
(`person:<person id>`); the alerts go to the webhook URL given, else to the person's confirmed
e-mail; another e-mail address is refused, the form shown again saying why
(matcher.alerts.owners.person_address). An API key (the form's `api_key` field or the
X-API-Key header) saves it for that key, to any address, as the JSON API does. Without either,
the form leads to the sign-in page. A webhook URL on the service's own networks (loopback,
private, link-local, ...) is refused the same way (matcher.notify.hosts). Saved with a webhook
URL, the page after saving shows the URL's signing secret once (matcher.alerts.signing); the
account page's "New signing secret" replaces it and shows the new one once."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
import pydantic
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import (
    EngineDep,
    FormCsrf,
    OptionalPersonDep,
    PrincipalDep,
    RecordsDep,
    StateDep,
    started,
)
from api.records import StoredRecommendation
from api.routes.web import (
    RESULT_LIMIT,
    _results,
    _stored,
    _unknown_recommendation,
    form_of_need,
    stored_filters,
)
from api.saved_schemas import SavedNeedCreate
from api.web.errors import error_page
from api.web.render import context, templates
from matcher.alerts.owners import person_address, person_owner
from matcher.alerts.service import save_need
from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.domain import Need
from matcher.errors import NotFoundError, ValidationError
from matcher.notify.base import shown_address
from matcher.notify.hosts import HostPolicy, check_address

router = APIRouter(include_in_schema=False)


@router.post("/r/{rec_id}/save", dependencies=[FormCsrf])
async def save_from_page(
    request: Request,
    rec_id: str,
    engine: EngineDep,
    records: RecordsDep,
    principal: PrincipalDep,
    person: OptionalPersonDep,
    state: StateDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    notify_to: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    owner: str | None = principal.key_id
    if owner is None and api_key.strip():
        keys = started(state.keys)
        who = await anyio.to_thread.run_sync(keys.authenticate, api_key.strip())
        if who is None:
            return error_page(request, 401, "Saving a need needs a valid API key.")
        owner = who.key_id
    if owner is None and person is None:
        return RedirectResponse(f"/login?next=/r/{quote(rec_id[:64])}", status_code=303)
    try:
        address = SavedNeedCreate.model_validate(
            {"recommendation_id": "rec_0", "notify_to": notify_to.strip() or None}
        ).notify_to
    except pydantic.ValidationError:
        return error_page(request, 422, "The alert address must be an e-mail address or URL.")
    stored = await anyio.to_thread.run_sync(_stored, records, rec_id)
    if stored is None:
        return _unknown_recommendation(request, rec_id)
    pending_address: str | None = None  # the person's e-mail, once confirmed
    by_person = owner is None and person is not None
    if owner is None and person is not None:
        owner = person_owner(person.id)
        try:  # a webhook or their own e-mail: not someone else's inbox
            address = person_address(person, address)
        except ValidationError as exc:
            return _refused(request, engine, stored, notify_to, str(exc))
        pending_address = None if address else person.email
    try:  # not a webhook on the service's own networks (it may ask DNS: off the event loop)
        policy = HostPolicy.from_settings(state.settings)
        await anyio.to_thread.run_sync(check_address, address, policy)
    except ValidationError as exc:
        return _refused(request, engine, stored, notify_to, exc.message)
    doc = {k: v for k, v in stored.need.items() if k in Need.model_fields and k != "created_at"}

    def work() -> tuple[str, str | None]:
        saved, _ = save_need(
            engine,
            Need.model_validate(doc),
            filters=stored_filters(stored),
            limit=RESULT_LIMIT,
            owner=owner,
            notify_to=address,
            recommendation_id=stored.id,
        )
        return saved.id, saved.new_webhook_secret

    saved_id, secret = await state.compute(work)
    ctx = context(
        request,
        saved_id=saved_id,
        webhook_secret=secret,  # shown this once
        rec_id=rec_id,
        limit=RESULT_LIMIT,
        notify_to=address,
        pending_address=pending_address,
        by_person=by_person,
        back_to=f"/r/{quote(rec_id[:64], safe='')}",
    )
    page = templates.TemplateResponse(request, "saved.html", ctx, status_code=201)
    page.headers["Cache-Control"] = "no-store"  # it may show the signing secret
    return page


def _refused(
    request: Request, engine: EngineDep, stored: StoredRecommendation, typed: str, why: str
) -> Response:
    """The results page again (422), the save form open with what was typed and why not."""
    message = why[:1].upper() + why[1:] + "."
    if stored.recommendation is None:  # made before results were kept: nothing to show
        return error_page(request, 422, message)
    return _results(
        request,
        stored.recommendation,
        stored.id,
        dict(engine.weights),
        form_of_need(stored.need),
        status_code=422,
        stored=stored,
        save_error=message,
        save_notify_to=typed,
    )


@router.post("/account/saved-needs/{saved_id}/remove", dependencies=[FormCsrf])
async def remove_saved_need(
    request: Request, saved_id: str, person: OptionalPersonDep, state: StateDep
) -> Response:
    """The account page's "Remove" button: only ever the person's own saved need (and its
    alerts); another's, or an unknown one, is 404 and nothing changes."""
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    store = SavedNeeds(started(state.db))
    owner = person_owner(person.id)
    saved_id = saved_id[:64]

    def remove() -> bool:
        try:
            if store.get(saved_id).owner != owner:
                return False
            store.delete(saved_id)
        except NotFoundError:
            return False
        return True

    if not await anyio.to_thread.run_sync(remove):
        return error_page(request, 404, f"You have no saved need '{saved_id}'.")
    return RedirectResponse("/account", status_code=303)


@router.post("/account/saved-needs/{saved_id}/webhook-secret", dependencies=[FormCsrf])
async def new_webhook_secret(
    request: Request, saved_id: str, person: OptionalPersonDep, state: StateDep
) -> Response:
    """The account page's "New signing secret": a new secret for the person's own saved need's
    webhook, shown this once (the old one signs nothing more); another's, or an unknown one,
    is 404 and nothing changes."""
    if person is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    store = SavedNeeds(started(state.db))
    owner = person_owner(person.id)
    saved_id = saved_id[:64]

    def rotate() -> SavedNeed | None:
        try:
            if store.get(saved_id).owner != owner:
                return None
            return store.rotate_secret(saved_id)
        except NotFoundError:
            return None

    try:
        saved = await anyio.to_thread.run_sync(rotate)
    except ValidationError as exc:  # its alerts go to an e-mail address
        return error_page(request, 422, exc.message[:1].upper() + exc.message[1:] + ".")
    if saved is None:
        return error_page(request, 404, f"You have no saved need '{saved_id}'.")
    ctx = context(
        request,
        saved=saved,
        notify_to=shown_address(saved.notify_to),  # masked: the owner did not just type it
        webhook_secret=saved.new_webhook_secret,
    )
    page = templates.TemplateResponse(request, "webhook_secret.html", ctx)
    page.headers["Cache-Control"] = "no-store"
    return page
