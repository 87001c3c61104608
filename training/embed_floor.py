"""The relevance floor of a registered embedding model, calibrated from data (issue 13).

The engine hides partners whose relevance (best centred cosine to the need) is below a floor
(matcher.score). The base model's floor, 0.20, was calibrated on T4 dev; a fine-tuned model
spreads its cosines differently (it pulls texts of one cause together and pushes the rest
apart), so 0.20 cuts a different share of it and the coalition shrinks or fills with the
unrelated.

Calibration by quantile matching on pairs of unrelated profiles: profiles of the data dir whose
cause codes lie in different major groups (the code's first letter; third-party labels), or
random pairs when too few carry a code. Each model embeds the same profiles; the vectors are
centred on their own mean, as the engine centres on the corpus mean. `q` = the share of the
pairs the base model puts below its floor; the new model's floor is the q-quantile of its own
cosines over the same pairs: it cuts the same share of the unrelated as the base floor does.
Stored in the version's manifest (`relevance_floor`), which the engine reads
(matcher.embedding.published.manifest_floor).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.domain import Organisation
from matcher.vectors import centre, l2_normalise

CALIBRATION_PROFILES = 2000
CALIBRATION_PAIRS = 20000
MIN_PROFILES = 200
MIN_TEXT = 40
SEED = 0
METHOD = (
    "quantile matching: the share q of unrelated profile pairs (cause codes of different "
    "major groups; random pairs when fewer than half carry a code) the base model puts below "
    "its floor; this model's q-quantile of the same pairs' centred cosines"
)

Encode = Callable[[Sequence[str]], np.ndarray]


def calibration_profiles(
    orgs: Sequence[Organisation], n: int = CALIBRATION_PROFILES, seed: int = SEED
) -> tuple[list[str], list[str]]:
    """(texts, major groups) of at most `n` profiles that describe themselves, coded ones
    first (a group is "" without a code), sampled with a fixed seed."""
    usable = [o for o in orgs if len(o.description or "") >= MIN_TEXT]
    rng = random.Random(seed)
    coded = [o for o in usable if o.cause_code]
    other = [o for o in usable if not o.cause_code]
    rng.shuffle(coded)
    rng.shuffle(other)
    chosen = (coded + other)[:n]
    texts = [f"{o.name}. {o.description}" for o in chosen]
    return texts, [(o.cause_code or "")[:1].upper() for o in chosen]


def coded_enough(groups: Sequence[str]) -> bool:
    """At least half the profiles carry a code: pairs come from different major groups."""
    return sum(bool(g) for g in groups) >= len(groups) / 2


def unrelated_pairs(
    groups: Sequence[str], n_pairs: int = CALIBRATION_PAIRS, seed: int = SEED
) -> np.ndarray:
    """(n, 2) index pairs of distinct profiles in different major groups; when fewer than
    half the profiles carry a code, random distinct pairs (a diverse corpus's random pairs
    are overwhelmingly unrelated)."""
    n = len(groups)
    rng = np.random.default_rng(seed)
    coded = coded_enough(groups)
    out: list[tuple[int, int]] = []
    tries = 0
    while len(out) < n_pairs and tries < 20 * n_pairs:
        tries += 1
        i, j = (int(x) for x in rng.integers(0, n, size=2))
        if i == j:
            continue
        if coded and (not groups[i] or not groups[j] or groups[i] == groups[j]):
            continue
        out.append((i, j))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def pair_cosines(vectors: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Cosines of the pairs after centring on the vectors' own mean (as the engine does)."""
    v = l2_normalise(np.asarray(vectors, dtype=np.float32))
    c = centre(v, v.mean(axis=0))
    return np.einsum("ij,ij->i", c[pairs[:, 0]], c[pairs[:, 1]])


def matched_floor(
    base_cos: np.ndarray, model_cos: np.ndarray, base_floor: float
) -> tuple[float, float]:
    """(floor, q): the model's q-quantile, q the share of `base_cos` below `base_floor`."""
    q = float(np.mean(base_cos < base_floor))
    return float(np.quantile(model_cos, q)), q


def calibrate_floor(
    orgs: Sequence[Organisation],
    base: Encode,
    model: Encode,
    *,
    base_floor: float,
    base_model: str,
    source: str,
) -> dict[str, Any]:
    """The manifest entry: {"value": float | None, ...how it was made}. `value` is None (with
    `reason`) when the data dir has fewer than MIN_PROFILES usable profiles."""
    texts, groups = calibration_profiles(orgs)
    entry: dict[str, Any] = {"method": METHOD, "source": source, "profiles": len(texts)}
    if len(texts) < MIN_PROFILES:
        return {
            **entry,
            "value": None,
            "reason": f"only {len(texts)} profiles with a description of {MIN_TEXT}+ "
            f"characters in {source} (at least {MIN_PROFILES} needed)",
        }
    pairs = unrelated_pairs(groups)
    base_cos = pair_cosines(base(texts), pairs)
    model_cos = pair_cosines(model(texts), pairs)
    value, q = matched_floor(base_cos, model_cos, base_floor)
    return {
        **entry,
        "value": round(value, 4),
        "quantile": round(q, 4),
        "pairs": len(pairs),
        "coded": sum(bool(g) for g in groups),
        "pair_kind": "different major groups" if coded_enough(groups) else "random",
        "base_model": base_model,
        "base_floor": base_floor,
        "base_median": round(float(np.median(base_cos)), 4),
        "model_median": round(float(np.median(model_cos)), 4),
    }


def calibration_organisations(data_dir: Path, calibration_dir: Path | None = None) -> list[Any]:
    """The organisations a floor is calibrated on: `calibration_dir`'s, else the data dir's,
    read from the database the command was given (`--database-url`, MATCHER_DATABASE_URL),
    not from a SQLite file the data dir may not have."""
    from matcher.registry_sync import configured_database_url
    from matcher.settings import Settings
    from matcher.store import Database, Store

    url = configured_database_url() if calibration_dir is None else None
    settings = Settings(data_dir=Path(calibration_dir or data_dir))
    db = Database(url or settings.sqlalchemy_url)
    try:
        db.create_all()
        return [o for _pk, o in Store(db).organisations()]
    finally:
        db.dispose()


def calibrate_version(
    data_dir: Path, model_path: Path, model_name: str, calibration_dir: Path | None = None
) -> dict[str, Any]:
    """Calibrate a model folder against the default model on the organisations of
    `calibration_dir` (default: `data_dir`), both run as the engine runs them (int8 ONNX,
    exports cached in `<data_dir>/models/onnx`)."""
    from matcher.embedding.onnx import OnnxEmbedder
    from matcher.embedding.sentence_transformer import DEFAULT_MODEL_NAME, default_model_path
    from matcher.score import CALIBRATED_FLOORS

    source = Path(calibration_dir or data_dir)
    orgs = calibration_organisations(data_dir, calibration_dir)
    cache = Path(data_dir) / "models" / "onnx"
    base = OnnxEmbedder(cache, default_model_path(), DEFAULT_MODEL_NAME)
    model = OnnxEmbedder(cache, model_path, model_name)
    return calibrate_floor(
        orgs,
        base.encode,
        model.encode,
        base_floor=CALIBRATED_FLOORS[DEFAULT_MODEL_NAME],
        base_model=DEFAULT_MODEL_NAME,
        source=str(source.resolve()),
    )
