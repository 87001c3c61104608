"""Smaller hardening items of issue 9: one id grammar (importers too), strict numbers, key
responses never cached."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from api_support import hdr, make_settings, quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.main import create_app

ORG = {"name": "Strict Co", "sector": "business", "description": "Checks its types."}


def test_key_responses_are_not_stored_by_caches(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post(
        "/v1/keys", json={"name": "cache test", "role": "reader"}, headers=hdr(keys["admin"])
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    listed = client.get("/v1/keys", headers=hdr(keys["admin"]))
    assert listed.headers["cache-control"] == "no-store"
    revoked = client.delete(f"/v1/keys/{r.json()['id']}", headers=hdr(keys["admin"]))
    assert revoked.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/organisations", {**ORG, "lat": 1.0, "lon": False}, "lon"),
        ("/v1/organisations", {**ORG, "lat": "51.5", "lon": 0}, "lat"),
        ("/v1/recommendations", {"text": "fresh food", "limit": True}, "limit"),
        ("/v1/needs", {"text": "fresh food", "lat": 1, "lon": 2, "radius_km": True}, "radius_km"),
    ],
)
def test_booleans_and_strings_are_not_numbers(
    client: TestClient, keys: dict[str, str], path: str, body: dict[str, object], field: str
) -> None:
    r = client.post(path, json=body, headers=hdr(keys["editor"]))
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.text


def test_integers_are_still_numbers(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post(
        "/v1/organisations", json={**ORG, "lat": 51, "lon": 0}, headers=hdr(keys["editor"])
    )
    assert r.status_code == 201, r.text
    assert r.json()["lon"] == 0.0


@pytest.mark.parametrize("bad", ["../../x", "a/b", "has space", ".hidden", "x" * 129])
def test_importer_rejects_ids_outside_the_grammar_with_row_and_column(
    client: TestClient, keys: dict[str, str], bad: str
) -> None:
    csv = f"id,name,sector,description\nok-1,Fine,business,Fine.\n{bad},Bad,business,Bad id.\n"
    r = client.post(
        "/v1/analyst/ingest",
        files={"file": ("ids.csv", csv.encode())},
        data={"dry_run": "true"},
        headers=hdr(keys["analyst"]),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["accepted"] == 1 and report["rejected_rows"] == 1, report
    assert report["rejected"][0]["row"] == 2 and report["rejected"][0]["column"] == "id", report


def test_crash_leftovers_are_swept_on_start(tmp_path: Path) -> None:
    seed(tmp_path).close()
    index = tmp_path / "indexes" / "organisations"
    assert (index / "gen-000001").is_dir()
    old_build = index / ".tmp-gen-000009.abc123"
    old_build.mkdir(parents=True)
    (old_build / "vectors.npy").write_bytes(b"\0" * 4096)
    stale = time.time() - 7200
    os.utime(old_build, (stale, stale))
    running = index / ".tmp-organisations.new"  # a write in progress elsewhere: too fresh
    running.mkdir()
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, quiet_api_settings())) as c:
        assert c.get("/healthz").status_code == 200
    assert not old_build.exists()
    assert running.exists()
