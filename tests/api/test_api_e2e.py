"""End to end: uvicorn as a real process, called over HTTP on 127.0.0.1."""

from __future__ import annotations

import stat

import httpx
from api_support import LiveServer


def test_real_server_round_trip(server: LiveServer) -> None:
    assert stat.S_IMODE((server.data_dir / "admin-key.txt").stat().st_mode) == 0o600
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        admin = {"X-API-Key": server.admin_key}
        editor = http.post("/v1/keys", json={"name": "e2e", "role": "editor"}, headers=admin)
        assert editor.status_code == 201, editor.text
        key = {"X-API-Key": editor.json()["key"]}
        org = {
            "id": "e2e-org",
            "name": "Harbour Cold Storage",
            "sector": "business",
            "description": "Refrigerated warehouse space and cold-chain delivery vans.",
            "offers": ["cold storage", "delivery vans"],
            "contact": "ops@harbour.example",
            "city": "Portland",
            "lat": 45.52,
            "lon": -122.6,
        }
        created = http.post("/v1/organisations", json=org, headers=key)
        assert created.status_code == 201, created.text
        etag = created.headers["etag"]
        upd = http.patch(
            "/v1/organisations/e2e-org", json={"size": "small"}, headers={**key, "If-Match": etag}
        )
        assert upd.status_code == 200
        stale = http.patch(
            "/v1/organisations/e2e-org", json={"size": "large"}, headers={**key, "If-Match": etag}
        )
        assert stale.status_code == 412
        assert stale.headers["content-type"].startswith("application/problem+json")
        rec = http.post(
            "/v1/recommendations",
            json={
                "text": "We need cold storage and delivery vans for donated fresh food",
                "lat": 45.52,
                "lon": -122.6,
                "radius_km": 50,
                "limit": 10,
            },
            headers=key,
        )
        assert rec.status_code == 200, rec.text
        body = rec.json()
        assert "e2e-org" in {m["id"] for m in body["results"]}
        assert "ops@harbour.example" not in rec.text
        assert body["recommendation_id"] and body["model_version"]
        page = http.get("/")
        assert page.status_code == 200 and "Describe the problem" in page.text
        metrics = http.get("/metrics").text
        assert 'route="/v1/recommendations"' in metrics
    assert server.process.poll() is None
