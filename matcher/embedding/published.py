"""The published embedding model: `<data_dir>/models/EMBEDDING` names a registered version.

The pointer is written (atomically) by the model registry (`matcher models publish` of an
embedding version, `matcher models rollback --embedding`); this module only reads it, so the
engine does not depend on the training code. Without a pointer the default model is used.
Explicit `MATCHER_MODEL_PATH` always wins over the pointer (settings.model_path).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import ModelLoadError
from matcher.pointer_file import PointerUnreadable, read_pointer

logger = logging.getLogger(__name__)

POINTER = "EMBEDDING"
MODELS_DIR = "models"


@dataclass(frozen=True)
class PublishedModel:
    version: str
    path: Path  # the sentence-transformers folder inside the version
    name: str  # the model name: the embedding cache and index artifacts are keyed by it


def pointer_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / MODELS_DIR / POINTER


def published_model(data_dir: Path | str) -> PublishedModel | None:
    """The published embedding model, None when the default one is in use. A pointer that
    cannot be read, or names a version whose model is gone, is an error (serving another
    model than the published one silently would re-embed everything with it)."""
    path = pointer_path(data_dir)
    try:
        data = read_pointer(path)
    except PointerUnreadable as exc:
        raise ModelLoadError(f"the embedding-model pointer: {exc}") from exc
    if data is None or data.get("version") is None:
        return None
    version = data["version"]
    name, folder = data.get("model_name"), data.get("model_dir")
    if not isinstance(name, str) or not isinstance(folder, str):
        raise ModelLoadError(f"{path} names {version!r} without model_name and model_dir")
    model_path = Path(data_dir) / MODELS_DIR / str(version) / folder
    if not (model_path / "config.json").is_file():
        raise ModelLoadError(
            f"published embedding model {version} has no model in {model_path}: "
            "`matcher models rollback --embedding` to go back"
        )
    return PublishedModel(str(version), model_path, name)


FLOOR_KEY = "relevance_floor"  # a version manifest's calibrated floor (training.embed_floor)
MANIFEST = "manifest.json"
_floors: dict[tuple[str, int], float | None] = {}


def manifest_floor(model_path: Path | str | None) -> float | None:
    """The relevance floor calibrated for a registered model (its version's manifest, next to
    the model folder, of kind "embedding": `relevance_floor.value`); None for a model outside
    the registry (no such manifest, another file, an unreadable one) or without a floor.
    Memoised on the manifest's path and modification time."""
    if model_path is None:
        return None
    path = Path(model_path).parent / MANIFEST
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return None
    if key not in _floors:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # not a registry version's manifest: no floor
            logger.warning("no relevance floor read from %s: %s", path, exc)
            data = None
        if not isinstance(data, dict) or data.get("kind") != "embedding":
            data = None  # a manifest.json beside a folder outside the registry
        entry = data.get(FLOOR_KEY) if data is not None else None
        value = entry.get("value") if isinstance(entry, dict) else None
        _floors[key] = float(value) if isinstance(value, int | float) else None
    return _floors[key]


def embedder_floor(embedder: object) -> float | None:
    """`manifest_floor` of the model an embedder (or the embedder it wraps) runs."""
    seen = 0
    while embedder is not None and seen < 5:
        path = getattr(embedder, "model_path", None)
        if path is not None:
            return manifest_floor(path)
        embedder = getattr(embedder, "embedder", None)
        seen += 1
    return None
