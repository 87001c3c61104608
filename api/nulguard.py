"""Refuse NUL characters in the URL (path or query) with 422, before any route runs.

PostgreSQL cannot compare or store text holding NUL; SQLite would just miss. Answering 422
here keeps both backends the same and keeps such requests away from the database. Bodies
are checked by the input models (api.schemas.InputModel).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import FieldError, problem_response

MESSAGE = "must not contain NUL (\\x00) characters"


def nul_fields(scope: Scope) -> list[FieldError]:
    errors: list[FieldError] = []
    if "\x00" in scope.get("path", ""):
        errors.append(
            FieldError(field="path", location="path", message=MESSAGE, type="value_error")
        )
    raw: bytes = scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        query = raw.decode("latin-1")
        names = [k for k, v in parse_qsl(query, keep_blank_values=True) if "\x00" in k + v]
        for name in dict.fromkeys(names) or ["query"]:
            field = name.replace("\x00", "\\x00")
            errors.append(
                FieldError(field=field, location="query", message=MESSAGE, type="value_error")
            )
    return errors


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            errors = nul_fields(scope)
            if errors:
                first = errors[0]
                detail = f"{first.field}: {MESSAGE}"
                response = problem_response(Request(scope), 422, detail, errors=errors)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
