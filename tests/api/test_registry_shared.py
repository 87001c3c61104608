"""Two machines (two data directories) on one PostgreSQL database: a model published on the
first, with the CLI, is served by the second's API within a couple of seconds, with no request
to it (the MODEL change makes it sync the shared registry into its own data directory, then
follow the files as ever); a rollback likewise; an embedding model registered and published on
the first reaches the second's files and its embedding switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import quiet_api_settings, sample_needs, sample_orgs
from api_support import until as _until
from fastapi.testclient import TestClient
from support_databases import pg_schema_url

from api.main import create_app
from matcher.cli import main
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store import Database
from tests.training.test_embed_registry import fake_model, gate
from training.embed_registry import register_embedding
from training.registry import Registry
from training.registry_db import dispose_shared

WITHIN = 3.0  # seconds: the follower hears the NOTIFY at once, then syncs and loads


@pytest.fixture
def machine_b(tmp_path: Path) -> Iterator[tuple[str, Path, TestClient]]:
    """The database URL, machine A's data dir and machine B's API client."""
    with pg_schema_url("regapi") as url:
        a_dir, b_dir = tmp_path / "machine-a", tmp_path / "machine-b"
        settings_b = Settings(data_dir=b_dir, model_name="hashing-v1", database_url=url)
        seeded = Engine.open(settings_b, load=False)
        seeded.store.upsert_organisations(sample_orgs())
        seeded.build()
        seeded.ingest_needs(sample_needs())
        seeded.close()
        app = create_app(settings_b, quiet_api_settings())
        try:
            with TestClient(app) as client:
                yield url, a_dir, client
        finally:
            dispose_shared()


def test_a_cli_publish_on_one_machine_is_served_by_the_other(
    machine_b: tuple[str, Path, TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    url, a_dir, client = machine_b
    state = client.app.state.api  # type: ignore[attr-defined]
    assert client.get("/readyz").json()["model_version"].endswith("default-weights")
    weights = {"fit": 2.0, "coverage": 0.1, "reciprocity": 0.1, "proximity": 0.1, "freshness": 0.1}
    a_db = Database(url)  # machine A registers a version (a `matcher train fit` there)
    metrics = {"primary": "ndcg@10", "ndcg@10": 0.6}
    Registry(a_dir, db=a_db).create({"weights": weights, "metrics": metrics})
    a_db.dispose()
    base = ["--data-dir", str(a_dir), "--database-url", url, "--model", "hashing-v1"]
    assert main([*base, "models", "publish", "v0001"]) == 0
    took = _until(lambda: "v0001" in str(state.engine.model_version), WITHIN)
    assert (state.settings.data_dir / "models" / "v0001" / "manifest.json").is_file()
    assert client.get("/readyz").json()["model_version"].endswith("v0001")
    assert state.registry_sync is not None and not state.registry_sync.problems
    assert main([*base, "models", "rollback"]) == 0
    _until(lambda: "default-weights" in str(state.engine.model_version), WITHIN)
    capsys.readouterr()
    print(f"served the publish after {took:.2f} s")


def test_an_embedding_model_published_on_one_machine_switches_the_other(
    machine_b: tuple[str, Path, TestClient], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, a_dir, client = machine_b
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)  # how the training code finds it
    state = client.app.state.api  # type: ignore[attr-defined]
    first = state.engine
    man = register_embedding(a_dir, fake_model(tmp_path / "ft", b"shared-w"), export=False)
    registry = Registry(a_dir)
    with registry._locked():  # as `matcher models evaluate-embed` writes its report
        gate(registry, "v0001", "pass", None)
    registry.publish("v0001")
    _until(lambda: state.embedding_switch.status()["serving"] == man["model_name"], 60)
    assert state.engine is not first and state.embedding_switch.switches == 1
    folder = state.settings.data_dir / "models" / "v0001" / man["model_dir"]
    assert (folder / "model.safetensors").read_bytes() == b"shared-w"


def test_readyz_reports_the_registry_sync_and_a_tampered_archive(
    machine_b: tuple[str, Path, TestClient],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from matcher import registry_sync
    from matcher.registry_files import pack_into

    url, a_dir, client = machine_b
    state = client.app.state.api  # type: ignore[attr-defined]

    def registry() -> dict[str, Any]:
        return dict(client.get("/readyz").json()["registry"])

    started = registry()
    assert started["shared"] is True and started["syncs"] >= 1  # synced at start
    assert started["local"] == started["database"] == {"CURRENT": None, "EMBEDDING": None}
    assert started["in_sync"] is True and started["last_error"] is None
    a_db = Database(url)
    weights = {"fit": 2.0, "coverage": 0.1, "reciprocity": 0.1, "proximity": 0.1, "freshness": 0.1}
    a = Registry(a_dir, db=a_db)
    a.create({"weights": weights, "metrics": {"primary": "ndcg@10", "ndcg@10": 0.6}})
    a.publish("v0001")
    _until(lambda: registry()["local"]["CURRENT"] == "v0001", WITHIN)
    _until(lambda: "v0001" in str(state.engine.model_version), WITHIN)
    now = registry()
    assert now["database"]["CURRENT"] == "v0001" and now["in_sync"] is True
    assert now["serving"] == ["v0001"] and now["last_sync_at"] > started["last_sync_at"]
    assert now["last_error"] is None and now["last_sync_problems"] == []

    # v0002 reaches the database with another folder's archive under its digest (uploaded so
    # from the start: tampered after the upload, machine B could fetch the good one first):
    # machine B must refuse it, and say so
    other = a_dir / "other"
    (other / "history").mkdir(parents=True)
    (other / "history" / "model.bin").write_bytes(b"not what was registered")
    with monkeypatch.context() as patch:
        patch.setattr(registry_sync, "pack_into", lambda _folder, out: pack_into(other, out))
        a.create({"weights": weights, "metrics": {"primary": "ndcg@10", "ndcg@10": 0.7}})
    a.publish("v0002")
    _until(lambda: (registry()["database"] or {}).get("CURRENT") == "v0002", WITHIN)
    now = registry()
    assert "v0002" in now["last_error"] and "does not match its digest" in now["last_error"]
    assert now["local"]["CURRENT"] == "v0001" and now["database"]["CURRENT"] == "v0002"
    assert now["in_sync"] is False and now["last_error_at"] is not None
    assert len(now["last_sync_problems"]) == 2  # the archive, and CURRENT left as it was
    assert "v0001" in str(state.engine.model_version)  # still serving the good one
    a_db.dispose()
    capsys.readouterr()


def test_a_registry_that_disagrees_with_the_shared_one_is_a_conflict_not_a_bad_request() -> None:
    from api.problems import engine_error_status
    from matcher.errors import RegistrySyncError

    # a publish through the API whose local registry clashes with the database's answered 400
    assert engine_error_status(RegistrySyncError("model version 'v0001' differs")) == 409
