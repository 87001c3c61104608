"""The catalog's columns saved beside an index generation, so opening an index does not read
and validate every stored profile.

`<generation>/catalog/` holds `catalog.json` (format, column names with each one's dtype and
shape, code tables, org ids by position) and one `.npy` per column (memory-mapped at open) plus
`row_keys.npy`: per row, a key that changes whenever the database row is written
(`matcher.store.repository.row_key`). On open, rows whose key still matches are taken from the
snapshot; only the others are read from the database.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from matcher.atomic import atomic_directory, atomic_save_npy, atomic_write_text

logger = logging.getLogger(__name__)

FORMAT = 1
DIRNAME = "catalog"
KEY_DTYPE = "S20"
VECTORS_FILE = "vectors.npy"


def as_saved(key: bytes) -> bytes:
    """A row key as a KEY_DTYPE array gives it back: numpy drops trailing NUL bytes (1 digest
    in 256 ends with one), so keys are compared in this form."""
    return key.rstrip(b"\x00")


def save_catalog(
    generation_dir: Path,
    snapshot: dict[str, Any],
    row_keys: np.ndarray,
    vectors: np.ndarray | None = None,
) -> None:
    """Write (or replace, atomically) the snapshot of the catalog of this generation; with
    `vectors`, the catalog's (centred) vectors of its rows too, so opening does not centre the
    generation's vectors again."""
    columns: dict[str, np.ndarray] = snapshot["columns"]
    pks = np.asarray(snapshot["pks"], dtype=np.int64)
    if row_keys.shape != pks.shape:
        raise ValueError(f"{row_keys.size} row keys for {pks.size} rows")
    with atomic_directory(generation_dir / DIRNAME) as tmp:
        atomic_save_npy(tmp / "pks.npy", pks)
        atomic_save_npy(tmp / "row_keys.npy", np.asarray(row_keys, dtype=KEY_DTYPE))
        for name, values in columns.items():
            atomic_save_npy(tmp / f"col-{name}.npy", values)
        if vectors is not None:
            if vectors.shape[0] != pks.size or vectors.dtype != np.float32:
                raise ValueError(f"{vectors.shape} {vectors.dtype} vectors for {pks.size} rows")
            atomic_save_npy(tmp / VECTORS_FILE, vectors)
        meta = {
            "format": FORMAT,
            "count": int(pks.size),
            "columns": sorted(columns),
            "arrays": {
                name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in columns.items()
            },
            "codes": snapshot["codes"],
            "ids": snapshot["ids"],
        }
        if vectors is not None:
            meta["vectors"] = {"dtype": vectors.dtype.str, "shape": list(vectors.shape)}
        atomic_write_text(tmp / "catalog.json", json.dumps(meta, ensure_ascii=False))


def load_catalog(generation_dir: Path) -> tuple[dict[str, Any], np.ndarray] | None:
    """(snapshot, row keys) saved with this generation; None when absent or unreadable (the
    catalog is then rebuilt from the database rows)."""
    directory = generation_dir / DIRNAME
    if not (directory / "catalog.json").is_file():
        return None
    try:
        meta = json.loads((directory / "catalog.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        pks = np.load(directory / "pks.npy", allow_pickle=False)
        keys = np.load(directory / "row_keys.npy", allow_pickle=False)
        # memory-mapped copy-on-write: pages are read as used, writes stay in this process
        columns = {
            name: np.asarray(
                np.load(directory / f"col-{name}.npy", mmap_mode="c", allow_pickle=False)
            )
            for name in meta["columns"]
        }
        vectors = None
        if meta.get("vectors") is not None:
            vectors = np.asarray(
                np.load(directory / VECTORS_FILE, mmap_mode="c", allow_pickle=False)
            )
            want = meta["vectors"]
            if vectors.dtype.str != want["dtype"] or list(vectors.shape) != want["shape"]:
                raise ValueError(f"{VECTORS_FILE} does not hold what its manifest describes")
        described = meta.get("arrays")  # snapshots saved before it was written have none
        for name, want in (described or {}).items():
            got = columns.get(name)
            if got is None or got.dtype.str != want["dtype"] or list(got.shape) != want["shape"]:
                raise ValueError(
                    f"col-{name}.npy does not hold the {want['dtype']} {want['shape']} "
                    "its manifest describes"
                )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring the unreadable catalog snapshot in %s: %s", directory, exc)
        return None
    n = int(meta.get("count", -1))
    if pks.shape != (n,) or keys.shape != (n,) or len(meta.get("ids", ())) != n:
        logger.warning("ignoring the inconsistent catalog snapshot in %s", directory)
        return None
    if vectors is not None and vectors.shape[0] != n:
        logger.warning("ignoring the catalog snapshot in %s: vectors of other rows", directory)
        return None
    snapshot = {"pks": pks, "columns": columns, "codes": meta["codes"], "ids": meta["ids"]}
    if vectors is not None:
        snapshot["vectors"] = vectors  # centred; absent from snapshots saved without them
    return snapshot, keys
