"""Rate-limit buckets in the database (MATCHER_API_RATE_LIMIT_STORE=database): two processes
(two Database objects, two apps) spend one budget, and concurrent requests never take more
tokens than the bucket holds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from api_support import quiet_api_settings
from fastapi.testclient import TestClient
from support_databases import database_for

from api.main import create_app
from api.ratelimit_shared import SqlTokenBucketLimiter
from matcher.engine import Engine
from matcher.store import Database

KINDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("kind", KINDS)
def test_two_processes_share_one_bucket(kind: str, tmp_path: Path) -> None:
    with database_for(kind, tmp_path) as db:
        other = Database(db.url)  # a second process's connection pool
        try:
            a = SqlTokenBucketLimiter(db, 1 / 60, 3, scope="key")
            b = SqlTokenBucketLimiter(other, 1 / 60, 3, scope="key")
            t = 1_000_000.0
            assert a.acquire("k1", now=t) == 0.0
            assert a.acquire("k1", now=t) == 0.0
            assert b.acquire("k1", now=t) == 0.0
            wait = b.acquire("k1", now=t)
            assert wait == pytest.approx(60.0)  # one token a minute, none left
            assert a.acquire("k1", now=t + 30) == pytest.approx(30.0)
            assert a.acquire("k1", now=t + 61) == 0.0  # refilled one
            assert b.acquire("k2", now=t) == 0.0  # another key: its own bucket
        finally:
            other.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_requests_take_no_more_than_the_bucket_holds(kind: str, tmp_path: Path) -> None:
    with database_for(kind, tmp_path) as db:
        limiter = SqlTokenBucketLimiter(db, 1e-6, 20, scope="key")
        allowed: list[int] = []
        lock = threading.Lock()

        def spend() -> None:
            for _ in range(10):
                if limiter.acquire("busy") == 0.0:
                    with lock:
                        allowed.append(1)

        threads = [threading.Thread(target=spend) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(allowed) == 20  # 80 attempts, a burst of 20


def test_two_apps_on_one_database_share_the_anonymous_limit(engine: Engine) -> None:
    settings = quiet_api_settings(
        rate_limit_enabled=True,
        rate_limit_store="database",
        anonymous_burst=3,
        anonymous_per_minute=1,
        follow_changes=False,
    )
    first = create_app(engine.settings, settings, engine=engine)
    second = create_app(engine.settings, settings, engine=engine)
    with TestClient(first) as one, TestClient(second) as two:
        assert [one.get("/v1/organisations").status_code for _ in range(2)] == [200, 200]
        assert two.get("/v1/organisations").status_code == 200
        r = two.get("/v1/organisations")
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert one.get("/v1/organisations").status_code == 429
