"""Token buckets per key and per anonymous client IP: 429 with Retry-After."""

from __future__ import annotations

import pytest
from api_support import hdr, quiet_api_settings
from fastapi.testclient import TestClient

from api.main import create_app
from api.ratelimit import TokenBucketLimiter
from matcher.engine import Engine


def test_bucket_refills_over_time() -> None:
    bucket = TokenBucketLimiter(rate_per_second=2.0, capacity=2)
    assert bucket.acquire("a", now=0.0) == 0.0
    assert bucket.acquire("a", now=0.0) == 0.0
    wait = bucket.acquire("a", now=0.0)
    assert 0.4 < wait <= 0.5
    assert bucket.acquire("b", now=0.0) == 0.0  # separate caller, separate bucket
    assert bucket.acquire("a", now=0.6) == 0.0


def test_429_with_retry_after(engine: Engine) -> None:
    settings = quiet_api_settings(
        rate_limit_enabled=True,
        anonymous_per_minute=6,
        anonymous_burst=3,
        key_per_minute=6,
        key_burst=2,
    )
    app = create_app(engine.settings, settings, engine=engine)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/v1/organisations?page_size=1").status_code == 200
        r = client.get("/v1/organisations?page_size=1")
        assert r.status_code == 429
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/rate-limited")
        assert 1 <= int(r.headers["retry-after"]) <= 10
        assert client.get("/healthz").status_code == 200  # health is never limited
        key = app.state.api.keys.create("limited", "reader")[0]
        assert client.get("/v1/organisations?page_size=1", headers=hdr(key)).status_code == 200
        assert client.get("/v1/organisations?page_size=1", headers=hdr(key)).status_code == 200
        assert client.get("/v1/organisations?page_size=1", headers=hdr(key)).status_code == 429


def test_rotating_x_forwarded_for_does_not_escape_the_anonymous_limit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Served as `make run` serves it: X-Forwarded-For from 127.0.0.1 is not believed."""
    import httpx
    from api_support import live_server

    limits = {"MATCHER_API_ANONYMOUS_PER_MINUTE": "1", "MATCHER_API_ANONYMOUS_BURST": "3"}
    with live_server(tmp_path_factory.mktemp("xff"), env_overrides=limits) as srv:
        codes = [
            httpx.get(
                srv.base_url + "/v1/organisations?page_size=1",
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
                timeout=10,
            ).status_code
            for i in range(6)
        ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429, 429], codes
