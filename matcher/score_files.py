"""The scoring columns (`matcher.score_columns.ScoreColumns`) saved beside an index generation,
so the first requests after opening an index do not read each candidate's profile to score it.

`<generation>/score/` holds `score.json` (the manifest: format, row count, the capability keys
by column, the code tables, each array's dtype and shape, and the digests of what the columns
were computed from) and one `.npy` per array, memory-mapped copy-on-write at open. The columns
are used only when the manifest matches the files and the engine: same recipe (the code that
derives them and the capability meaning vectors), same focus-area offers, same rows as the
catalog; otherwise the engine fills them from the profiles on first use, as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.atomic import atomic_directory, atomic_save_npy, atomic_write_text

logger = logging.getLogger(__name__)

FORMAT = 3  # 2: benefits_; 3: populations_
DIRNAME = "score"
MANIFEST = "score.json"
# the ScoreColumns attributes saved with an index generation, by name
COLUMNS = (
    "filled_",
    "offers_",
    "needs_",
    "n_needs_",
    "inferred_",
    "radius_",
    "updated_us_",
    "city_",
    "region_",
    "country_",
    "focus_",
    "benefits_",
    "populations_",
)
ARRAYS = ("pks", *COLUMNS)
CODE_TABLES = ("cities", "regions", "countries", "focus")


# the modules whose code derives the columns from a profile
_DERIVING_MODULES = (
    *("benefits", "capabilities", "funding_kinds", "gifts", "meaning", "offers"),
    *("populations", "score_columns"),
)


@functools.cache
def _source_digest() -> str:
    """Digest of the source of the modules that derive the columns from a profile: a saved
    column made by other code is not used."""
    import importlib

    h = hashlib.sha256()
    modules = [importlib.import_module(f"matcher.{name}") for name in _DERIVING_MODULES]
    for module in modules:
        try:
            h.update(Path(str(module.__file__)).read_bytes())
        except (OSError, TypeError):
            h.update(b"unreadable")
    return h.hexdigest()


def recipe_digest(keys: list[str] | None, vectors: np.ndarray | None) -> str:
    """What the columns of any row were derived with: the code and the capability meaning
    (keys and vectors; none for the model-free embedder)."""
    h = hashlib.sha256(f"{FORMAT}\x1f{_source_digest()}\x1f".encode())
    if keys is not None and vectors is not None:
        h.update(json.dumps(keys).encode())
        h.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    else:
        h.update(b"no meaning")
    return h.hexdigest()


def focus_digest(focus_offers: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(focus_offers, sort_keys=True).encode()).hexdigest()


@dataclass
class SavedScore:
    """Saved columns as read back: arrays (memory-mapped), code tables and capability keys."""

    arrays: dict[str, np.ndarray]
    codes: dict[str, list[str]]
    caps: list[str]
    recipe: str
    focus_count: int
    focus_digest: str

    @property
    def count(self) -> int:
        return int(self.arrays["pks"].size)


def save_score(
    generation_dir: Path,
    arrays: dict[str, np.ndarray],
    codes: dict[str, list[str]],
    caps: list[str],
    recipe: str,
    focus_offers: list[dict[str, str]],
) -> None:
    """Write (or replace, atomically) the scoring columns of this generation."""
    n = int(arrays["pks"].size)
    if set(arrays) != set(ARRAYS) or any(a.shape[0] != n for a in arrays.values()):
        raise ValueError("scoring columns: wrong arrays or row counts")
    with atomic_directory(generation_dir / DIRNAME) as tmp:
        for name, values in arrays.items():
            atomic_save_npy(tmp / f"{name}.npy", values)
        meta = {
            "format": FORMAT,
            "count": n,
            "caps": caps,
            "codes": codes,
            "recipe": recipe,
            "focus_count": len(focus_offers),
            "focus_digest": focus_digest(focus_offers),
            "arrays": {
                name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()
            },
        }
        atomic_write_text(tmp / MANIFEST, json.dumps(meta, ensure_ascii=False))


def load_score(generation_dir: Path) -> SavedScore | None:
    """The saved columns of this generation, memory-mapped; None when absent (an index built by
    an older version) or when the files disagree with the manifest (logged)."""
    directory = generation_dir / DIRNAME
    if not (directory / MANIFEST).is_file():
        return None
    try:
        meta: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            logger.info("scoring columns in %s are of format %s", directory, meta.get("format"))
            return None
        described: dict[str, Any] = meta["arrays"]
        if set(described) != set(ARRAYS):
            raise ValueError(f"arrays {sorted(described)}, expected {sorted(ARRAYS)}")
        arrays = {}
        for name, want in described.items():
            a = np.asarray(np.load(directory / f"{name}.npy", mmap_mode="c", allow_pickle=False))
            if a.dtype.str != want["dtype"] or list(a.shape) != list(want["shape"]):
                raise ValueError(
                    f"{name}.npy holds {a.dtype.str} {list(a.shape)}, the manifest says "
                    f"{want['dtype']} {want['shape']}"
                )
            if a.shape[0] != int(meta["count"]):
                raise ValueError(f"{name}.npy has {a.shape[0]} rows, not {meta['count']}")
            arrays[name] = a
        codes = {k: [str(v) for v in meta["codes"][k]] for k in CODE_TABLES}
        caps = [str(k) for k in meta["caps"]]
        if arrays["offers_"].shape[1] != len(caps) or arrays["needs_"].shape[1] != len(caps):
            raise ValueError("capability columns disagree with the capability keys")
        return SavedScore(
            arrays,
            codes,
            caps,
            str(meta["recipe"]),
            int(meta["focus_count"]),
            str(meta["focus_digest"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring the scoring columns in %s: %s", directory, exc)
        return None
