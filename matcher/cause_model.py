"""Causes learned from labelled profiles: a prototype classifier calibrated by temperature.

Analysts hold better evidence of what a cause looks like than its definition: the profiles that
carry its code (the IRS gives nearly every US nonprofit an NTEE code). A cause's prototype is the
normalised mean of its labelled members' embeddings; P(cause | text) is a softmax over the
similarities to the prototypes, with the temperature chosen by log-loss on labelled rows held out
of the prototypes (temperature scaling, the standard calibration of a softmax classifier). The
result plugs into the engine's cause space in place of the definitions' embeddings
(`Engine.set_cause_prototypes`); causes with too few members are left out.

A cause's definition (from a taxonomy file the analyst names) can be added as labelled data of
its own class, as a second prototype for the texts asked about (needs, cause searches): their
similarity to the cause is the higher of their similarities to the members' mean and to the
definition (a nearest-prototype classifier with two prototypes a class). A definition is
written the way a cause is asked for, not the way an organisation describes itself, so profiles
are classified by their peers' missions alone (`CauseSpace.query_distribution`). Only causes
learned from members get one: the definitions never add a cause, so the cause space stays the
learned one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matcher.atomic import atomic_directory
from matcher.causes import Cause
from matcher.errors import ArtifactMismatchError, ValidationError

TEMPERATURES = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)
# The definition's share of a learned cause's second prototype (the rest: its members' mean).
# Chosen on the queries of the training states of T1 and T3 (training/bench_defweight.py): T1
# P@10 0.356 / 0.396 / 0.412 / 0.419 / 0.419 at 0 / 0.25 / 0.5 / 0.75 / 1, T3 flat (0.190 +-
# 0.001); the smallest weight within noise of the best (README, issue 13). A definition is
# written as a cause is asked for, not as a need is: at full weight it pulls plain-language
# needs towards the wording of the taxonomy (T4 nonprofit P@5 0.442 -> 0.425).
DEFINITION_WEIGHT = 0.5


@dataclass(frozen=True)
class LearnedCauses:
    causes: list[Cause]
    vectors: np.ndarray  # one normalised prototype per cause
    temperature: float
    members: dict[str, int]  # cause code -> labelled profiles behind its prototype
    log_loss: float  # on the held-out labelled rows, at `temperature`
    second: np.ndarray | None = None  # per cause its definition (or its prototype again)
    definitions: int = 0  # causes with their definition as a second prototype
    definition_weight: float | None = None  # the definition's share of the second prototype


def prototypes(
    vectors: np.ndarray, labels: Sequence[str] | np.ndarray, codes: Sequence[str]
) -> np.ndarray:
    """The normalised mean embedding of each code's labelled rows (codes in order)."""
    lab = np.asarray(labels)
    out = np.stack([vectors[lab == c].mean(axis=0) for c in codes]).astype(np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def definition_prototypes(
    protos: np.ndarray,
    codes: Sequence[str],
    definitions: Mapping[str, np.ndarray],
    weight: float = 1.0,
) -> np.ndarray:
    """Each code's second prototype, in the codes' order: its normalised definition embedding
    mixed with its members' prototype, `weight` the definition's share (1: the definition
    alone; 0: the prototype again), normalised; a code without a definition gets its
    prototype (so the higher of the two similarities is the prototype's)."""
    if not 0.0 <= weight <= 1.0:
        raise ValidationError(f"definition weight {weight} is not between 0 and 1")
    out = np.array(protos, dtype=np.float32, copy=True)
    for i, c in enumerate(codes):
        d = definitions.get(c)
        if d is not None:
            d = np.asarray(d, dtype=np.float32)
            mixed = weight * d / max(float(np.linalg.norm(d)), 1e-12) + (1 - weight) * out[i]
            out[i] = mixed / max(float(np.linalg.norm(mixed)), 1e-12)
    return out


def _log_loss(sims: np.ndarray, target: np.ndarray, temperature: float) -> float:
    logits = sims / temperature
    logits -= logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(log_z - logits[np.arange(len(target)), target]))


