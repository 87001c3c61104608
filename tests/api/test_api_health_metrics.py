"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from api_support import hdr
from fastapi.testclient import TestClient


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["ready"] is True and body["organisations"] >= 200
    assert body["model_version"].startswith("hashing-v1")
    registry = body["registry"]  # SQLite: nothing shared, the files alone
    assert registry["shared"] is False and registry["database"] is None
    assert registry["local"] == {"CURRENT": None, "EMBEDDING": None}
    assert registry["in_sync"] is None and registry["last_error"] is None


def test_metrics_per_route_and_engine_gauges(client: TestClient, keys: dict[str, str]) -> None:
    client.get("/v1/organisations/org-00001")
    client.post(
        "/v1/recommendations", json={"text": "food bank volunteers"}, headers=hdr(keys["reader"])
    )
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'http_requests_total{method="GET",route="/v1/organisations/{org_id}",status="200"}' in text
    )
    assert (
        'http_request_duration_seconds_bucket{le="0.03",method="POST",route="/v1/recommendations"}'
        in text
    )
    assert "matcher_index_organisations " in text
    assert "matcher_ready 1.0" in text
    assert 'matcher_model_info{index_kind="' in text and 'version="hashing-v1' in text
    assert "org-00001" not in text  # raw paths never become labels
