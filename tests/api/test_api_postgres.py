"""The API on PostgreSQL: the full flow through `create_app(Settings(database_url=...))`.

Runs when MATCHER_TEST_POSTGRES_URL is set (`bash scripts/with-postgres.sh make test`, as
.ci/run does); each test module gets its own schema (search_path in the connection URL),
dropped at the end, so concurrent runs on one server never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import (
    check_nul_rejected,
    hdr,
    make_settings,
    quiet_api_settings,
    sample_needs,
    sample_orgs,
)
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine
from matcher.settings import Settings
from tests.support_databases import pg_schema_url

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="no PostgreSQL server: set MATCHER_TEST_POSTGRES_URL "
    "(.ci/run starts one with scripts/with-postgres.sh)",
)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh schema on the test server; the URL puts it first on the search_path."""
    with pg_schema_url("api") as url:
        yield url


@pytest.fixture(scope="module")
def pg_settings(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("api-pg")
    settings = Settings(data_dir=data_dir, database_url=pg_url, model_name="hashing-v1")
    # Seed through the engine, then let the app open its own engine in the lifespan.
    engine = Engine.open(settings, load=False)
    try:
        engine.store.upsert_organisations(sample_orgs(120))
        engine.build()
        engine.ingest_needs(sample_needs(10))
    finally:
        engine.close()
    return settings


@pytest.fixture(scope="module")
def pg_client(pg_settings: Settings) -> Iterator[TestClient]:
    app = create_app(pg_settings, quiet_api_settings())
    with TestClient(app) as c:
        assert c.get("/readyz").status_code == 200
        yield c


@pytest.fixture(scope="module")
def pg_keys(pg_client: TestClient) -> dict[str, str]:
    ring: KeyRing = pg_client.app.state.api.keys  # type: ignore[attr-defined]
    return {r: ring.create(f"pg {r}", r)[0] for r in ("reader", "editor", "analyst", "admin")}


def _org(**kw: Any) -> dict[str, Any]:
    return {
        "id": f"pg-{uuid.uuid4().hex[:10]}",
        "name": "Harbour Cold Storage Co-op",
        "sector": "business",
        "description": "Refrigerated warehouse space and delivery vans for food banks.",
        "offers": ["cold storage", "delivery vans"],
        "city": "Portland",
        "country": "US",
        "lat": 45.52,
        "lon": -122.68,
        "contact": "ops@harbour.example",
        **kw,
    }


def test_settings_really_use_postgresql(pg_client: TestClient) -> None:
    db = pg_client.app.state.api.db  # type: ignore[attr-defined]
    assert db is not None and not db.is_sqlite
    assert db.engine.dialect.name == "postgresql"
    body = pg_client.get("/readyz").json()
    assert body["ready"] and body["organisations"] >= 120


def test_create_recommend_feedback_patch_delete(
    pg_client: TestClient, pg_keys: dict[str, str]
) -> None:
    c, editor = pg_client, pg_keys["editor"]
    org = _org()
    r = c.post("/v1/organisations", json=org, headers=hdr(editor))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    url = f"/v1/organisations/{org['id']}"

    need = {
        "text": "Our food bank needs cold storage and delivery vans for fresh produce.",
        "lat": 45.52,
        "lon": -122.68,
        "radius_km": 50,
        "wanted_sectors": ["business"],
        "required_capabilities": ["cold storage"],
        "limit": 20,
    }
    r = c.post("/v1/recommendations", json=need, headers=hdr(pg_keys["reader"]))
    assert r.status_code == 200, r.text
    rec = r.json()
    assert org["id"] in {m["id"] for m in rec["results"]}, "a write is visible immediately"
    assert "ops@harbour.example" not in r.text
    page = c.get(f"/r/{rec['recommendation_id']}")  # the snapshot reads back from PostgreSQL
    assert page.status_code == 200 and f'id="org-{org["id"]}"' in page.text

    fb = {
        "recommendation_id": rec["recommendation_id"],
        "organisation_id": org["id"],
        "outcome": "contacted",
        "note": "Rang them on Monday.",
    }
    r = c.post("/v1/feedback", json=fb, headers=hdr(pg_keys["reader"]))
    assert r.status_code == 201, r.text
    r = c.get("/v1/feedback", headers=hdr(pg_keys["analyst"]))
    assert r.status_code == 200
    assert any(i["organisation_id"] == org["id"] for i in r.json()["items"])
    stray = {**fb, "recommendation_id": "rec_000000000000"}
    assert c.post("/v1/feedback", json=stray, headers=hdr(pg_keys["reader"])).status_code == 404

    r = c.patch(
        url, json={"name": "Harbour Cold Chain"}, headers=hdr(editor, **{"If-Match": '"1"'})
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["name"] == "Harbour Cold Chain"
    stale = c.patch(url, json={"name": "Stale"}, headers=hdr(editor, **{"If-Match": '"1"'}))
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert c.get(url).json()["name"] == "Harbour Cold Chain"

    assert c.delete(url, headers=hdr(editor, **{"If-Match": '"1"'})).status_code == 412
    assert c.delete(url, headers=hdr(editor, **{"If-Match": '"2"'})).status_code == 204
    assert c.get(url).status_code == 404
    r = c.post("/v1/recommendations", json=need, headers=hdr(pg_keys["reader"]))
    assert org["id"] not in {m["id"] for m in r.json()["results"]}, "a delete is visible too"


def test_key_auth_and_roles(pg_client: TestClient, pg_keys: dict[str, str]) -> None:
    c = pg_client
    assert c.get("/v1/keys").status_code == 401
    assert c.get("/v1/keys", headers=hdr("pm_deadbeef_notakey")).status_code == 401
    assert c.get("/v1/keys", headers=hdr(pg_keys["editor"])).status_code == 403
    r = c.post(
        "/v1/keys", json={"name": "pg made", "role": "reader"}, headers=hdr(pg_keys["admin"])
    )
    assert r.status_code == 201, r.text
    made = r.json()
    org = _org()
    assert c.post("/v1/organisations", json=org, headers=hdr(made["key"])).status_code == 403
    assert c.get("/v1/organisations?page_size=1", headers=hdr(made["key"])).status_code == 200
    r = c.delete(f"/v1/keys/{made['id']}", headers=hdr(pg_keys["admin"]))
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert c.get("/v1/organisations", headers=hdr(made["key"])).status_code == 401


def test_nul_characters_are_422_problems(pg_client: TestClient, pg_keys: dict[str, str]) -> None:
    check_nul_rejected(pg_client, pg_keys["admin"])


def test_data_dir_holds_only_indexes(pg_settings: Settings) -> None:
    assert not (Path(pg_settings.data_dir) / "matcher.db").exists()


def test_sqlite_settings_still_default(tmp_path: Path) -> None:
    assert make_settings(tmp_path).sqlalchemy_url.startswith("sqlite:///")
