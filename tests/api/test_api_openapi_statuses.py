"""The OpenAPI document names every status a route answers, and a 405 lists every method the
path takes (issue 9: schemathesis found an undocumented 400 and wrong `Allow` headers)."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def _spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _body_operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path with its parameters filled in, content type) of operations taking a body."""
    out = []
    for path, ops in _spec(app)["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            for ctype in content:
                out.append((method, path.replace("{", "x").replace("}", ""), ctype))
    return out


def _documented(app: FastAPI, method: str, concrete: str) -> set[int]:
    for path, ops in _spec(app)["paths"].items():
        if path.replace("{", "x").replace("}", "") == concrete and method in ops:
            return {int(s) for s in ops[method]["responses"] if s.isdigit()}
    raise AssertionError(f"{method} {concrete} not documented")


def test_every_body_operation_is_found(app: FastAPI) -> None:
    ops = {(m, p) for m, p, _ in _body_operations(app)}
    assert ("post", "/v1/organisations") in ops
    assert ("patch", "/v1/organisations/xorg_id") in ops
    assert ("post", "/v1/analyst/ingest") in ops
    assert len(ops) >= 8


def test_an_unparseable_body_answers_a_documented_400(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    seen = []
    for method, path, ctype in _body_operations(app):
        if ctype.startswith("multipart/"):
            headers = hdr(keys["admin"], **{"Content-Type": "multipart/form-data; boundary=zz"})
            content = b"--zz\r\nTrue--zz--\r\n"
        else:
            headers = hdr(keys["admin"], **{"Content-Type": ctype, "If-Match": '"1"'})
            content = b"\xff\xfe{"
        r = client.request(method.upper(), path, content=content, headers=headers)
        assert r.status_code < 500, (method, path, r.text)
        assert r.status_code in _documented(app, method, path), (method, path, r.status_code)
        seen.append(r.status_code)
    assert 400 in seen


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/organisations/some-org", {"GET", "PATCH", "DELETE"}),
        ("OPTIONS", "/v1/organisations/some-org", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/v1/organisations", {"GET", "POST"}),
        ("OPTIONS", "/v1/needs", {"GET", "POST"}),
        ("PUT", "/v1/needs/need-1", {"GET", "DELETE"}),
        ("DELETE", "/v1/keys", {"GET", "POST"}),
        ("OPTIONS", "/v1/feedback", {"GET", "POST"}),
    ],
)
def test_405_allow_lists_every_method_of_the_path(
    client: TestClient, keys: dict[str, str], method: str, path: str, allow: set[str]
) -> None:
    r = client.request(method, path, headers=hdr(keys["admin"]))
    assert r.status_code == 405, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {m.strip() for m in r.headers["allow"].split(",")} == allow


def test_allow_matches_the_documented_methods(app: FastAPI, client: TestClient) -> None:
    """For every documented path, a method it does not take answers 405 naming exactly the
    documented ones."""
    for path, ops in _spec(app)["paths"].items():
        documented = {m.upper() for m in ops if m in HTTP_METHODS}
        unused = sorted({"PUT", "PATCH", "DELETE", "POST"} - documented)
        if not unused:
            continue
        concrete = path.replace("{", "x").replace("}", "")
        r = client.request(unused[0], concrete)
        assert r.status_code == 405, (path, r.status_code)
        advertised = {m.strip() for m in r.headers["allow"].split(",")}
        assert advertised == documented, (path, advertised, documented)
