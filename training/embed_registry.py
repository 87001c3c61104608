"""Fine-tuned embedding models as versions of the model registry (issue 13, item 1).

A version of kind "embedding" holds the sentence-transformers folder (`model-vNNNN/`, its
files hard-linked from the fine-tune's output where the file system allows) and a manifest:
the model name the engine will serve it under (content-addressed: the embedding cache and the
index artifacts are keyed by it, so publishing it re-embeds every profile on the next build),
the sha256 of its weights, and the fine-tune's own manifest (base model and digest, data hash,
pairs, loss, options, held-out states). It is exported to int8 ONNX at registration, into the
same cache the engine reads (`<data_dir>/models/onnx`), so the first build does not pay for it.

The published embedding model has its own pointer, `models/EMBEDDING` (the ranking weights
keep `CURRENT`): `publish_embedding` runs the gate's verdict (`training.embed_gate`, written to
the version's `gate.json`) and refuses a candidate that is worse, was never evaluated, or was
evaluated against another model than the one published now, unless forced. `rollback_embedding`
goes back to the previous one (None: the default model).
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.atomic import atomic_directory, atomic_write_text, clean_stale_temps
from matcher.embedding.published import FLOOR_KEY, POINTER, pointer_path
from training.registry import (
    HISTORY_KEPT,
    MANIFEST,
    NAME_RE,
    PublishRefused,
    Registry,
    RegistryError,
)

logger = logging.getLogger(__name__)

KIND = "embedding"
GATE_FILE = "gate.json"
FINETUNE_MANIFEST = "finetune.json"
BASE_SHORT = "all-MiniLM-L6-v2"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_embedding(manifest: dict[str, Any]) -> bool:
    return manifest.get("kind") == KIND


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a folder, hard-linking files where possible (the weights are 90 MB)."""

    def link_or_copy(s: str, d: str) -> object:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
        return d

    shutil.copytree(src, dst, copy_function=link_or_copy)


