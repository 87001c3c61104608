"""A fine-tuned embedding model as a registry version: registration (manifest, content-addressed
name, no duplicates), its own published pointer beside the ranking weights, the gate's verdict
enforced by publish (unless forced), the engine's embedder switching with publish and back with
rollback, and MATCHER_MODEL_PATH winning over the pointer. Fake model folders (config files and
bytes): nothing loads a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.embedding.factory import create_embedder
from matcher.embedding.published import published_model
from matcher.errors import ModelLoadError
from matcher.settings import Settings
from training.embed_registry import (
    embedding_pointer,
    publish_embedding,
    register_embedding,
    rollback_embedding,
)
from training.registry import PublishRefused, Registry, RegistryError


def fake_model(folder: Path, weights: bytes = b"w1", name: str = "dev8") -> Path:
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"embedding_dimension": 384}))
    (folder / "config.json").write_text(json.dumps({"hidden_size": 384}))
    (folder / "model.safetensors").write_bytes(weights)
    finetune = {
        "kind": "embedding-model",
        "base_digest": "b" * 64,
        "data_hash": "d" * 64,
        "pairs": 3000,
        "loss": "MultipleNegativesRankingLoss",
        "hold_out_states": ["HI"],
        "name": name,
    }
    (folder / "finetune.json").write_text(json.dumps(finetune))
    return folder


def gate(registry: Registry, version: str, verdict: str, published: str | None) -> None:
    report = {"verdict": verdict, "reason": "test", "published": published}
    (registry.root / version / "gate.json").write_text(json.dumps(report))


def settings(data: Path, **kw: Any) -> Settings:
    return Settings(data_dir=data, embed_backend="torch", **kw)


def test_register_writes_a_version_with_the_finetune_manifest(tmp_path: Path) -> None:
    data = tmp_path / "var"
    man = register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    assert man["version"] == "v0001" and man["kind"] == "embedding"
    assert man["finetune"]["pairs"] == 3000 and man["finetune"]["data_hash"] == "d" * 64
    assert man["model_name"].startswith("all-MiniLM-L6-v2-ft-dev8-")
    folder = data / "models" / "v0001" / man["model_dir"]
    assert (folder / "model.safetensors").read_bytes() == b"w1"
    assert Registry(data).manifest("v0001")["weights_digest"] == man["weights_digest"]
    with pytest.raises(RegistryError, match="registered already, as v0001"):
        register_embedding(data, fake_model(tmp_path / "again"), export=False)
    other = register_embedding(data, fake_model(tmp_path / "ft2", b"w2"), export=False)
    assert other["version"] == "v0002" and other["model_name"] != man["model_name"]


def test_register_refuses_a_folder_without_its_finetune_manifest(tmp_path: Path) -> None:
    folder = fake_model(tmp_path / "ft")
    (folder / "finetune.json").unlink()
    with pytest.raises(RegistryError, match="no finetune.json"):
        register_embedding(tmp_path / "var", folder, export=False)
    with pytest.raises(RegistryError, match="no config.json"):
        register_embedding(tmp_path / "var", tmp_path, export=False)


def test_publish_switches_the_engine_model_and_rollback_switches_back(tmp_path: Path) -> None:
    data = tmp_path / "var"
    default = create_embedder(settings(data))
    man = register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    registry = Registry(data)
    with pytest.raises(PublishRefused, match="has not been evaluated"):
        registry.publish("v0001")
    gate(registry, "v0001", "pass", None)
    result = registry.publish("v0001")  # the weights' publish hands it to the embedding pointer
    assert result["changed"] and result["kind"] == "embedding" and result["previous"] is None
    assert registry.current() is None  # the ranking weights' pointer is untouched
    embedder = create_embedder(settings(data))
    assert embedder.model_name == man["model_name"] != default.model_name
    assert embedder.model_path == data / "models" / "v0001" / man["model_dir"]  # type: ignore[attr-defined]
    onnx = create_embedder(Settings(data_dir=data, embed_backend="onnx-int8"))
    assert onnx.model_name == f"{man['model_name']}+onnx-int8"
    # an explicit MATCHER_MODEL_PATH wins over the published pointer
    explicit = create_embedder(settings(data, model_path=default.model_path))  # type: ignore[attr-defined]
    assert explicit.model_name == default.model_name
    assert rollback_embedding(registry) == {"from": "v0001", "to": None, "kind": "embedding"}
    assert create_embedder(settings(data)).model_name == default.model_name
    with pytest.raises(RegistryError, match="nothing to roll back"):
        rollback_embedding(registry)


def test_gate_verdicts_and_force(tmp_path: Path) -> None:
    data = tmp_path / "var"
    registry = Registry(data)
    register_embedding(data, fake_model(tmp_path / "a", b"a"), export=False)
    register_embedding(data, fake_model(tmp_path / "b", b"b"), export=False)
    gate(registry, "v0001", "pass", None)
    gate(registry, "v0002", "pass", None)
    publish_embedding(registry, "v0001")
    # v0002 was evaluated against the default model, but v0001 is published now
    with pytest.raises(PublishRefused, match="evaluated against the default model"):
        registry.publish("v0002")
    gate(registry, "v0002", "refuse", "v0001")
    with pytest.raises(PublishRefused, match="did not pass the gate"):
        registry.publish("v0002")
    assert embedding_pointer(data)["version"] == "v0001"
    forced = registry.publish("v0002", force=True)
    assert forced["forced_past"] and embedding_pointer(data)["forced"] is True
    assert rollback_embedding(registry)["to"] == "v0001"
    assert published_model(data).version == "v0001"  # type: ignore[union-attr]


def test_weights_versions_and_embedding_versions_share_the_registry(tmp_path: Path) -> None:
    from matcher.cli import main

    data = tmp_path / "var"
    registry = Registry(data)
    weights = registry.create({"weights": {"fit": 1.0}, "metrics": {"primary": "ndcg@10"}})
    register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    registry.publish(weights, force=True)
    rows = {r["version"]: r for r in registry.list()}
    assert rows["v0001"]["kind"] == "weights" and rows["v0002"]["kind"] == "embedding"
    assert rows["v0002"]["gate"] == "not evaluated" and not rows["v0002"]["published"]
    assert main(["--data-dir", str(data), "models", "rollback", "--embedding"]) == 2
    assert registry.current() == "v0001"


def test_a_broken_pointer_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    data = tmp_path / "var"
    register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    registry = Registry(data)
    gate(registry, "v0001", "pass", None)
    registry.publish("v0001")
    (data / "models" / "v0001" / "model-v0001" / "config.json").unlink()
    with pytest.raises(ModelLoadError, match="rollback --embedding"):
        create_embedder(settings(data))
    (data / "models" / "EMBEDDING").write_text("{not json")
    with pytest.raises(ModelLoadError, match="embedding-model pointer: unreadable .*EMBEDDING"):
        create_embedder(settings(data))
    # valid JSON that is not a pointer was read as "nothing published": the default model,
    # silently (the docstring's promise broken)
    for not_a_pointer in ('"v0001"', "[]", "null"):
        (data / "models" / "EMBEDDING").write_text(not_a_pointer)
        with pytest.raises(ModelLoadError, match="not a JSON object"):
            create_embedder(settings(data))


def test_every_reader_of_a_pointer_refuses_one_that_is_not_an_object(tmp_path: Path) -> None:
    """One reader (matcher.pointer_file) for the registry, pruning and sync: CURRENT holding
    a JSON list made `Registry.pointer` fail with AttributeError."""
    from matcher.registry_files import UNREADABLE, pointer_versions
    from training.registry_prune import prune

    registry = Registry(tmp_path, db=None)
    registry.root.mkdir(parents=True)
    (registry.root / "CURRENT").write_text("[]")
    with pytest.raises(RegistryError, match="unreadable .*CURRENT: not a JSON object"):
        registry.current()
    with pytest.raises(RegistryError, match="not a JSON object: nothing pruned"):
        prune(tmp_path, keep=1, db=None)
    assert pointer_versions(registry.root)["CURRENT"] == UNREADABLE
    (registry.root / "CURRENT").unlink()
    assert registry.current() is None
    assert pointer_versions(registry.root)["CURRENT"] is None


def test_train_evaluate_skips_embedding_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from matcher.cli import main

    data = tmp_path / "var"
    register_embedding(data, fake_model(tmp_path / "ft"), export=False)
    base = ["--data-dir", str(data), "train", "evaluate"]
    assert main(base) == 2  # the newest version is an embedding model: not taken as weights
    assert "no model versions yet" in capsys.readouterr().err
    assert main([*base, "v0001"]) == 2
    assert "models evaluate-embed v0001" in capsys.readouterr().err
