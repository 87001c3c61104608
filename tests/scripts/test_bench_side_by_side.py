"""Issue 12's side-by-side measurement: the afternoon baseline (and txtai) answer with the
filters honoured, and the runner gives one row per system and concurrency on a tiny run.
The hashing embedder stands in for the torch model (BASELINE_ENCODER=hashing)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from matcher.domain import Organisation
from matcher.embedding.hashing import HashingEmbedder
from matcher.settings import Settings
from matcher.store import Database, Store
from training import baseline_app

ROOT = Path(__file__).resolve().parents[2]
ORGS = [
    ("a", "nonprofit", "OR", "US", "Food bank with volunteers and refrigerated vans"),
    ("b", "business", "OR", "US", "Grocery store donating fresh food to food banks"),
    ("c", "business", "WA", "US", "Grocery store donating fresh food to food banks in Seattle"),
    ("d", "business", "West Yorkshire", "GB", "Grocery chain donating fresh food to food banks"),
    ("e", "government", "OR", "US", "County office funding food programmes"),
    ("f", "business", "OR", "US", "Accounting firm offering pro bono bookkeeping"),
]
FOOD = "fresh food for a food bank"


def _bench() -> ModuleType:
    path = ROOT / "scripts/bench_side_by_side.py"
    spec = importlib.util.spec_from_file_location("bench_side_by_side", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_side_by_side"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    db = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
    db.create_all()
    orgs = [
        Organisation.model_validate(
            {"id": i, "name": f"Org {i}", "sector": s, "region": r, "country": c, "description": d}
        )
        for i, s, r, c, d in ORGS
    ]
    Store(db).upsert_organisations(orgs)
    db.dispose()
    return tmp_path


def _ids(client: TestClient, body: Mapping[str, object]) -> list[str]:
    r = client.post("/v1/recommendations", json={"limit": 10, **body})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["results"]]


@pytest.mark.parametrize("module", ["baseline_app", "txtai_app"])
def test_the_baselines_honour_region_country_and_sectors(data_dir: Path, module: str) -> None:
    if module == "txtai_app":
        pytest.importorskip("txtai")
    app_module = importlib.import_module(f"training.{module}")
    app = app_module.create_app(data_dir, HashingEmbedder().encode, vectors="embed")
    with TestClient(app) as client:
        assert client.get("/readyz").json()["organisations"] == 6
        assert sorted(_ids(client, {"text": FOOD})) == ["a", "b", "c", "d", "e", "f"]
        # a state's name matches its stored two letters
        oregon = {"text": FOOD, "region": "Oregon", "country": "US"}
        assert sorted(_ids(client, oregon)) == ["a", "b", "e", "f"]
        assert _ids(client, {**oregon, "wanted_sectors": ["business"]})[0] == "b"
        assert sorted(_ids(client, {**oregon, "wanted_sectors": ["business"]})) == ["b", "f"]
        assert _ids(client, {"text": FOOD, "filters": {"country": "GB"}}) == ["d"]
        assert _ids(client, {"text": FOOD, "wanted_sectors": ["academic"]}) == []


def test_the_baseline_reuses_cached_vectors_of_the_torch_model(data_dir: Path) -> None:
    from matcher.embedding.cache import text_hash
    from matcher.store.repository import SqlEmbeddingCache

    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    texts = [o.profile_text() for _, o in Store(db).organisations()]
    fake = HashingEmbedder().encode(texts)
    SqlEmbeddingCache(db).put_many(
        baseline_app.torch_cache_key(), {text_hash(t): v for t, v in zip(texts, fake, strict=True)}
    )
    db.dispose()

    def never(_: object) -> object:
        raise AssertionError("embedded although every vector was cached")

    corpus = baseline_app.load_corpus(data_dir, never, vectors="auto")  # type: ignore[arg-type]
    assert corpus.source.startswith("6 rows cached under sentence-transformers/all-MiniLM-L6-v2@")
    assert abs(float(corpus.vectors[0] @ fake[0]) - 1.0) < 1e-5


def test_the_runner_gives_a_row_per_system_and_concurrency(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASELINE_ENCODER", "hashing")
    bench = _bench()
    api = bench._bench_api()
    servers = {}
    try:
        for name in ("baseline", "copy"):
            proc, url = api.start_server(
                data_dir, None, 120, app="training.baseline_app:create_app", factory=True,
                extra_env={"BASELINE_DATA_DIR": str(data_dir), "BASELINE_VECTORS": "embed"},
            )  # fmt: skip
            servers[name] = (proc, url, "")
        needs = [{"text": FOOD, "region": "Oregon", "country": "US"}, {"text": "bookkeeping"}]
        rows = bench.run(
            api, servers, needs, concurrencies=[1, 2], rounds=2, requests=4, limit=3,
            max_seconds=60, warmup=1,
        )  # fmt: skip
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    assert [(r["system"], r["concurrency"]) for r in rows] == [
        ("baseline", 1), ("copy", 1), ("baseline", 2), ("copy", 2),
    ]  # fmt: skip
    for r in rows:
        assert r["requests"] == 8 and r["errors"] == 0
        assert r["requests_per_second"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"]
        # measured (CPU time comes in clock ticks of 10 ms: 8 cheap requests may read 0.0)
        assert r["server_cpu_ms_per_request"] is not None and r["server_cpu_ms_per_request"] >= 0
    table = bench.table(rows)
    assert len(table.splitlines()) == 2 + len(rows) and "| copy | 2 |" in table


def test_txtai_answers_concurrent_requests(data_dir: Path) -> None:
    """txtai's Embeddings share one SQLite cursor: unserialised, concurrent searches failed
    ("Recursive use of cursors not allowed") and left it broken for later ones."""
    pytest.importorskip("txtai")
    from concurrent.futures import ThreadPoolExecutor

    from training import txtai_app

    app = txtai_app.create_app(data_dir, HashingEmbedder().encode, vectors="embed")
    with TestClient(app) as client:

        def ask(i: int) -> int:
            body = {"text": f"{FOOD} {i}", "region": "Oregon", "wanted_sectors": ["business"]}
            return client.post("/v1/recommendations", json=body).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(ask, range(200)))
    assert statuses == [200] * 200
