"""Index artifacts on disk: one directory per generation, written atomically, with a manifest.

Layout: `<data_dir>/indexes/organisations/gen-000007/` holding `manifest.json`, `pks.npy`,
`hashes.npy`, `vectors.npy`, `lexical/` and, for large corpora, `ann/`. The database records the
current generation only after the directory is complete, so a crash mid-build leaves the previous
generation in use.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from matcher import __version__
from matcher.atomic import atomic_directory, atomic_save_npy, atomic_write_text
from matcher.errors import ArtifactMismatchError
from matcher.index.base import VectorIndex
from matcher.index.factory import load_index
from matcher.index.lexical import LexicalIndex

logger = logging.getLogger(__name__)

FORMAT = 1


@dataclass
class IndexArtifact:
    generation: int
    model: str
    dimension: int
    pks: np.ndarray
    hashes: np.ndarray
    vectors: np.ndarray
    lexical: LexicalIndex
    ann: VectorIndex | None
    manifest: dict[str, Any]
    mean: np.ndarray | None = None  # corpus mean embedding subtracted before cosine, if centred


def generation_dir(root: Path, generation: int) -> Path:
    return root / f"gen-{generation:06d}"


def data_hash(pks: np.ndarray, hashes: np.ndarray) -> str:
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(pks, dtype=np.int64).tobytes())
    for t in hashes.tolist():
        h.update(str(t).encode())
    return h.hexdigest()


def save_artifact(root: Path, art: IndexArtifact) -> Path:
    final = generation_dir(root, art.generation)
    with atomic_directory(final) as tmp:
        atomic_save_npy(tmp / "pks.npy", art.pks.astype(np.int64))
        atomic_save_npy(tmp / "hashes.npy", art.hashes.astype("U64"))
        atomic_save_npy(tmp / "vectors.npy", art.vectors.astype(np.float32))
        if art.mean is not None:
            atomic_save_npy(tmp / "mean.npy", art.mean.astype(np.float32))
        art.lexical.save(tmp / "lexical")
        if art.ann is not None:
            art.ann.save(tmp / "ann")
        manifest = {
            **art.manifest,  # what the caller records (model identity, source of the mean)
            "format": FORMAT,
            "generation": art.generation,
            "model": art.model,
            "dimension": art.dimension,
            "count": int(art.pks.size),
            "ann": art.ann.kind if art.ann is not None else None,
            "centred": art.mean is not None,
            "data_hash": data_hash(art.pks, art.hashes),
            "matcher_version": __version__,
            "numpy_version": np.__version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        art.manifest = manifest
    return final


def load_artifact(
    root: Path,
    generation: int,
    *,
    model: str,
    dimension: int,
    centred: bool,
    identity: str | None = None,
) -> IndexArtifact:
    directory = generation_dir(root, generation)
    path = directory / "manifest.json"
    if not path.exists():
        raise ArtifactMismatchError(f"index generation {generation} is missing at {directory}")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise ArtifactMismatchError(f"index format {manifest.get('format')} is not {FORMAT}")
    if manifest.get("model") != model or manifest.get("dimension") != dimension:
        raise ArtifactMismatchError(
            f"index was built with {manifest.get('model')} ({manifest.get('dimension')} dims), "
            f"the engine uses {model} ({dimension} dims)"
        )
    saved_identity = manifest.get("model_identity")  # absent in generations saved before it
    if identity is not None and saved_identity is not None and saved_identity != identity:
        raise ArtifactMismatchError(
            f"index was built with model files {saved_identity}, the engine uses {identity}"
        )
    if bool(manifest.get("centred")) != centred:
        raise ArtifactMismatchError(
            f"index centring is {manifest.get('centred')}, the settings ask for {centred}"
        )
    pks = np.load(directory / "pks.npy", allow_pickle=False)
    hashes = np.load(directory / "hashes.npy", allow_pickle=False)
    # memory-mapped copy-on-write: only rows that are read are paged in
    vectors = np.asarray(np.load(directory / "vectors.npy", mmap_mode="c", allow_pickle=False))
    if not (pks.shape[0] == hashes.shape[0] == vectors.shape[0] == manifest["count"]):
        raise ArtifactMismatchError(f"index generation {generation} has inconsistent arrays")
    if data_hash(pks, hashes) != manifest["data_hash"]:
        raise ArtifactMismatchError(f"index generation {generation} fails its data hash")
    mean = None
    if centred:
        try:
            mean = np.load(directory / "mean.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ArtifactMismatchError(
                f"index generation {generation} has no mean: {exc}"
            ) from exc
        if mean.shape != (dimension,):
            raise ArtifactMismatchError(f"index generation {generation} has a bad mean vector")
    lexical = LexicalIndex.load(directory / "lexical")
    ann = load_index(directory / "ann") if (directory / "ann").exists() else None
    return IndexArtifact(
        generation, model, dimension, pks, hashes, vectors, lexical, ann, manifest, mean
    )


def prune_generations(root: Path, keep: set[int]) -> None:
    """Remove generation folders not in `keep` (the current and the previous one)."""
    if not root.exists():
        return
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith("gen-"):
            try:
                gen = int(child.name[4:])
            except ValueError:
                continue
            if gen not in keep:
                shutil.rmtree(child, ignore_errors=True)
