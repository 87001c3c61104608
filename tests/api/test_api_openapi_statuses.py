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


ORG = {"name": "Flag Co", "sector": "business", "description": "Checks its flags."}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/organisations", {**ORG, "published": 0}, "published"),
        ("POST", "/v1/organisations", {**ORG, "published": "false"}, "published"),
        ("POST", "/v1/analyst/train", {"resume": 0}, "resume"),
        ("POST", "/v1/analyst/train", {"feedback": "no"}, "feedback"),
        ("POST", "/v1/analyst/train", {"min_pairs": True}, "min_pairs"),
        ("POST", "/v1/analyst/train", {"seed": "3"}, "seed"),
    ],
)
def test_flags_are_json_booleans_and_counts_json_numbers(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    """schemathesis: `published: 0` was stored as unpublished, `resume: 0` started a fit."""
    r = client.request(method, path, json=body, headers=hdr(keys["admin"]))
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.text


def test_patch_published_must_be_a_boolean(client: TestClient, keys: dict[str, str]) -> None:
    made = client.post("/v1/organisations", json=ORG, headers=hdr(keys["admin"]))
    assert made.status_code == 201, made.text
    url = f"/v1/organisations/{made.json()['id']}"
    r = client.patch(url, json={"published": 0}, headers=hdr(keys["admin"], **{"If-Match": '"1"'}))
    assert r.status_code == 422, r.text
    assert client.get(url, headers=hdr(keys["admin"])).json()["published"] is True
    r = client.patch(
        url, json={"published": False}, headers=hdr(keys["admin"], **{"If-Match": '"1"'})
    )
    assert r.status_code == 200 and r.json()["published"] is False, r.text


@pytest.mark.parametrize(("name", "value"), [("ownership", "0"), ("dry_run", "yes")])
def test_upload_form_flags_are_true_or_false(
    client: TestClient, keys: dict[str, str], name: str, value: str
) -> None:
    csv = "id,name,sector,description\nflag-1,Flag,business,Flag.\n"
    form = {"dry_run": "true", name: value}
    r = client.post(
        "/v1/analyst/ingest",
        files={"file": ("f.csv", csv.encode())},
        data=form,
        headers=hdr(keys["admin"]),
    )
    assert r.status_code == 422, r.text
    assert name in {e["field"] for e in r.json()["errors"]}, r.text
    ok = client.post(
        "/v1/analyst/ingest",
        files={"file": ("f.csv", csv.encode())},
        data={"dry_run": "TRUE", "ownership": "false"},
        headers=hdr(keys["admin"]),
    )
    assert ok.status_code == 200 and ok.json()["dry_run"] is True, ok.text


def test_phrase_length_is_measured_before_whitespace_is_stripped(
    client: TestClient, keys: dict[str, str]
) -> None:
    """schemathesis: a 201-character focus area with a leading space was accepted (maxLength
    200 in the schema, checked after stripping)."""
    body = {**ORG, "focus_areas": [" " + "x" * 200]}
    r = client.post("/v1/organisations", json=body, headers=hdr(keys["admin"]))
    assert r.status_code == 422, r.text
    assert any(e["field"].startswith("focus_areas") for e in r.json()["errors"]), r.text
    ok = client.post(
        "/v1/organisations",
        json={**ORG, "focus_areas": [" " + "x" * 199]},
        headers=hdr(keys["admin"]),
    )
    assert ok.status_code == 201 and ok.json()["focus_areas"] == ["x" * 199], ok.text


@pytest.mark.parametrize(
    ("path", "body", "field", "limit"),
    [
        ("/v1/organisations", ORG, "name", 300),
        ("/v1/organisations", ORG, "description", 20_000),
        ("/v1/organisations", ORG, "city", 200),
        ("/v1/organisations", ORG, "region", 200),
        ("/v1/organisations", ORG, "postcode", 32),
        ("/v1/organisations", ORG, "website", 500),
        ("/v1/organisations", ORG, "contact", 500),
        ("/v1/needs", {"text": "Families need fresh food"}, "text", 5_000),
        ("/v1/needs", {"text": "Families need fresh food"}, "title", 300),
        ("/v1/recommendations", {"text": "Families need fresh food"}, "text", 5_000),
        ("/v1/recommendations", {"text": "Families need fresh food"}, "place", 200),
    ],
)
def test_every_text_limit_is_measured_before_whitespace_is_stripped(
    client: TestClient,
    keys: dict[str, str],
    path: str,
    body: dict[str, object],
    field: str,
    limit: int,
) -> None:
    """Issue 9: a text one character over its limit once its leading space is counted is 422
    naming the field, on every text field of the request bodies (not only the phrases)."""
    over = {**body, field: " " + "x" * limit}
    r = client.post(path, json=over, headers=hdr(keys["admin"]))
    assert r.status_code == 422, r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.text
    assert f"at most {limit} characters" in r.text
