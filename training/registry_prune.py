"""`matcher models prune --keep N`: remove old registry versions (issue 11 follow-up).

Every fit adds a ranking version and every fine-tune an embedding version (~90 MB of weights
plus its int8 ONNX export), here and, with a shared registry, as a tar in PostgreSQL. Prune
keeps the N newest versions of each kind (ranking weights, embedding models; by creation time)
and also, whatever their age:

- the version each pointer publishes (CURRENT, EMBEDDING) and the one its `rollback` returns to
  (the last entry of its history);
- a version whose model a vector space still being filled reads (`matcher embed`, resumable).

Versions being written are never seen: a writer builds them under a `.tmp-` name, holding the
registry's lock, which prune takes too (so no fit, registration or gate report runs meanwhile).

The pointers' histories forget the removed versions, so `rollback` after `rollback` goes to the
newest earlier version still kept. Each removed folder (and its ONNX export folders) is renamed
to a `.tmp-` name first, then deleted: a crash at any point leaves every kept version complete
and at worst some `.tmp-` leftovers, which the next write or the server's start sweep removes.

With PostgreSQL (a shared registry) prune runs under the writers' lock across machines: in one
transaction it deletes the versions' rows, records a tombstone for each (name and digest:
`registry_pruned`), rewrites the pointer rows and records a MODEL change; then it removes the
local copies. Other machines, on their next sync, remove their local copies of tombstoned
versions (same digest) except one their pointers still name or their serving process uses, and
never upload them again (matcher.registry_sync).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from matcher.atomic import atomic_write_text
from matcher.embedding.published import POINTER as EMBEDDING
from matcher.pointer_file import PointerUnreadable, read_pointer
from matcher.registry_files import (
    empty_trash,
    local_digest,
    to_trash,
    tree_bytes,
    version_footprint,
)
from matcher.store import changes, registry_rows
from training.registry import AUTO, CURRENT, Registry, RegistryError, _pause
from training.registry_db import entity

logger = logging.getLogger(__name__)

POINTERS = (CURRENT, EMBEDDING)


@dataclass
class Removal:
    version: str
    kind: str  # weights | embedding
    created_at: str | None
    local_bytes: int  # its folder and ONNX export folders here
    shared_bytes: int = 0  # its archives in the shared registry (PostgreSQL)


@dataclass
class PruneResult:
    keep: int
    dry_run: bool
    shared: bool  # PostgreSQL: the shared registry's rows were (or would be) removed too
    removed: list[Removal] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    protected: dict[str, str] = field(default_factory=dict)  # beyond the N newest, and why
    histories: dict[str, list[str | None]] = field(default_factory=dict)  # pointers rewritten

    @property
    def local_bytes(self) -> int:
        return sum(r.local_bytes for r in self.removed)

    @property
    def shared_bytes(self) -> int:
        return sum(r.shared_bytes for r in self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "keep": self.keep,
            "dry_run": self.dry_run,
            "shared": self.shared,
            "removed": [vars(r) for r in self.removed],
            "kept": self.kept,
            "protected": self.protected,
            "histories": self.histories,
            "local_bytes": self.local_bytes,
            "shared_bytes": self.shared_bytes,
        }


def _read_pointer(path: Path) -> dict[str, Any] | None:
    try:
        return read_pointer(path)
    except PointerUnreadable as exc:
        raise RegistryError(f"{exc}: nothing pruned") from exc


def _protected(registry: Registry, db: Any) -> dict[str, str]:
    """Versions never removed, with why."""
    out: dict[str, str] = {}
    for pname in POINTERS:
        data = _read_pointer(registry.root / pname)
        if data is None:
            continue
        history = list(data.get("history") or [])
        if history and history[-1] is not None:
            out[str(history[-1])] = f"{pname} rolls back to it"
        if data.get("version") is not None:
            out[str(data["version"])] = f"{pname} publishes it"
    for version in _filling(registry.root, db):
        out.setdefault(version, "a vector space being filled (`matcher embed`) reads its model")
    return out


def _filling(models_dir: Path, db: Any) -> set[str]:
    """Versions whose model folder a vector space in state "filling" names."""
    if db is None:
        return set()
    from matcher.embedding.spaces import FILLING
    from matcher.store.models import VectorSpaceRow

    with db.session() as s:
        paths = s.scalars(
            select(VectorSpaceRow.model_path).where(VectorSpaceRow.status == FILLING)
        ).all()
    out = set()
    root = models_dir.resolve()
    for path in paths:
        if not path:
            continue
        try:
            rel = Path(path).resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        if rel.parts:
            out.add(rel.parts[0])
    return out


def _plan(
    registry: Registry, keep: int, protected: dict[str, str], result: PruneResult
) -> list[Removal]:
    by_kind: dict[str, list[tuple[str, int, str]]] = {}
    for index, version in enumerate(registry.versions()):
        try:
            man = registry.manifest(version)
        except RegistryError as exc:
            result.protected[version] = f"unreadable manifest ({exc})"
            continue
        kind = "embedding" if man.get("kind") == "embedding" else "weights"
        by_kind.setdefault(kind, []).append((str(man.get("created_at") or ""), index, version))
    removals = []
    for kind, rows in sorted(by_kind.items()):
        rows.sort(reverse=True)  # newest first: created_at, then the registry's order
        for rank, (created, _index, version) in enumerate(rows):
            if rank < keep:
                result.kept.append(version)
            elif version in protected:
                result.kept.append(version)
                result.protected[version] = protected[version]
            else:
                footprint = version_footprint(registry.root, version)
                removals.append(Removal(version, kind, created or None, tree_bytes(footprint)))
    return removals


def _new_pointers(models_dir: Path, gone: set[str]) -> dict[str, tuple[dict[str, Any], str]]:
    """The pointers whose history names a removed version: (content, new text) by name."""
    out = {}
    for pname in POINTERS:
        data = _read_pointer(models_dir / pname)
        if data is None:
            continue
        history = list(data.get("history") or [])
        kept = [h for h in history if h is None or str(h) not in gone]
        if kept != history:
            new = {**data, "history": kept}
            out[pname] = (new, json.dumps(new, indent=2) + "\n")
    return out


def prune(data_dir: Path | str, keep: int, *, dry_run: bool = False, db: Any = AUTO) -> PruneResult:
    """Remove the versions beyond the `keep` newest of each kind (see the module's doc);
    `dry_run`: only say what would go. `db` as `Registry`'s."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise RegistryError(
            f"--keep must be at least 1 (got {keep!r}): the newest version of each kind stays"
        )
    registry = Registry(data_dir, db=db)
    with registry._locked() as used:
        shared = used is not None and not used.is_sqlite
        result = PruneResult(keep=keep, dry_run=dry_run, shared=shared)
        protected = _protected(registry, used)
        result.removed = _plan(registry, keep, protected, result)
        names = [r.version for r in result.removed]
        if shared and names:
            with used.session() as s:
                sizes = registry_rows.stored_bytes(s, names)
            for r in result.removed:
                r.shared_bytes = sizes.get(r.version, 0)
        pointers = _new_pointers(registry.root, set(names))
        result.histories = {p: list(new["history"]) for p, (new, _text) in pointers.items()}
        if dry_run or not names:
            return result
        if shared:
            digests = {n: local_digest(registry.root / n) for n in names}
            with used.session() as s:  # one transaction: rows, tombstones, pointers, change
                registry_rows.prune_versions(s, digests)
                for pname, (_new, text) in pointers.items():
                    registry_rows.set_pointer(s, pname, text)
                changes.record(s, changes.MODEL, entity(registry.root))
            _pause("prune-after-database")
        for pname, (_new, text) in pointers.items():
            atomic_write_text(registry.root / pname, text)
        trash = []
        for removal in result.removed:
            for path in version_footprint(registry.root, removal.version):
                trash.append(to_trash(path))
            _pause("prune-trash")
        empty_trash(trash)
    logger.info(
        "pruned %d model versions (%s): %d bytes here, %d in the shared registry",
        len(names),
        ", ".join(names),
        result.local_bytes,
        result.shared_bytes,
    )
    return result
