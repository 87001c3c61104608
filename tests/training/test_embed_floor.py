"""A registered model's relevance floor, calibrated from data by quantile matching against the
base model's floor, stored in the version's manifest and applied by the engine; the table's
floor applies whatever backend runs the model (int8 ONNX appends a suffix to its name)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.domain import Organisation, Sector
from matcher.embedding.cache import CachedEmbedder, InMemoryEmbeddingCache
from matcher.embedding.published import embedder_floor, manifest_floor
from matcher.score import relevance_floor
from training.embed_floor import (
    MIN_PROFILES,
    calibrate_floor,
    calibration_profiles,
    pair_cosines,
    unrelated_pairs,
)

BASE = "sentence-transformers/all-MiniLM-L6-v2"


def orgs(n: int, coded: bool = True) -> list[Organisation]:
    groups = "ABCDEFGHIJ"
    return [
        Organisation(
            id=f"o{i}",
            name=f"Org {i}",
            sector=Sector.nonprofit,
            description=f"organisation number {i} working on topic {i % 10} in its community",
            cause_code=f"{groups[i % 10]}{i % 7}0" if coded else None,
        )
        for i in range(n)
    ]


def table_encoder(seed: int, dim: int = 16):  # noqa: ANN201 - a test double
    """Deterministic vectors per text (a fake model)."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = []
        for t in texts:
            rng = np.random.default_rng(abs(hash((seed, t))) % 2**32)
            out.append(rng.normal(size=dim))
        v = np.asarray(out, dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    return encode


def test_the_int8_backend_gets_the_floor_of_its_model() -> None:
    # the engine runs int8 ONNX by default, whose name is the model's + "+onnx-int8": the
    # table's floor was never applied to it (-inf)
    assert relevance_floor(None, f"{BASE}+onnx-int8") == pytest.approx(0.20)
    assert relevance_floor(None, BASE) == pytest.approx(0.20)
    assert relevance_floor(None, "some-other-model+onnx-int8") == -math.inf


def test_configured_beats_calibrated_beats_the_table() -> None:
    assert relevance_floor(0.5, BASE, 0.3) == 0.5
    assert relevance_floor(None, BASE, 0.3) == 0.3
    assert relevance_floor(None, "all-MiniLM-L6-v2-ft-x-1234+onnx-int8", 0.27) == 0.27


def test_unrelated_pairs_lie_in_different_major_groups() -> None:
    _, groups = calibration_profiles(orgs(300))
    pairs = unrelated_pairs(groups, n_pairs=500)
    assert len(pairs) == 500
    assert all(groups[i] != groups[j] and groups[i] and groups[j] for i, j in pairs)
    _, uncoded = calibration_profiles(orgs(300, coded=False))
    random_pairs = unrelated_pairs(uncoded, n_pairs=500)
    assert len(random_pairs) == 500 and all(i != j for i, j in random_pairs)


def test_the_same_model_keeps_the_base_floor() -> None:
    enc = table_encoder(1)
    entry = calibrate_floor(orgs(400), enc, enc, base_floor=0.2, base_model=BASE, source="t")
    assert entry["value"] == pytest.approx(0.2, abs=0.01)
    assert entry["pair_kind"] == "different major groups"
    uncoded = calibrate_floor(
        orgs(400, coded=False), enc, enc, base_floor=0.2, base_model=BASE, source="t"
    )
    assert uncoded["pair_kind"] == "random" and uncoded["coded"] == 0


def test_a_model_with_wider_cosines_gets_a_floor_cutting_the_same_share() -> None:
    base = table_encoder(1)

    def sharper(texts: Sequence[str]) -> np.ndarray:
        # the same vectors pulled towards one of 10 topic directions: unrelated pairs of a
        # fine-tuned model spread differently from the base's
        v = base(texts)
        topics = np.random.default_rng(5).normal(size=(10, v.shape[1]))
        idx = [int(t.split("topic ")[1].split()[0]) for t in texts]
        w = v + 1.5 * topics[idx]
        return (w / np.linalg.norm(w, axis=1, keepdims=True)).astype(np.float32)

    data = orgs(500)
    entry = calibrate_floor(data, base, sharper, base_floor=0.2, base_model=BASE, source="t")
    texts, groups = calibration_profiles(data)
    pairs = unrelated_pairs(groups)
    base_share = float(np.mean(pair_cosines(base(texts), pairs) < 0.2))
    model_cos = pair_cosines(sharper(texts), pairs)
    assert entry["quantile"] == pytest.approx(base_share, abs=1e-4)
    assert float(np.mean(model_cos < entry["value"])) == pytest.approx(base_share, abs=0.01)
    assert abs(entry["value"] - 0.2) > 0.02  # a different floor than the base's


def test_too_few_profiles_give_no_floor_and_say_why() -> None:
    enc = table_encoder(1)
    entry = calibrate_floor(
        orgs(MIN_PROFILES - 1), enc, enc, base_floor=0.2, base_model=BASE, source="here"
    )
    assert entry["value"] is None and "at least" in entry["reason"] and "here" in entry["reason"]


def registered_folder(root: Path, floor: float | None) -> Path:
    version = root / "models" / "v0001"
    folder = version / "model-v0001"
    folder.mkdir(parents=True)
    man: dict[str, object] = {"kind": "embedding", "version": "v0001", "model_dir": "model-v0001"}
    if floor is not None:
        man["relevance_floor"] = {"value": floor, "method": "test"}
    (version / "manifest.json").write_text(json.dumps(man))
    return folder


def test_the_manifest_floor_is_found_through_wrapping_embedders(tmp_path: Path) -> None:
    folder = registered_folder(tmp_path, 0.31)
    assert manifest_floor(folder) == 0.31
    assert manifest_floor(tmp_path / "elsewhere" / "model") is None
    assert manifest_floor(registered_folder(tmp_path / "b", None)) is None
    # a manifest.json beside a model outside the registry is not a floor, nor an error
    other = tmp_path / "pkg" / "model"
    other.mkdir(parents=True)
    (other.parent / "manifest.json").write_text('{"relevance_floor": {"value": 0.9}}')
    assert manifest_floor(other) is None
    (other.parent / "manifest.json").write_text("not json")
    assert manifest_floor(other) is None

    class Inner:
        model_name = "m"
        dimension = 4
        model_path = folder

        def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
            return np.zeros((len(texts), 4), dtype=np.float32)

    assert embedder_floor(CachedEmbedder(Inner(), InMemoryEmbeddingCache())) == 0.31
    assert embedder_floor(object()) is None


def test_calibrate_floor_writes_the_manifest_the_engine_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.embed_floor as embed_floor
    from tests.training.test_embed_registry import fake_model
    from training.embed_registry import calibrate_registered, register_embedding

    data = tmp_path / "var"
    man = register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    assert "relevance_floor" not in man  # not exported: not run, not calibrated
    folder = data / "models" / "v0001" / man["model_dir"]
    assert manifest_floor(folder) is None
    seen: dict[str, object] = {}

    def fake_calibration(
        data_dir: Path, model_path: Path, model_name: str, source: Path | None = None
    ) -> dict[str, object]:
        seen.update(path=model_path, name=model_name, source=source)
        return {"value": 0.26, "quantile": 0.97, "method": "test"}

    monkeypatch.setattr(embed_floor, "calibrate_version", fake_calibration)
    entry = calibrate_registered(data, "v0001", tmp_path / "profiles")
    assert entry["value"] == 0.26
    assert seen == {"path": folder, "name": man["model_name"], "source": tmp_path / "profiles"}
    assert manifest_floor(folder) == 0.26  # what the engine applies
    on_disk = json.loads((data / "models" / "v0001" / "manifest.json").read_text())
    assert on_disk["relevance_floor"]["quantile"] == 0.97
    assert on_disk["weights_digest"] == man["weights_digest"]  # the rest is kept


def test_the_floor_is_calibrated_on_the_database_the_command_was_given(tmp_path: Path) -> None:
    # `matcher --database-url URL models register-embed`: the profiles are in URL's database,
    # not in a matcher.db of the data dir (which found 0 profiles and stored no floor)
    from matcher.registry_sync import database_url_for
    from matcher.store import Database, Store
    from training.embed_floor import calibration_organisations

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db = Database(url)
    db.create_all()
    Store(db).upsert_organisations(orgs(12))
    db.dispose()
    data = tmp_path / "var"
    data.mkdir()
    with database_url_for(url):
        assert len(calibration_organisations(data)) == 12
        other = tmp_path / "elsewhere"  # a calibration dir named explicitly is still its own
        other.mkdir()
        assert calibration_organisations(data, other) == []
    assert calibration_organisations(data) == []  # no URL given: the data dir's own database
