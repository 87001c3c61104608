"""Page routes answer errors with readable HTML pages; /v1 keeps problem+json. /docs offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import hdr, quiet_api_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.engine import Engine

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _is_page(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "Back to the search" in r.text and 'role="alert"' in r.text
    assert '"type":' not in r.text  # not a problem document pasted into a page
    return r.text


def _is_problem(r: Any, status: int) -> None:
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status


def test_404_page_and_problem(client: TestClient) -> None:
    html = _is_page(client.get("/no-such-page", headers=HTML), 404)
    assert "Not found" in html and "Check the link" in html
    _is_page(client.get("/no-such-page"), 404)  # a browser-like default Accept: */*
    _is_problem(client.get("/v1/no-such-thing", headers=HTML), 404)
    _is_problem(client.get("/no-such-page", headers={"Accept": "application/json"}), 404)


def test_422_page_names_the_field(client: TestClient) -> None:
    html = _is_page(
        client.post("/feedback", data={"recommendation_id": "r", "organisation_id": "o"}), 422
    )
    assert "outcome" in html and "correct" in html
    html = _is_page(client.get("/r/rec_x?marked=a&outcome=loved_it", headers=HTML), 422)
    assert "outcome" in html
    _is_problem(client.post("/v1/recommendations", json={"text": "x"}), 401)
    r = client.post("/feedback", data={"recommendation_id": "r\x00", "organisation_id": "o"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")


def test_413_page(client: TestClient) -> None:
    big = {"text": "food " * 60_000}
    html = _is_page(client.post("/", data=big), 413)
    assert "Shorten" in html


def test_429_page_with_retry_after(engine: Engine) -> None:
    settings = quiet_api_settings(
        rate_limit_enabled=True, anonymous_per_minute=6, anonymous_burst=2
    )
    app = create_app(engine.settings, settings, engine=engine)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/", headers=HTML).status_code == 200
        r = client.get("/", headers=HTML)
        html = _is_page(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 10
        wait = r.headers["retry-after"]
        assert f"Wait {wait} {'second' if wait == '1' else 'seconds'}, then" in html
        # said to a person, never as the API says it (helper-74's walk: "retry after the
        # number of seconds in Retry-After")
        assert "Retry-After" not in html and "rate limit exceeded" not in html
        assert "content-security-policy" in r.headers
        _is_problem(client.get("/v1/organisations"), 429)


@pytest.fixture()
def failing_client(app: FastAPI, engine: Engine) -> Iterator[TestClient]:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("simulated failure")

    original = engine.recommend
    engine.recommend = boom  # type: ignore[method-assign]
    try:
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        engine.recommend = original  # type: ignore[method-assign]


def test_500_page_and_problem(failing_client: TestClient, keys: dict[str, str]) -> None:
    r = failing_client.post("/", data={"text": "food parcels for families"}, headers=HTML)
    html = _is_page(r, 500)
    assert "simulated failure" not in html and "logged" in html
    r = failing_client.post(
        "/v1/recommendations", json={"text": "food parcels"}, headers=hdr(keys["reader"])
    )
    _is_problem(r, 500)
    assert "simulated failure" not in r.text


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html) + re.findall(
        r'url:\s*["\']([^"\']+)["\']', html
    )


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_served_offline(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "cdn." not in r.text and "fonts.googleapis" not in r.text
    urls = _asset_urls(r.text)
    assert any(u.endswith(".js") for u in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{path} loads {url}"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert client.get("/openapi.json").json()["info"]["title"] == "Partner Matcher"


def test_a_wait_of_one_second_is_said_in_the_singular() -> None:
    """ "Wait 1 seconds" (second real data walk)."""
    from starlette.requests import Request

    from api.web.errors import error_page

    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )
    page = error_page(request, 429, retry_after="1").body.decode()
    assert "Wait 1 second, then try again." in page
    assert "Wait 5 seconds" in error_page(request, 429, retry_after="5").body.decode()
