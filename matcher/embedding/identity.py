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
# Whether vectors cached under the bare model name are this model's: a sample is re-embedded and
# compared. The same int8 model's vectors of one text differ with the batch it was embedded in
# (dynamic quantisation scales by the batch): measured over 200 IRS missions, one text alone
# against a batch of 64, cosine min 0.988 / mean 0.9925 (short clauses: min 0.982), and fp32
# against int8 min 0.987 / mean 0.992; a fine-tuned MiniLM against the base: mean 0.885-0.929,
# max 0.974. The old single threshold of 0.995 on the least cosine of 4 texts refused the same
# model's vectors, and a build then embedded every profile again.
LEGACY_SAMPLE = 16  # texts re-embedded to decide
LEGACY_MIN_MEAN = 0.985  # mean cosine of the sample
LEGACY_MIN_COSINE = 0.97  # and its least


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


def legacy_agrees(old: np.ndarray, fresh: np.ndarray) -> tuple[bool, float, float]:
    """Whether vectors cached earlier (`old`) are the model's that re-embedded them (`fresh`),
    with the mean and least cosine of the pairs."""
    if old.shape != fresh.shape or not len(old):
        return False, float("nan"), float("nan")
    cos = np.sum(old.astype(np.float32) * fresh.astype(np.float32), axis=1)
    mean, least = float(np.mean(cos)), float(np.min(cos))
    return mean >= LEGACY_MIN_MEAN and least >= LEGACY_MIN_COSINE, mean, least


def verify_legacy(
    cache: EmbeddingCache, identity: str, texts: Mapping[str, str], encode: Any
) -> bool | None:
    """Whether the vectors cached under the bare model name for some of `texts` (by hash) are
    this model's, by re-embedding a sample of them (None: none cached, nothing to check)."""
    legacy = legacy_name(identity)
    if legacy is None or not texts:
        return None
    present = getattr(cache, "present", None)
    held = sorted(present(legacy, list(texts)) if present else cache.get_many(legacy, list(texts)))
    sample = held[:LEGACY_SAMPLE]
    if not sample:
        return None
    found = cache.get_many(legacy, sample)
    sample = [h for h in sample if h in found]
    old = np.stack([found[h] for h in sample]).astype(np.float32)
    fresh = np.asarray(encode([texts[h] for h in sample]), dtype=np.float32)
    ok, mean, least = legacy_agrees(old, fresh)
    if not ok:
        logger.warning(
            "not adopting the vectors cached as %s: they are not %s's (cosine mean %.3f, "
            "least %.3f over %d texts)",
            legacy,
            identity,
            mean,
            least,
            len(sample),
        )
    return ok


def adopt_legacy(
    cache: EmbeddingCache,
    identity: str,
    texts: Mapping[str, str],
    encode: Any,
    *,
    verified: bool = False,
) -> tuple[dict[str, np.ndarray], bool | None]:
    """Vectors of `texts` (by hash) cached under the bare model name, copied under `identity`
    when a sample of them, re-embedded by `encode`, agrees (`legacy_agrees`), or without a
    sample when an earlier call `verified` them. Returns the adopted vectors and whether the
    sample agreed (None: nothing to check); ({}, False) for another model's."""
    legacy = legacy_name(identity)
    if legacy is None or not texts:
        return {}, None
    found = cache.get_many(legacy, list(texts))
    if not found:
        return {}, None
    if not verified:
        ok = verify_legacy(cache, identity, {h: texts[h] for h in found}, encode)
        if not ok:
            return {}, ok
    cache.put_many(identity, found)
    logger.info("adopted %d vectors cached as %s for %s", len(found), legacy, identity)
    return found, True