def register_embedding(
    data_dir: Path | str,
    model_dir: Path | str,
    *,
    export: bool = True,
    calibrate: bool | None = None,
    calibration_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Register a fine-tuned model folder (with its finetune.json) as a new version; returns
    its manifest. The same weights registered twice are refused (naming the version).
    `calibrate` (default: as `export`; it runs the model as the engine does): its relevance
    floor from the organisations of `calibration_dir` (default: `data_dir`;
    training.embed_floor), stored in the manifest as `relevance_floor`."""
    from training.finetune.train import base_digest

    model_dir = Path(model_dir)
    ft_file = model_dir / FINETUNE_MANIFEST
    if not (model_dir / "config.json").is_file():
        raise RegistryError(f"{model_dir} is not a sentence-transformers model (no config.json)")
    if not ft_file.is_file():
        raise RegistryError(
            f"{model_dir} has no {FINETUNE_MANIFEST}: only models made by "
            "`matcher train embed` can be registered (their manifest names base and data)"
        )
    try:
        finetune = json.loads(ft_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"unreadable {ft_file}: {exc}") from exc
    digest = base_digest(model_dir)
    registry = Registry(data_dir)
    label = str(finetune.get("name") or model_dir.name)
    with registry._locked():  # (on PostgreSQL its versions include the other machines')
        for v in registry.versions():
            man = registry.manifest(v)
            if is_embedding(man) and man.get("weights_digest") == digest:
                raise RegistryError(f"these weights are registered already, as {v}")
        clean_stale_temps(registry.root)
        version = registry._next_version()
        folder = f"model-{version}"
        manifest: dict[str, Any] = {
            "kind": KIND,
            "version": version,
            "created_at": _now(),
            "model_name": f"{BASE_SHORT}-ft-{label}-{digest[:8]}",
            "model_dir": folder,
            "weights_digest": digest,
            "source": str(model_dir.resolve()),
            "finetune": finetune,
        }
        with atomic_directory(registry.root / version) as tmp:
            _link_tree(model_dir, tmp / folder)
            manifest["size_bytes"] = sum(
                f.stat().st_size for f in (tmp / folder).rglob("*") if f.is_file()
            )
            manifest["onnx_int8"] = _export(tmp / folder, Path(data_dir)) if export else None
            if export if calibrate is None else calibrate:
                manifest[FLOOR_KEY] = _calibrate(
                    Path(data_dir), tmp / folder, manifest["model_name"], calibration_dir
                )
            atomic_write_text(tmp / MANIFEST, json.dumps(manifest, indent=2, default=str))
    logger.info("registered embedding model %s as %s", manifest["model_name"], version)
    return manifest


def _export(model_path: Path, data_dir: Path) -> dict[str, Any]:
    """int8 ONNX export into the engine's cache (keyed by folder name and weights, so the
    export made here from the temporary folder is the one found after the rename)."""
    from matcher.embedding.onnx import export_onnx

    onnx = export_onnx(model_path, data_dir / "models" / "onnx", quantize=True)
    return {"file": str(onnx.relative_to(data_dir)), "size_bytes": onnx.stat().st_size}


def _calibrate(
    data_dir: Path, model_path: Path, model_name: str, calibration_dir: Path | str | None
) -> dict[str, Any]:
    from training.embed_floor import calibrate_version

    entry = calibrate_version(
        data_dir, model_path, model_name, Path(calibration_dir) if calibration_dir else None
    )
    if entry.get("value") is None:
        logger.warning("no relevance floor calibrated for %s: %s", model_name, entry["reason"])
    return entry


def calibrate_registered(
    data_dir: Path | str, version: str, calibration_dir: Path | str | None = None
) -> dict[str, Any]:
    """Calibrate (again) the relevance floor of a registered embedding version, e.g. one
    registered before floors were calibrated or on a data dir without profiles; rewrites its
    manifest and returns the entry."""
    registry = Registry(data_dir)
    with registry._locked():
        man = registry.manifest(version)
        if not is_embedding(man):
            raise RegistryError(f"'{version}' is not an embedding model")
        entry = _calibrate(
            Path(data_dir),
            registry.root / version / man["model_dir"],
            man["model_name"],
            calibration_dir,
        )
        man[FLOOR_KEY] = entry
        atomic_write_text(
            registry.root / version / MANIFEST, json.dumps(man, indent=2, default=str)
        )
    return entry


# ------------------------------------------------------------------------ the pointer


def embedding_pointer(data_dir: Path | str) -> dict[str, Any]:
    path = pointer_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": None, "history": []}
    except (OSError, ValueError) as exc:
        raise RegistryError(f"unreadable {path}: {exc}") from exc
    return {**data, "history": list(data.get("history") or [])}


def _write_pointer(
    registry: Registry,
    version: str | None,
    history: builtins.list[str | None],
    *,
    forced: bool = False,
) -> None:
    payload: dict[str, Any] = {
        "version": version,
        "history": history[-HISTORY_KEPT:],
        "published_at": _now(),
        "forced": forced,
    }
    if version is not None:
        man = registry.manifest(version)
        payload.update(model_name=man["model_name"], model_dir=man["model_dir"])
    atomic_write_text(registry.root / POINTER, json.dumps(payload, indent=2) + "\n")


def read_gate(registry: Registry, version: str) -> dict[str, Any] | None:
    path = registry.root / version / GATE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"unreadable {path}: {exc}") from exc
    return data if isinstance(data, dict) else None


def gate_problem(registry: Registry, version: str) -> str | None:
    """Why `version` may not be published without --force (None: it may)."""
    gate = read_gate(registry, version)
    current = embedding_pointer(registry.root.parent)["version"]
    if gate is None:
        return f"'{version}' has not been evaluated: run `matcher models evaluate-embed {version}`"
    if gate.get("published") != current:
        return (
            f"'{version}' was evaluated against {gate.get('published') or 'the default model'}, "
            f"but {current or 'the default model'} is published now: evaluate it again"
        )
    if gate.get("verdict") != "pass":
        return f"'{version}' did not pass the gate: {gate.get('reason')}"
    return None


def publish_embedding(registry: Registry, version: str, *, force: bool = False) -> dict[str, Any]:
    with registry._locked():
        man = registry.manifest(version)
        if not is_embedding(man):
            raise RegistryError(f"'{version}' is not an embedding model")
        pointer = embedding_pointer(registry.root.parent)
        if pointer["version"] == version:
            return {"published": version, "changed": False, "kind": KIND}
        problem = gate_problem(registry, version)
        if problem is not None and not force:
            raise PublishRefused(f"{problem} (use --force to publish anyway)")
        history = [*pointer["history"], pointer["version"]]
        _write_pointer(registry, version, history, forced=problem is not None)
    logger.info("published embedding model %s (%s)", version, man["model_name"])
    return {
        "published": version,
        "changed": True,
        "kind": KIND,
        "previous": pointer["version"],
        "model_name": man["model_name"],
        "forced_past": problem,
    }


def rollback_embedding(registry: Registry) -> dict[str, Any]:
    with registry._locked():
        pointer = embedding_pointer(registry.root.parent)
        if not pointer["history"]:
            raise RegistryError("nothing to roll back to: no earlier published embedding model")
        history = list(pointer["history"])
        target = history.pop()
        if target is not None and not NAME_RE.match(str(target)):
            raise RegistryError(f"bad version {target!r} in {registry.root / POINTER}")
        _write_pointer(registry, target, history)
    return {"from": pointer["version"], "to": target, "kind": KIND}


def summary(registry: Registry, man: dict[str, Any]) -> dict[str, Any]:
    """A `models list` row of an embedding version (the gate's verdict as its metric)."""
    pointer = embedding_pointer(registry.root.parent)
    gate = read_gate(registry, man["version"]) or {}
    ft = man.get("finetune") or {}
    return {
        "version": man["version"],
        "kind": KIND,
        "created_at": man.get("created_at"),
        "model_name": man.get("model_name"),
        "pairs": ft.get("pairs"),
        "gate": gate.get("verdict", "not evaluated"),
        "primary": None,
        "value": None,
        "weights": None,
        "fallback": None,
        "published": man["version"] == pointer["version"],
        "previous": bool(pointer["history"]) and man["version"] == pointer["history"][-1],
    }
