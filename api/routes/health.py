"""/healthz (alive), /readyz (model and index loaded; the model registry's sync state),
/metrics (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.schemas import Health, Readiness, RegistryStatus

router = APIRouter(tags=["health"])

_METRICS_EXAMPLE = (
    "# TYPE http_requests_total counter\n"
    'http_requests_total{method="POST",route="/v1/recommendations",status="200"} 42.0\n'
    "matcher_index_organisations 1260.0\n"
)


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The model and index are loaded (503 until then); the registry's sync state",
    responses={503: {"model": Readiness, "description": "Still loading, or failed to load"}},
)
def readyz(state: StateDep) -> Response:
    stats = state.engine_stats()
    registry = RegistryStatus(**state.registry_status())
    if stats is None:
        body = Readiness(
            status="failed" if state.load_error else "loading",
            ready=False,
            detail=state.load_error,
            registry=registry,
        )
        return JSONResponse(
            body.model_dump(mode="json"), status_code=503, headers={"Retry-After": "5"}
        )
    body = Readiness(
        status="ready",
        ready=True,
        model_version=str(stats.get("model_version") or stats.get("model")),
        index_generation=int(stats.get("generation") or 0),
        organisations=int(stats.get("organisations") or 0),
        registry=registry,
    )
    return JSONResponse(body.model_dump(mode="json"))


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests and latency per route, index size, model version",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}, "example": _METRICS_EXAMPLE}}
        }
    },
)
def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
