"""A published model takes effect on the next request, without a restart; rollback too."""

from __future__ import annotations

from api_support import hdr
from fastapi.testclient import TestClient

from matcher.engine import Engine
from training.registry import Registry

NEED = {"text": "weekly fresh food distribution and volunteers", "limit": 3}


def test_publish_and_rollback_switch_the_serving_model(
    client: TestClient, keys: dict[str, str], engine: Engine
) -> None:
    def version() -> str:
        r = client.post("/v1/recommendations", json=NEED, headers=hdr(keys["reader"]))
        assert r.status_code == 200, r.text
        return str(r.json()["model_version"])

    registry = Registry(engine.settings.data_dir)
    before = version()
    name = registry.create({"weights": {"fit": 0.2, "proximity": 0.8}, "metrics": {}})
    registry.publish(name, force=True)
    try:
        assert version().endswith(f"@{name}")
        assert engine.weights["proximity"] > engine.weights["fit"]
        registry.rollback()
        assert version() == before
    finally:
        engine.use_default_weights()
