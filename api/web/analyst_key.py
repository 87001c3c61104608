"""What the analyst pages (/analyst/analytics, /analyst/reports) share about their key: the
caller is found by api.deps.PageKeyDep (the X-API-Key header, or the key typed into the page's
form, `_analyst_key.html`); a page refuses anyone but an analyst or admin here."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.security import Principal, Role
from api.web.errors import error_page


def analyst_refusal(request: Request, who: Principal | None, page: str) -> Response | None:
    """The error page for a caller who may not see `page` ("The analytics page"): 401 without a
    valid key, 403 for a role below analyst; None for an analyst or admin."""
    if who is None or not who.authenticated:
        return error_page(request, 401, f"{page} needs a valid analyst API key.")
    if not who.at_least(Role.analyst):
        return error_page(request, 403, f"{page} needs an analyst or admin API key.")
    return None
