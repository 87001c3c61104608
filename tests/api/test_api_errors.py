"""Errors are application/problem+json with a stable type, field paths, and no stack trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import check_nul_rejected, hdr, make_settings, quiet_api_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_engine
from api.main import create_app
from api.problems import PROBLEM_BASE
from matcher.engine import Engine


def _is_problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status and body["title"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body  # type: ignore[no-any-return]


def test_validation_error_has_field_paths(client: TestClient, keys: dict[str, str]) -> None:
    body = {"text": "food", "filters": {"sizes": ["huge"]}, "limit": 0}
    r = client.post("/v1/recommendations", json=body, headers=hdr(keys["reader"]))
    problem = _is_problem(r, 422, "validation-error")
    fields = {e["field"] for e in problem["errors"]}
    assert {"filters.sizes.0", "limit"} <= fields
    assert all(e["location"] == "body" for e in problem["errors"])
    assert problem["instance"] == "/v1/recommendations"


def test_domain_rule_violation_is_422(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post(
        "/v1/recommendations",
        json={"text": "food bank", "radius_km": 5},
        headers=hdr(keys["reader"]),
    )
    _is_problem(r, 422, "validation-error")
    r = client.post(
        "/v1/recommendations", json={"text": "food bank", "lat": 10}, headers=hdr(keys["reader"])
    )
    _is_problem(r, 422, "validation-error")


def test_nul_characters_are_422_problems(client: TestClient, keys: dict[str, str]) -> None:
    check_nul_rejected(client, keys["admin"])


def test_malformed_json_and_unknown_routes(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post(
        "/v1/recommendations",
        content=b"{not json",
        headers=hdr(keys["reader"], **{"Content-Type": "application/json"}),
    )
    _is_problem(r, 422, "validation-error")
    _is_problem(client.get("/v1/nothing-here"), 404, "not-found")
    _is_problem(client.put("/v1/recommendations"), 405, "method-not-allowed")
    _is_problem(client.get("/v1/organisations/does-not-exist"), 404, "not-found")


def test_body_size_limit_is_413(client: TestClient, keys: dict[str, str]) -> None:
    big = {"text": "x" * 300_000}
    r = client.post("/v1/recommendations", json=big, headers=hdr(keys["reader"]))
    _is_problem(r, 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: streamed body
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 10_000
        yield b'"}'

    r = client.post(
        "/v1/recommendations",
        content=chunks(),
        headers=hdr(keys["reader"], **{"Content-Type": "application/json"}),
    )
    _is_problem(r, 413, "payload-too-large")


@pytest.fixture()
def broken_app(engine: Engine) -> Iterator[TestClient]:
    class Exploding:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("secret internal detail /etc/passwd")

    app: FastAPI = create_app(engine.settings, quiet_api_settings(), engine=engine)
    app.dependency_overrides[get_engine] = lambda: Exploding()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_unexpected_error_is_500_without_details(broken_app: TestClient) -> None:
    r = broken_app.get("/v1/organisations/org-00001")
    body = _is_problem(r, 500, "internal-error")
    assert "secret internal detail" not in r.text and "RuntimeError" not in r.text
    assert body["detail"]


def test_not_ready_is_503(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), quiet_api_settings())
    client = TestClient(app)  # used without `with`: no lifespan, so nothing is loaded
    r = client.get("/v1/organisations")
    problem = _is_problem(r, 503, "not-ready")
    assert r.headers["retry-after"]
    assert problem["detail"]
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["ready"] is False
    assert client.get("/healthz").status_code == 200


def test_a_full_disk_is_507_saying_so_not_retry_shortly(engine: Engine) -> None:
    """A write refused for want of space (matcher.errors.DiskFullError) was answered 503 "retry
    shortly" with Retry-After: 5, as if a retry could succeed before an operator frees space."""
    from matcher.errors import DiskFullError

    class FullDisk:
        def __getattr__(self, name: str) -> object:
            raise DiskFullError("the disk is full: the database could not be written")

    app: FastAPI = create_app(engine.settings, quiet_api_settings(), engine=engine)
    app.dependency_overrides[get_engine] = lambda: FullDisk()
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/v1/organisations/org-00001")
    body = _is_problem(r, 507, "storage-full")
    assert "storage is full" in body["detail"] and "retry-after" not in r.headers
