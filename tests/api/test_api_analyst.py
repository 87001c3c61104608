"""The analysts' routes: ingest an upload with a report, retrain in the background, publish
(refusing a worse model unless forced), roll back; analysts and admins only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import hdr, quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.domain import home_need
from matcher.engine import Engine
from matcher.errors import ValidationError
from training.history import store_partnerships
from training.partnership import Partnership
from training.registry import Registry

NEED = {"text": "weekly fresh food distribution and volunteers", "limit": 3}
CSV = (
    "id,org_name,sector,mission,country\n"
    "up-1,Harbour Vans,business,Refrigerated vans and drivers for food charities.,GB\n"
    "up-2,Bad Row,spaceship,Nothing to see.,GB\n"
    "up-3,Hillside Pantry,nonprofit,Weekly food parcels for older residents.,GB\n"
)
MAPPING = '[map]\nname = "org_name"\ndescription = "mission"\n'


def _history(engine: Engine, n_sources: int = 30) -> None:
    """Each source "partnered" with the 3 candidates best on 0.3 fit + 0.7 proximity."""
    items = []
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i, (_pk, org) in enumerate(list(engine.store.organisations())[:n_sources]):
        need = home_need(org, org.profile_text()[:4000])
        rec = engine.recommend(need, limit=100)
        best = sorted(
            rec.results,
            key=lambda m: -(0.3 * m.components["fit"] + 0.7 * m.components["proximity"]),
        )[:3]
        for j, m in enumerate(best):
            items.append(
                Partnership(
                    id=f"p{i:03d}-{j}",
                    source_id=org.id,
                    partner_id=m.id,
                    started_at=start + timedelta(days=i),
                    outcome="partnered",
                )
            )
    store_partnerships(engine.store, items)


@pytest.fixture(scope="module")
def an_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = seed(tmp_path_factory.mktemp("analyst") / "var")
    _history(engine)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def an_client(an_engine: Engine) -> Iterator[TestClient]:
    app = create_app(an_engine.settings, quiet_api_settings(), engine=an_engine)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def an_keys(an_engine: Engine, an_client: TestClient) -> dict[str, str]:
    ring = KeyRing(an_engine.store.db)
    return {r: ring.create(f"analyst test {r}", r)[0] for r in ("reader", "editor", "analyst")}


def _wait(client: TestClient, key: str, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/analyst/train/{job_id}", headers=hdr(key))
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def _model_version(client: TestClient, key: str) -> str:
    r = client.post("/v1/recommendations", json=NEED, headers=hdr(key))
    assert r.status_code == 200, r.text
    return str(r.json()["model_version"])


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/v1/analyst/ingest", {"files": {"file": ("a.csv", CSV.encode())}}),
    ("post", "/v1/analyst/train", {"json": {}}),
    ("get", "/v1/analyst/train/train_000000000000", {}),
    ("get", "/v1/models", {}),
    ("get", "/v1/analyst/analytics", {}),
    ("post", "/v1/models/v0099/publish", {}),
    ("post", "/v1/models/rollback", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTES)
def test_only_analysts_and_admins(
    client: TestClient, keys: dict[str, str], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    _problem(client.request(method, path, **kwargs), 401)
    for role in ("reader", "editor"):
        _problem(client.request(method, path, headers=hdr(keys[role]), **kwargs), 403)
    if method == "get":  # reads only: the writes run against the dedicated app below
        for role in ("analyst", "admin"):
            r = client.request(method, path, headers=hdr(keys[role]), **kwargs)
            assert r.status_code in (200, 404), r.text


def test_ingest_reports_bad_rows_and_stores_the_good_ones(
    an_client: TestClient, an_keys: dict[str, str]
) -> None:
    key = an_keys["analyst"]
    files = {"file": ("members.csv", CSV.encode())}
    form = {"mapping": MAPPING, "dry_run": "true"}
    r = an_client.post("/v1/analyst/ingest", files=files, data=form, headers=hdr(key))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["file"] == "members.csv" and report["rows"] == 3
    assert report["accepted"] == 2 and report["rejected_rows"] == 1
    assert report["stored"] is None and report["dry_run"] is True
    [bad] = report["rejected"]
    assert bad["row"] == 2 and bad["column"] == "sector" and "spaceship" in bad["reason"]
    assert an_client.get("/v1/organisations/up-1", headers=hdr(key)).status_code == 404

    form["dry_run"] = "false"
    r = an_client.post("/v1/analyst/ingest", files=files, data=form, headers=hdr(key))
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == {"inserted": 2, "updated": 0, "unchanged": 0, "owned": []}
    got = an_client.get("/v1/organisations/up-1", headers=hdr(key))
    assert got.status_code == 200 and got.json()["name"] == "Harbour Vans"

    # a file that cannot be read at all is refused as a whole: nothing stored, the reason given
    def refused(files: dict[str, Any], data: dict[str, str] | None = None) -> dict[str, Any]:
        r = an_client.post("/v1/analyst/ingest", files=files, data=data, headers=hdr(key))
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        assert out["accepted"] == 0 and out["stored"] is None and out["error"]
        assert "/tmp" not in out["error"] and "matcher-upload" not in out["error"]
        return out

    assert refused(files, {"mapping": "[map"})["error_field"] == "mapping"
    bad_field = refused(files, {"mapping": '[map]\nnom = "org_name"\n'})
    assert "nom" in bad_field["error"] and bad_field["error_field"] == "nom"
    unknown = refused({"file": ("x.bin", b"\x00\x01")})
    assert "format" in unknown["error"] and unknown["error_field"] == "format"
    assert "x.parquet" in refused({"file": ("x.parquet", b"not parquet")})["error"]
    assert refused({"file": ("empty.csv", b"")})["error_field"] == "file"


def test_train_publish_switches_the_service_and_rollback_restores(
    an_client: TestClient, an_keys: dict[str, str], an_engine: Engine
) -> None:
    key = an_keys["analyst"]
    before = _model_version(an_client, key)
    r = an_client.post("/v1/analyst/train", json={"max_test": 6}, headers=hdr(key))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "running" and r.headers["location"].endswith(job["job_id"])
    job = _wait(an_client, key, job["job_id"])
    assert job["status"] == "succeeded", job
    assert job["version"] == "v0001" and job["error"] is None
    assert job["stage"] == "default" and job["done"] == job["total"] > 0
    metrics = job["metrics"]
    assert metrics["candidate"]["ndcg@10"] > metrics["default"]["ndcg@10"]
    assert not (an_engine.settings.data_dir / "runs").exists() or not any(
        (an_engine.settings.data_dir / "runs").iterdir()
    )

    models = an_client.get("/v1/models", headers=hdr(key)).json()
    assert models["current"] is None
    assert [v["version"] for v in models["versions"]] == ["v0001"]
    assert models["versions"][0]["primary"] == "ndcg@10"
    # the held-out queries of its figure, as `models list` says them (a client compared
    # figures of different splits without knowing)
    assert models["versions"][0]["split"]["max_test"] == 6 and models["versions"][0]["data_hash"]
    assert models["comparable"] is True and models["note"] is None
    assert models["versions"][0]["narrow"] is False

    r = an_client.post("/v1/models/v0001/publish", headers=hdr(key))
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True and r.json()["previous"] is None
    assert _model_version(an_client, key).endswith("@v0001")
    again = an_client.post("/v1/models/v0001/publish", headers=hdr(key)).json()
    assert again["changed"] is False

    # a worse candidate (too few pairs: the default weights) is refused, naming the metric
    r = an_client.post(
        "/v1/analyst/train", json={"max_test": 6, "min_pairs": 100000}, headers=hdr(key)
    )
    assert r.status_code == 202, r.text
    job = _wait(an_client, key, r.json()["job_id"])
    assert job["status"] == "succeeded" and job["version"] == "v0002"
    body = _problem(an_client.post("/v1/models/v0002/publish", headers=hdr(key)), 409)
    assert "ndcg@10" in body["detail"] and "force=true" in body["detail"]
    assert _model_version(an_client, key).endswith("@v0001")
    r = an_client.post("/v1/models/v0002/publish?force=true", headers=hdr(key))
    assert r.status_code == 200 and r.json()["forced"] is True
    assert _model_version(an_client, key).endswith("@v0002")
    _problem(an_client.post("/v1/models/v0404/publish", headers=hdr(key)), 404)

    r = an_client.post("/v1/models/rollback", headers=hdr(key))
    assert r.json() == {"rolled_back_from": "v0002", "current": "v0001"}
    assert _model_version(an_client, key).endswith("@v0001")
    assert an_client.post("/v1/models/rollback", headers=hdr(key)).json()["current"] is None
    assert _model_version(an_client, key) == before
    _problem(an_client.post("/v1/models/rollback", headers=hdr(key)), 409)
    assert Registry(an_engine.settings.data_dir).current() is None


def test_one_training_job_at_a_time_and_failures_are_reported(
    an_client: TestClient, an_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = an_keys["analyst"]
    started, release = threading.Event(), threading.Event()

    def blocked_fit(settings: Any, options: Any, progress: Any = None, **_: Any) -> Any:
        progress("features", 3, 10)
        started.set()
        release.wait(30)
        raise ValidationError("no labelled pairs")

    monkeypatch.setattr("training.fit.run_fit", blocked_fit)
    r = an_client.post("/v1/analyst/train", json={}, headers=hdr(key))
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    body = _problem(an_client.post("/v1/analyst/train", json={}, headers=hdr(key)), 409)
    assert job_id in body["detail"]
    assert started.wait(10)
    running = an_client.get(f"/v1/analyst/train/{job_id}", headers=hdr(key)).json()
    assert running["status"] == "running"
    assert (running["stage"], running["done"], running["total"]) == ("features", 3, 10)
    release.set()
    job = _wait(an_client, key, job_id, timeout=30)
    assert job["status"] == "failed" and "no labelled pairs" in job["error"]
    assert job["version"] is None and job["finished_at"]
    _problem(an_client.post("/v1/analyst/train", json={"split": "random"}, headers=hdr(key)), 422)
    _problem(an_client.get("/v1/analyst/train/nope", headers=hdr(key)), 404)
