"""Helpers for the API tests: the sample slice, seeded engines, quiet settings, headers."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.config import ApiSettings
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings
from training.serve_support import uvicorn_server

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data"
N_ORGS = 200


def sample_orgs(n: int = N_ORGS) -> list[Organisation]:
    out = []
    with (SAMPLE / "organisations.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Organisation.model_validate(json.loads(line)))
    return out


def sample_needs(n: int = 20) -> list[Need]:
    out = []
    with (SAMPLE / "needs.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Need.model_validate(json.loads(line)))
    return out


def make_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, model_name="hashing-v1")


def quiet_api_settings(**overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "rate_limit_enabled": False,
        "bootstrap_sample": False,
        "bootstrap_admin_key": False,
        "load_in_background": False,
        **overrides,
    }
    return ApiSettings.model_validate(values)


def seed(data_dir: Path) -> Engine:
    engine = Engine.open(make_settings(data_dir), load=False)
    engine.store.upsert_organisations(sample_orgs())
    engine.build()
    engine.ingest_needs(sample_needs())
    return engine


# NUL characters: (method, path, body, field named in the 422); both backends answer alike.
_NUL_ORG = {
    "name": "Harbour Co-op",
    "sector": "business",
    "description": "Cold storage and vans.",
}
NUL_BODIES: list[tuple[str, str, dict[str, object], str]] = [
    ("post", "/v1/organisations", {**_NUL_ORG, "name": "Bad\x00Name"}, "name"),
    ("post", "/v1/organisations", {**_NUL_ORG, "offers": ["ok", "vans\x00"]}, "offers"),
    ("post", "/v1/recommendations", {"text": "food for\x00 elders"}, "text"),
    (
        "post",
        "/v1/recommendations",
        {"text": "food", "filters": {"region": "O\x00"}},
        "filters.region",
    ),
    ("post", "/v1/needs", {"text": "food", "city": "Port\x00land"}, "city"),
    (
        "post",
        "/v1/feedback",
        {"recommendation_id": "r\x00", "organisation_id": "a", "outcome": "viewed"},
        "recommendation_id",
    ),
    ("post", "/v1/keys", {"name": "k\x00", "role": "reader"}, "name"),
]
NUL_URLS = [
    ("/v1/organisations?region=Ore%00gon", "region"),
    ("/v1/organisations/abc%00def", "path"),
    ("/v1/needs/abc%00def/recommendations", "path"),
]


def check_nul_rejected(client: object, key: str) -> None:
    """Every NUL case is a 422 problem naming its field; nothing reaches the database."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    for method, path, body, field in NUL_BODIES:
        r = client.request(method, path, json=body, headers=hdr(key))
        assert r.status_code == 422, (path, body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, (field, r.text)
    for url, field in NUL_URLS:
        r = client.get(url, headers=hdr(key))
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, (field, r.text)
    # the page's forms: an error page, never a 5xx
    r = client.post(
        "/feedback",
        data={"recommendation_id": "r\x00", "organisation_id": "a", "outcome": "viewed"},
    )
    assert r.status_code == 422, r.text
    r = client.post("/", data={"text": "food for\x00 elders"})
    assert r.status_code == 422, r.text


def hdr(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    admin_key: str
    process: subprocess.Popen[bytes]
    log_path: Path


# what a live test server runs with: the model-free embedder, no sample, no rate limits to hit
SERVER_ENV = {
    "MATCHER_MODEL_NAME": "hashing-v1",
    "MATCHER_API_BOOTSTRAP_SAMPLE": "false",
    "MATCHER_API_KEY_PER_MINUTE": "100000",
    "MATCHER_API_KEY_BURST": "10000",
    "MATCHER_API_ANONYMOUS_PER_MINUTE": "100000",
    "MATCHER_API_ANONYMOUS_BURST": "10000",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


@contextmanager
def live_server(
    data_dir: Path,
    *,
    timeout: float = 90.0,
    env_overrides: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """uvicorn as a real process on a free 127.0.0.1 port (or `port`, when its URL must be
    known first, e.g. for MATCHER_API_PUBLIC_URL), serving a seeded data dir, started as `make
    run` starts it (no proxy trusted for X-Forwarded-For)."""
    seed(data_dir).close()
    env = {
        **os.environ,
        "MATCHER_DATA_DIR": str(data_dir),
        **SERVER_ENV,
        **(env_overrides or {}),
    }
    log_path = data_dir / "uvicorn.log"
    args = ("--no-access-log", "--no-proxy-headers")  # as `make run` without FORWARDED_ALLOW_IPS
    with uvicorn_server(
        env, log_path=log_path, port=port, args=args, timeout=timeout, poll_seconds=0.2
    ) as server:
        admin_key = (data_dir / "admin-key.txt").read_text().strip()
        yield LiveServer(server.base_url, data_dir, admin_key, server.process, log_path)


def until(check: Callable[[], object], timeout: float) -> float:
    """Seconds until `check()` is true; fails the test after `timeout`."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.01)
    return time.perf_counter() - start
