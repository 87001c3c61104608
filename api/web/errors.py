"""Errors of the page routes as readable HTML pages; the API routes keep problem+json.

A problem+json response on a page route (from a route, a dependency such as the rate limit,
or a middleware such as the body-size limit) is rendered as `error.html` with the same status
and Retry-After. Unexpected exceptions (500) are answered by Starlette's outermost error
middleware, so the `Exception` handler is wrapped as well.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_MEDIA_TYPE
from api.web.render import context, templates

# Paths that belong to the API (or its docs, health and assets), never to the page.
API_PREFIXES: tuple[str, ...] = ("/v1/", "/docs", "/redoc", "/openapi.json", "/static/")
API_PREFIXES += ("/healthz", "/readyz", "/metrics")

TITLES = {
    400: "The request could not be understood",
    401: "An API key is needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not available this way",
    413: "What you sent is too large",
    422: "Something in the request is not valid",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is starting",
}
ADVICE = {
    400: "Go back to the search and try again.",
    401: "This page needs an API key; the search page works without one.",
    403: "This is not allowed for you. If a form was refused, reload its page and try again.",
    404: "Check the link, or start a new search.",
    405: "Start from the search page.",
    413: "Shorten the description of the need and try again.",
    422: "Go back, correct what is named above and try again.",
    429: "Wait a moment before trying again: each connection may make a limited number of "
    "requests per minute.",
    500: "The error has been logged. Please try again in a moment; if it keeps happening, "
    "tell the people who run this service.",
    503: "The matching model and index are still loading. Try again in a few seconds.",
}


def is_page(scope: Scope) -> bool:
    """A request for the web page (HTML), not for the API: by path, then by Accept."""
    path: str = scope.get("path", "")
    if path == "/v1" or path.startswith(API_PREFIXES):
        return False
    accept = ""
    for key, value in scope.get("headers", []):
        if key == b"accept":
            accept = value.decode("latin-1").lower()
    if "text/html" in accept:
        return True
    return "json" not in accept


def error_page(
    request: Request,
    status: int,
    message: str | None = None,
    *,
    errors: list[str] | None = None,
    retry_after: str | None = None,
) -> HTMLResponse:
    advice = ADVICE.get(status, "Go back to the search and try again.")
    if status == 429 and retry_after:
        unit = "second" if retry_after.strip() == "1" else "seconds"  # not "Wait 1 seconds"
        advice = f"Wait {retry_after} {unit}, then try again."
    ctx = context(
        request,
        status=status,
        title=TITLES.get(status, "Something went wrong"),
        message=message,
        errors=errors or [],
        advice=advice,
    )
    headers = {"Retry-After": retry_after} if retry_after else None
    return templates.TemplateResponse(request, "error.html", ctx, status, headers=headers)


def _from_problem(request: Request, status: int, body: bytes, retry_after: str | None) -> Response:
    try:
        doc: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        doc = {}
    errors = [
        f"{e.get('field', '')}: {e.get('message', '')}".strip(": ")
        for e in doc.get("errors") or []
        if isinstance(e, dict)
    ]
    detail = doc.get("detail") if isinstance(doc.get("detail"), str) else None
    if errors and detail and detail.startswith(errors[0]):
        detail = None  # the summary only repeats the first field error
    if status == 503 and detail and "loading" in detail:
        # "the model and index are still loading", then the advice said it again
        detail = None
    if status == 429:
        # the API's "retry after the number of seconds in Retry-After" is no words for a
        # person (helper-74's walk); the advice says how long to wait
        detail = None
    return error_page(request, status, detail, errors=errors, retry_after=retry_after)


class PageErrorsMiddleware:
    """Turn problem+json answers to page requests into readable HTML pages."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(PROBLEM_MEDIA_TYPE.encode()):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                headers = dict(start.get("headers", []))
                retry = headers.get(b"retry-after")
                page = _from_problem(
                    Request(scope),
                    int(start["status"]),
                    b"".join(chunks),
                    retry.decode("latin-1") if retry else None,
                )
                await page(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, wrapper)


def install_page_errors(app: FastAPI) -> None:
    """Call after `install_problem_handlers`; add `PageErrorsMiddleware` in main.py."""
    original = app.exception_handlers.get(Exception)

    async def unexpected(request: Request, exc: Exception) -> Response:
        response: Response
        if original is not None:
            handled = original(request, exc)
            response = await handled if isinstance(handled, Awaitable) else handled
        else:  # pragma: no cover - problems.py always installs one
            response = Response(status_code=500)
        if is_page(request.scope):
            return _from_problem(request, response.status_code, bytes(response.body), None)
        return response

    handler: Callable[[Request, Exception], Awaitable[Response]] = unexpected
    app.add_exception_handler(Exception, handler)
