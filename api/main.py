"""The FastAPI app: `create_app(settings)` builds it; `app` is what `uvicorn api.main:app` serves.

Nothing heavy happens at import: the model and the indexes load in the lifespan.

`uvicorn --workers N` (or N processes on machines sharing one PostgreSQL database) start N
copies that agree: each loads its own engine (N times the memory) and follows the change log
(matcher.replica), so a write made through one reaches every other's index, key cache and
published model within `follow_interval_ms` (a NOTIFY wakes followers at once on PostgreSQL).
A write answers `X-Change-Seq`; a read with `min_seq` waits until its process has applied it.
Rate-limit buckets are per process (a key's limit N times higher) unless
MATCHER_API_RATE_LIMIT_STORE=database; training jobs run in the serving process unless
MATCHER_API_TRAIN_JOBS=database (then `matcher worker` runs them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.bodylimit import BodySizeLimitMiddleware
from api.config import ApiSettings
from api.metrics import MetricsMiddleware
from api.nulguard import NulGuardMiddleware
from api.problems import install_problem_handlers, problem_component_schemas
from api.query_params import known_query_params
from api.replication import ChangeSeqMiddleware
from api.routes import (
    account_pages,
    accounts,
    aligned_pages,
    analyst,
    analytics,
    analytics_pages,
    claims,
    feedback,
    find_pages,
    group_pages,
    groups,
    health,
    introduction_pages,
    introductions,
    keys,
    needs,
    organisations,
    partnership_pages,
    partnership_records,
    places,
    recommendations,
    report_pages,
    reports,
    saved_needs,
    saved_web,
    web,
)
from api.sessions import LazySessionMiddleware, session_options, session_secret
from api.state import AppState
from api.web.errors import PageErrorsMiddleware, install_page_errors
from matcher.settings import Settings

if TYPE_CHECKING:
    from matcher.embedding.base import Embedder
    from matcher.engine import Engine

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
# Swagger UI and ReDoc assets, served from the installed `fastapi-offline` package (no CDN).
DOCS_ASSETS = "/docs/assets"
API_VERSION = "1.0.0"
DESCRIPTION = """
Recommends complementary business, government and nonprofit/community partners for a
community need, with reasons, a suggested cross-sector coalition and the gaps no one covers.

Send an API key in the `X-API-Key` header. Roles: `reader` (recommend, read public profiles),
`editor` (+ manage the organisations and needs it owns), `analyst` (+ see contacts and
unpublished profiles, export feedback), `admin` (+ everything, API keys). Without a key only
the public read routes and the web page work, with a lower rate limit.

Errors are `application/problem+json` (RFC 9457) with a stable `type` URI.

Several processes serve one database and agree: a write answers `X-Change-Seq`; a request
with `min_seq` (query) or `X-Min-Seq` (header) waits until the process serving it has applied
that change (503 with Retry-After if it has not within a couple of seconds).
"""
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_HTML_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    """nosniff, referrer and framing headers on every response; a CSP on the web page."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        is_docs = path in ("/docs", "/redoc") or path.startswith("/docs/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                ctype = next((v for k, v in headers if k == b"content-type"), b"")
                if ctype.startswith(b"text/html") and not is_docs:
                    headers.append((b"content-security-policy", _HTML_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _custom_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(problem_component_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(
    settings: Settings | None = None,
    api_settings: ApiSettings | None = None,
    *,
    engine: Engine | None = None,
    embedder: Embedder | None = None,
) -> FastAPI:
    """Build the app. Pass `engine` to serve an already opened engine (tests); otherwise the
    lifespan opens one from `settings` (bootstrapping the sample corpus on an empty database)."""
    settings = settings or Settings()
    api_settings = api_settings or ApiSettings()
    state = AppState(settings, api_settings, engine=engine, embedder=embedder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPIOffline(
        dependencies=[Depends(known_query_params)],
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
        title="Partner Matcher",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "recommendations", "description": "Partners and a coalition for a need"},
            {"name": "organisations", "description": "Profiles, matches and opportunities"},
            {"name": "needs", "description": "Community needs"},
            {"name": "saved needs", "description": "Saved needs and their alerts"},
            {"name": "feedback", "description": "Outcomes, stored for training"},
            {"name": "keys", "description": "API keys (admins)"},
            {"name": "accounts", "description": "People: sign-up, sessions, organisation claims"},
            {
                "name": "introductions",
                "description": "Introductions with consent between organisations, and threads",
            },
            {"name": "analyst", "description": "Ingest, retraining and model publishing"},
            {"name": "health", "description": "Liveness, readiness, metrics"},
            {"name": "places", "description": "Place-name suggestions (offline gazetteer)"},
        ],
    )
    app.state.api = state
    install_problem_handlers(app)
    install_page_errors(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=api_settings.max_body_bytes)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(PageErrorsMiddleware)  # page routes: problems as readable HTML pages
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(ChangeSeqMiddleware, state=state)
    app.add_middleware(
        LazySessionMiddleware,
        secret=lambda: session_secret(api_settings, settings.data_dir),
        options=session_options(api_settings),
    )
    routers = (
        recommendations,
        organisations,
        needs,
        saved_needs,
        saved_web,
        places,
        feedback,
        analyst,
        reports,
        report_pages,
        analytics,
        analytics_pages,
        keys,
        health,
        web,
        accounts,
        claims,
        account_pages,
        partnership_records,
        partnership_pages,
        introductions,
        introduction_pages,
        aligned_pages,
        find_pages,
        groups,
        group_pages,
    )
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = _custom_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
