"""A model's identity: its name and a digest of its files, so two models that share a name
(a fine-tuned folder served under the base model's name, weights replaced in place) never
share cached vectors or an index generation.

`model_identity(embedder)` is `name@digest16` for an embedder read from a model folder
(`model_path`), where the digest covers the weights, tokenizer and configuration files (their
bytes, not their dates) and, for the ONNX backend, the export recipe; embedders without files
(the hashing embedder, test fakes) are identified by their name alone.

Vectors cached before identities existed are keyed by the bare name. `adopt_legacy` keeps them
usable without trusting the name: it re-embeds a few of the texts concerned and adopts the old
vectors only when they agree with the model's own output.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.embedding.base import EmbeddingCache

logger = logging.getLogger(__name__)

DIGEST_CHARS = 16
_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model", ".onnx")
_SKIP = {"data_config.json", "README.md", "train_script.py"}
LEGACY_SAMPLE = 4  # texts re-embedded to decide whether old vectors belong to this model
LEGACY_MIN_COSINE = 0.995  # int8 batches differ by far less; another model's by far more


def _model_files(folder: Path) -> list[Path]:
    files = []
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if not f.is_file() or f.name in _SKIP or f.suffix not in _SUFFIXES:
            continue
        if any(p.startswith((".", "checkpoint")) for p in rel.parts):
            continue
        files.append(f)
    return files


@functools.lru_cache(maxsize=16)
def _digest(folder: str, signature: tuple[tuple[str, int, int], ...], recipe: str) -> str:
    h = hashlib.sha256(recipe.encode())
    root = Path(folder)
    for name, _, _ in signature:
        h.update(name.encode() + b"\0")
        with (root / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def model_digest(folder: Path, recipe: str = "") -> str:
    """sha256 of the model files' names and bytes (and `recipe`); computed once per process
    while the files' sizes and modification times stay the same."""
    folder = Path(folder)
    signature = tuple(
        (str(f.relative_to(folder)), f.stat().st_size, f.stat().st_mtime_ns)
        for f in _model_files(folder)
    )
    return _digest(str(folder.resolve()), signature, recipe)


def model_identity(embedder: Any) -> str:
    """The key of `embedder`'s vector space: `name@digest16`, or the name for a model without
    files."""
    name = str(embedder.model_name)
    path = getattr(embedder, "model_path", None)
    if path is None or not Path(path).is_dir():
        return name
    recipe = ""
    if hasattr(embedder, "quantize"):  # the ONNX backend: the export recipe changes vectors
        from matcher.embedding.onnx import OPSET

        recipe = f"onnx-opset{OPSET}-q{int(bool(embedder.quantize))}"
    return f"{name}@{model_digest(Path(path), recipe)[:DIGEST_CHARS]}"


def legacy_name(identity: str) -> str | None:
    """The bare name vectors of this identity were cached under before identities, if any."""
    name, sep, _ = identity.rpartition("@")
    return name if sep else None


def adopt_legacy(
    cache: EmbeddingCache,
    identity: str,
    texts: Mapping[str, str],
    encode: Any,
    *,
    verified: bool = False,
) -> tuple[dict[str, np.ndarray], bool | None]:
    """Vectors of `texts` (by hash) cached under the bare model name, copied under `identity`
    when a sample of them, re-embedded by `encode`, agrees (cosine >= LEGACY_MIN_COSINE), or
    without a sample when an earlier call `verified` them. Returns the adopted vectors and
    whether the sample agreed (None: nothing to check); ({}, False) for another model's."""
    legacy = legacy_name(identity)
    if legacy is None or not texts:
        return {}, None
    found = cache.get_many(legacy, list(texts))
    if not found:
        return {}, None
    if verified:
        cache.put_many(identity, found)
        return found, True
    sample = sorted(found)[:LEGACY_SAMPLE]
    fresh = np.asarray(encode([texts[h] for h in sample]), dtype=np.float32)
    old = np.stack([found[h] for h in sample]).astype(np.float32)
    if old.shape != fresh.shape:
        logger.warning("not adopting vectors cached as %s: shape %s", legacy, old.shape)
        return {}, False
    cosine = float(np.min(np.sum(old * fresh, axis=1)))
    if cosine < LEGACY_MIN_COSINE:
        logger.warning(
            "not adopting %d vectors cached as %s: they are not %s's (cosine %.3f)",
            len(found),
            legacy,
            identity,
            cosine,
        )
        return {}, False
    cache.put_many(identity, found)
    logger.info("adopted %d vectors cached as %s for %s", len(found), legacy, identity)
    return found, True
