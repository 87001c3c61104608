"""Errors as RFC 9457 `application/problem+json` with stable `type` URIs; never a stack trace."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from matcher import errors as engine_errors

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# openapi_extra of public read routes: the key is optional (`{}` = anonymous allowed).
ANONYMOUS_OK: dict[str, Any] = {"security": [{}]}
PROBLEM_BASE = "https://partner-matcher.example/problems/"

# status -> (slug, title); the slug makes the stable `type` URI.
_KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "API key missing or invalid"),
    403: ("forbidden", "Not allowed for this role"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "The resource changed: If-Match does not match its ETag"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    428: ("precondition-required", "If-Match is required: send the version you read"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("not-ready", "Service not ready"),
    507: ("storage-full", "Storage full"),
}


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `filters.sizes.0`")
    location: str = Field(description="body, query, path or header")
    message: str
    type: str


class ProblemDetail(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_BASE + "validation-error",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "1 invalid field",
                    "instance": "/v1/recommendations",
                    "errors": [
                        {
                            "field": "limit",
                            "location": "body",
                            "message": "Input should be less than or equal to 100",
                            "type": "less_than_equal",
                        }
                    ],
                }
            ]
        }
    )

    type: str = Field(description="Stable URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    candidates: list[str] | None = Field(
        None, description="For a place that is unknown or ambiguous: the places it could mean"
    )


def problem_type(status: int) -> str:
    return PROBLEM_BASE + _KINDS.get(status, ("error", "Error"))[0]


class ApiProblem(Exception):
    """Raise from routes and dependencies to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldError] | None = None,
    ):
        super().__init__(detail or _KINDS.get(status, ("", "Error"))[1])
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors else None


def problem_response(
    request: Request | None,
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] | None = None,
    candidates: Sequence[str] | None = None,
) -> JSONResponse:
    slug, title = _KINDS.get(status, ("error", "Error"))
    body = ProblemDetail(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        errors=list(errors) if errors else None,
        candidates=list(candidates) if candidates is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _loc_errors(raw: Iterable[Mapping[str, Any]], default_location: str) -> list[FieldError]:
    out = []
    for err in raw:
        loc = [str(p) for p in err.get("loc", ())]
        location = default_location
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            location, loc = loc[0], loc[1:]
        msg = str(err.get("msg", "invalid"))
        if not loc:  # a whole-model check: the field its message names ("radius_km needs ...")
            loc = [f] if (f := engine_errors.field_of_model_check(msg)) else []
        out.append(
            FieldError(
                field=".".join(loc) or location,
                location=location,
                message=engine_errors.plain_message(msg),
                type=str(err.get("type", "value_error")),
            )
        )
    return out


def _summary(errors: Sequence[FieldError]) -> str:
    n = len(errors)
    first = errors[0]
    more = f" (and {n - 1} more)" if n > 1 else ""
    return f"{first.field}: {first.message}{more}"


async def _on_api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(request, exc.status, exc.detail, headers=exc.headers, errors=exc.errors)


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _loc_errors(exc.errors(), "body")
    return problem_response(request, 422, _summary(errors) if errors else None, errors=errors)


async def _on_pydantic_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, pydantic.ValidationError)
    errors = _loc_errors(exc.errors(include_url=False, include_input=False), "body")
    return problem_response(request, 422, _summary(errors) if errors else None, errors=errors)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path, found by asking each route whether it
    fully matches the request with that method: Starlette's 405 names only the first route
    whose path matched, so `/v1/organisations/{id}` said `Allow: GET` though it takes PATCH and
    DELETE too."""
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return problem_response(request, exc.status_code, detail, headers=headers)


def engine_error_status(exc: engine_errors.MatcherError) -> int:
    if isinstance(exc, engine_errors.ValidationError):
        return 422
    if isinstance(exc, engine_errors.NotFoundError):
        return 404
    if isinstance(exc, engine_errors.ConflictError):
        return 409
    if isinstance(exc, engine_errors.AuthenticationError):
        return 401
    if isinstance(exc, engine_errors.PermissionDeniedError):
        return 403
    if isinstance(exc, engine_errors.ThrottledError):
        return 429
    if isinstance(exc, engine_errors.DiskFullError):
        return 507  # Insufficient Storage: retrying will not help until space is freed
    if isinstance(
        exc,
        engine_errors.IndexNotReadyError
        | engine_errors.StorageError
        | engine_errors.ModelLoadError
        | engine_errors.OverloadedError
        | engine_errors.ArtifactMismatchError,
    ):
        return 503
    return 400


async def _on_engine_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, engine_errors.MatcherError)
    status = engine_error_status(exc)
    if isinstance(exc, engine_errors.OverloadedError):
        return problem_response(request, 503, str(exc), headers={"Retry-After": "1"})
    if status == 507:
        logger.error("storage full on %s: %s", request.url.path, exc)
        detail = (
            "the server's storage is full: nothing of this request was stored; retrying will "
            "not help until its operator frees space"
        )
        return problem_response(request, status, detail)
    headers = {"Retry-After": "5"} if status == 503 else None
    if status == 503:
        logger.warning("engine unavailable on %s: %s", request.url.path, exc)
        detail = "the matching engine is not available right now; retry shortly"
        return problem_response(request, status, detail, headers=headers)
    if isinstance(exc, engine_errors.ThrottledError):
        retry = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return problem_response(request, status, str(exc), headers=retry)
    errors = None
    if isinstance(exc, engine_errors.ValidationError):
        field = exc.field or "body"
        errors = [FieldError(field=field, location="body", message=exc.message, type="value_error")]
    candidates = exc.candidates if isinstance(exc, engine_errors.PlaceError) else None
    return problem_response(request, status, str(exc), errors=errors, candidates=candidates)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, "An unexpected error occurred; it has been logged.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _on_api_problem)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(pydantic.ValidationError, _on_pydantic_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(engine_errors.MatcherError, _on_engine_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries (schema and an example) for the given problem statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        slug, title = _KINDS[status]
        example: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
        headers: dict[str, Any] = {}
        if status in (429, 503):
            headers["Retry-After"] = {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        out[status] = {
            "description": title,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/ProblemDetail"},
                    "example": example,
                }
            },
        }
        if headers:
            out[status]["headers"] = headers
    return out


def problem_component_schemas() -> dict[str, Any]:
    """ProblemDetail and FieldError as OpenAPI component schemas (merged in by main.py)."""
    schema = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"ProblemDetail": schema, **defs}
