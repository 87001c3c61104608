"""A serving process follows the published embedding model (api.embedding_switch): a new
pointer is noticed on the next request, the new engine loads beside the old one, which keeps
answering, and nothing written meanwhile (through this process or another) is lost."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from api_support import make_settings, quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.embedding_switch import EmbeddingSwitch
from api.main import create_app
from matcher import engine as engine_module
from matcher.domain import Organisation, Sector
from matcher.embedding.published import pointer_path
from matcher.engine import Engine


def _org(i: int) -> Organisation:
    return Organisation(
        id=f"during-{i}",
        name=f"Written During {i}",
        sector=Sector.business,
        description="Refrigerated vans and drivers for food banks",
        city="Leeds",
        country="GB",
    )


def publish_pointer(data_dir: Path, version: str, name: str, *, with_model: bool = True) -> None:
    """What `matcher models publish` of an embedding version leaves: the version's model
    folder and the pointer naming it (written anew: another inode, another mtime)."""
    folder = data_dir / "models" / version / f"model-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    if with_model:
        (folder / "config.json").write_text("{}")
    path = pointer_path(data_dir)
    tmp = path.with_suffix(".tmp")
    body = {"version": version, "model_name": name, "model_dir": folder.name}
    tmp.write_text(json.dumps(body))
    tmp.replace(path)


def test_switch_keeps_every_write_made_while_the_new_engine_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = seed(tmp_path)
    other = Engine.open(make_settings(tmp_path))  # another serving process on the same data
    held = {"engine": old}
    switch = EmbeddingSwitch(
        make_settings(tmp_path),
        lambda: held["engine"],
        lambda e: held.update(engine=e),
        lambda: old.store.db,
        close_after=0.2,
    )
    switch.opened()
    assert switch.serving == "hashing-v1"
    switch.check()
    assert switch.target is None  # nothing published: nothing to do

    loading, release = threading.Event(), threading.Event()
    real_load = Engine.load

    def slow_load(self: Engine, **kwargs: object) -> None:
        real_load(self, **kwargs)  # type: ignore[arg-type]
        loading.set()
        assert release.wait(30)

    monkeypatch.setattr(engine_module.Engine, "load", slow_load)
    publish_pointer(tmp_path, "v0001", "all-MiniLM-L6-v2-ft-switch-00000000")
    switch.check()
    assert loading.wait(60), "the new engine never loaded"
    assert held["engine"] is old  # the old engine answers while the new one loads
    old.create_organisation(_org(1))  # a request of this process
    other.create_organisation(_org(2))  # another process
    old.update_organisation("during-1", {"name": "Renamed During"})
    release.set()
    assert switch.wait(60)
    new = held["engine"]
    assert new is not old and switch.switches == 1 and switch.error is None
    assert switch.serving == "all-MiniLM-L6-v2-ft-switch-00000000" and switch.target is None
    for org_id in ("during-1", "during-2"):
        pos = new.catalog.position_of_id(org_id)
        assert pos is not None, org_id
    assert new.catalog.profile(new.catalog.position_of_id("during-1")).org.name == "Renamed During"
    switch.check()  # the same pointer: no second switch
    assert switch.wait(5) and switch.switches == 1
    new.close()
    other.close()


def test_a_published_model_that_cannot_be_served_leaves_the_engine(tmp_path: Path) -> None:
    old = seed(tmp_path)
    held = {"engine": old}
    switch = EmbeddingSwitch(
        make_settings(tmp_path),
        lambda: held["engine"],
        lambda e: held.update(engine=e),
        lambda: None,
    )
    switch.opened()
    publish_pointer(tmp_path, "v0002", "gone-model", with_model=False)
    switch.check()
    assert switch.wait(5)
    assert held["engine"] is old and switch.switches == 0
    assert switch.error is not None and "v0002" in switch.error
    old.close()


def test_the_api_notices_the_pointer_on_the_next_request(tmp_path: Path) -> None:
    seed(tmp_path).close()
    app = create_app(make_settings(tmp_path), quiet_api_settings())
    with TestClient(app) as client:
        state = app.state.api
        first = state.engine
        key = state.keys.create("switch reader", "reader")[0]
        client.headers["X-API-Key"] = key
        assert client.get("/readyz").status_code == 200
        publish_pointer(tmp_path, "v0001", "all-MiniLM-L6-v2-ft-api-00000000")
        r = client.post("/v1/recommendations", json={"text": "vans for the food bank"})
        assert r.status_code == 200  # answered (by the old engine or the new one)
        deadline = time.monotonic() + 60
        while state.engine is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.engine is not first
        assert state.embedding_switch.status()["serving"] == "all-MiniLM-L6-v2-ft-api-00000000"
        r = client.post("/v1/recommendations", json={"text": "vans for the food bank"})
        assert r.status_code == 200 and r.json()["results"]
