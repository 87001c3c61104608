"""API fixtures: one engine on the model-free hashing embedder over the first 200 sample
profiles, an app serving it, a TestClient and one key per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import LiveServer, live_server, quiet_api_settings, seed
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    eng = seed(tmp_path_factory.mktemp("api-data"))
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def app(engine: Engine) -> FastAPI:
    return create_app(engine.settings, quiet_api_settings(), engine=engine)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def keys(client: TestClient, app: FastAPI) -> dict[str, str]:
    ring: KeyRing = app.state.api.keys
    out = {
        role: ring.create(f"test {role}", role)[0]
        for role in ("reader", "editor", "analyst", "admin")
    }
    out["editor2"] = ring.create("second editor", "editor")[0]
    return out


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live")) as srv:
        yield srv