def learn_causes(
    vectors: np.ndarray,
    labels: Sequence[str],
    titles: Mapping[str, str] | None = None,
    *,
    min_members: int = 5,
    holdout: float = 0.2,
    seed: int = 0,
    definitions: Mapping[str, np.ndarray] | None = None,
    definition_weight: float = DEFINITION_WEIGHT,
) -> LearnedCauses:
    """Prototypes of every code with at least `min_members` labelled rows, and the calibrated
    temperature. `titles`: code -> readable title (the code itself when missing).
    `definitions`: code -> embedding of the code's definition (same space as `vectors`), its
    second prototype (for queries); the temperature is calibrated on the labelled profiles,
    which the first prototypes alone classify. `definition_weight`: the definition's share of
    the second prototype (`definition_prototypes`)."""
    defs = dict(definitions or {})
    vecs = np.asarray(vectors, dtype=np.float32)
    lab = np.asarray([str(x) for x in labels])
    if vecs.ndim != 2 or vecs.shape[0] != lab.size:
        raise ValidationError(f"{lab.size} labels for vectors of shape {vecs.shape}")
    found, counts = np.unique(lab, return_counts=True)
    codes = [str(c) for c, n in zip(found, counts, strict=True) if n >= min_members]
    if len(codes) < 2:
        raise ValidationError(
            f"too few labelled profiles: {len(codes)} causes have at least {min_members} "
            "members (at least 2 are needed)"
        )
    keep = np.isin(lab, codes)
    vecs, lab = vecs[keep], lab[keep]
    rng = np.random.default_rng(seed)
    held = rng.random(lab.size) < holdout
    # every code keeps members on the prototype side
    for c in codes:
        rows = np.flatnonzero(lab == c)
        if not (~held[rows]).any():
            held[rows[0]] = False
    fit_protos = prototypes(vecs[~held], lab[~held], codes)
    index = {c: i for i, c in enumerate(codes)}
    target = np.asarray([index[c] for c in lab[held]])
    sims = vecs[held] @ fit_protos.T
    losses = {t: _log_loss(sims, target, t) for t in TEMPERATURES} if held.any() else {0.05: 0.0}
    temperature = min(losses, key=lambda t: losses[t])
    titles = titles or {}
    causes = [
        Cause(code=c, title=titles.get(c) or c, definition=f"Learned from {n} labelled profiles.")
        for c, n in zip(found, counts, strict=True)
        if str(c) in index
    ]
    protos = prototypes(vecs, lab, codes)
    return LearnedCauses(
        causes=causes,
        vectors=protos,
        temperature=temperature,
        members={str(c): int(n) for c, n in zip(found, counts, strict=True) if str(c) in index},
        log_loss=round(losses[temperature], 4),
        second=definition_prototypes(protos, codes, defs, definition_weight) if defs else None,
        definitions=sum(c in defs for c in codes),
        definition_weight=definition_weight if defs else None,
    )


LEARNED_DIR = "learned-causes"
DEFINITIONS_FILE = "definitions.npy"  # the second prototypes, when definitions were added
FORMAT = 1


def space_digest(mean: np.ndarray | None, model: str, dimension: int) -> str:
    """What the prototypes' vectors depend on: the model and the index's centring mean."""
    h = hashlib.sha256(f"{model}\x1f{dimension}".encode())
    h.update(b"none" if mean is None else np.ascontiguousarray(mean, np.float32).tobytes())
    return h.hexdigest()[:16]


def save_learned(directory: Path, learned: LearnedCauses, digest: str) -> Path:
    """Write the learned causes as a self-describing folder (manifest + prototypes.npy),
    atomically: a crash leaves the previous one intact."""
    final = Path(directory) / LEARNED_DIR
    with atomic_directory(final) as tmp:
        np.save(tmp / "prototypes.npy", learned.vectors.astype(np.float32), allow_pickle=False)
        if learned.second is not None:
            second = learned.second.astype(np.float32)
            np.save(tmp / DEFINITIONS_FILE, second, allow_pickle=False)
        manifest = {
            "format": FORMAT,
            "space": digest,
            "temperature": learned.temperature,
            "log_loss": learned.log_loss,
            "definitions": learned.definitions,
            "definition_weight": learned.definition_weight,
            "causes": [
                {"code": c.code, "title": c.title, "members": learned.members[c.code]}
                for c in learned.causes
            ],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return final


def load_learned(directory: Path, digest: str) -> LearnedCauses | None:
    """The saved learned causes, or None when there are none; ArtifactMismatchError when they
    were learned in another embedding space (another model or index build)."""
    folder = Path(directory) / LEARNED_DIR
    if not (folder / "manifest.json").is_file():
        return None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("space") != digest:
        raise ArtifactMismatchError(
            "the learned causes were made for another model or index build: run "
            "`matcher train causes` again"
        )
    vectors = np.load(folder / "prototypes.npy", allow_pickle=False)
    rows = manifest["causes"]
    if vectors.shape[0] != len(rows):
        raise ArtifactMismatchError(f"{len(rows)} causes but {vectors.shape[0]} prototypes")
    second = None
    if (folder / DEFINITIONS_FILE).is_file():
        second = np.load(folder / DEFINITIONS_FILE, allow_pickle=False)
        if second.shape != vectors.shape:
            raise ArtifactMismatchError(
                f"{second.shape[0]} definition prototypes for {len(rows)} causes"
            )
    causes = [
        Cause(code=r["code"], title=r["title"], definition=f"Learned from {r['members']} profiles.")
        for r in rows
    ]
    return LearnedCauses(
        causes=causes,
        vectors=vectors,
        temperature=float(manifest["temperature"]),
        members={r["code"]: int(r["members"]) for r in rows},
        log_loss=float(manifest["log_loss"]),
        second=second,
        definitions=int(manifest.get("definitions", 0)),
        definition_weight=manifest.get("definition_weight"),
    )
