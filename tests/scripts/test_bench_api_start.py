"""`scripts/bench_api.py` (and `bench_side_by_side.py`, `profile_api.py`, which start servers
through it) will not start this service on a data directory it would first re-embed: a
`make bench` directory built with torch vectors, served with onnx-int8, re-embedded about
98,000 profiles inside the server's start-up with no word of it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from matcher.domain import Organisation
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store import Database, Store

ROOT = Path(__file__).resolve().parents[2]


def _bench_api() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_api_start", ROOT / "scripts/bench_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    db = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
    db.create_all()
    orgs = [
        Organisation.model_validate(
            {"id": f"o{i}", "name": f"Org {i}", "sector": "nonprofit", "description": d}
        )
        for i, d in enumerate(["Food bank with volunteers", "Tutoring for children", "Legal aid"])
    ]
    Store(db).upsert_organisations(orgs)
    db.dispose()
    return tmp_path


def test_a_directory_the_server_would_re_embed_is_refused_with_how_to_build_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench_api()
    monkeypatch.setattr(bench, "START_EMBED_LIMIT", 2)  # 3 profiles stand for 98,000
    problem = bench.start_up_work(data_dir, "hashing-v1", None)
    assert problem is not None
    assert "about 3 texts" in problem and f"matcher --data-dir {data_dir} build" in problem
    started: list[object] = []
    monkeypatch.setattr(bench, "start_uvicorn", lambda *a, **k: started.append(a))
    with pytest.raises(SystemExit) as stop:
        bench.start_server(data_dir, "hashing-v1", 10)
    assert "must be built" in str(stop.value) and not started  # nothing was started


def test_a_built_directory_or_a_small_first_build_is_served(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench_api()
    assert bench.start_up_work(data_dir, "hashing-v1", None) is None  # 3 texts: a quick build
    monkeypatch.setattr(bench, "START_EMBED_LIMIT", 2)
    engine = Engine.open(Settings(data_dir=data_dir, model_name="hashing-v1"), load=False)
    engine.build()
    engine.close()
    assert bench.start_up_work(data_dir, "hashing-v1", None) is None
