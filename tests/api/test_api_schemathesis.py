"""Property-based API checks against the OpenAPI schema: no 5xx, no schema violations.

Bounded: at most 20 generated examples per operation, on the model-free hashing embedder and a
dedicated app (its writes do not leak into other tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import quiet_api_settings, seed
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from api.keys import KeyRing
from api.main import create_app
from api.security import Role
from matcher.engine import Engine
from matcher.settings import Settings


@pytest.fixture(scope="module")
def st_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = seed(tmp_path_factory.mktemp("schemathesis"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def st_admin_key(st_engine: Engine) -> str:
    return KeyRing(st_engine.store.db).create("schemathesis", Role.admin)[0]


@pytest.fixture(scope="module")
def st_app(st_engine: Engine, st_admin_key: str) -> FastAPI:
    return create_app(st_engine.settings, quiet_api_settings(), engine=st_engine)


@pytest.fixture(scope="module")
def st_schema(st_app: FastAPI) -> Any:
    # 412 is the right answer to a schema-valid but stale If-Match.
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
    config = SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": accepted}}}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", st_app, config=config)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from the app without starting it."""
    spec = create_app(Settings(data_dir=Path("/nonexistent"), model_name="hashing-v1")).openapi()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def _no_free_place_names(case: Any) -> bool:
    """Place and country names are checked against the offline gazetteer, which no schema can
    list: a generated `place` (or `city` with `radius_km`: its point is looked up), or a
    country that is not a 2-3 letter code, is left out (an unknown one is a 422 naming it,
    tested in test_api_places)."""
    body = case.body if isinstance(case.body, dict) else {}
    filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
    query = case.query if isinstance(case.query, dict) else {}
    if body.get("place") is not None:
        return False
    if body.get("city") is not None and body.get("radius_km") is not None:
        return False  # the city is resolved as a place is, for a point to measure from
    for value in (body.get("country"), filters.get("country"), query.get("country")):
        if isinstance(value, str) and not (len(value) in (2, 3) and value.isalpha()):
            return False
    return True


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_conforms_to_its_schema(
    method: str, path: str, st_schema: Any, st_admin_key: str
) -> None:
    operation = st_schema[path][method]

    @given(case=operation.as_strategy().filter(_no_free_place_names))
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers={"X-API-Key": st_admin_key})

    check()
