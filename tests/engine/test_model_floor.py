"""The engine applies the relevance floor calibrated for its model (the registered version's
manifest), unless a floor is configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matcher.domain import Need, Sector
from matcher.engine import Engine

ALL = [Sector.business, Sector.government, Sector.nonprofit]


def registered_folder(root: Path, floor: float) -> Path:
    """A model folder inside a registry version whose manifest holds a calibrated floor."""
    version = root / "models" / "v0001"
    folder = version / "model-v0001"
    folder.mkdir(parents=True)
    man = {"kind": "embedding", "relevance_floor": {"value": floor, "method": "test"}}
    (version / "manifest.json").write_text(json.dumps(man))
    return folder


def test_the_engine_applies_its_models_calibrated_floor(engine: Engine, tmp_path: Path) -> None:
    need = Need(text="food bank groceries for hungry families", wanted_sectors=ALL)
    assert engine.recommend(need).results
    inner: Any = engine.embedder
    while getattr(inner, "embedder", None) is not None:
        inner = inner.embedder
    inner.model_path = registered_folder(tmp_path, 2.0)
    rec = engine.recommend(need)
    assert rec.results == [] and rec.coalition.members == []
    engine.settings = engine.settings.model_copy(update={"relevance_floor": -1.0})
    assert engine.recommend(need).results  # a configured floor wins
