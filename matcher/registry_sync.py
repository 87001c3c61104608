"""The model registry shared through PostgreSQL: every machine keeps its own copy in
`<data_dir>/models/` and the database holds the registry (registry_versions, registry_pointers).

`push` (a registry writer, after its files are written; training.registry_db) uploads the
versions the database lacks, the metadata files and pointers that changed, and a MODEL change,
in one transaction. `pull` materialises the database's registry here: each missing version is
extracted into a temporary folder, checked against its digest and renamed into place
(`atomic_directory`); rewritten metadata files and then the pointers are replaced atomically.
A kill at any point leaves the previous local state (plus a `.tmp-` folder swept later); the
file-based followers (training.registry.load_published, api.embedding_switch) then see the
pointers change. A version already here with the same digest is not fetched again; a version
here whose files differ from the database's, or an archive that does not match its digest, is
a RegistrySyncError, and a pointer naming such a version is not written: never served. An
embedding version travels with its int8 ONNX export (`models/onnx/<key>/`, the cache the engine
looks in: its key is the same here, the archive keeps the weights' modification times), so a
machine serves it without exporting it again (which needs torch). Archives travel in chunks
(matcher.store.registry_chunks), never whole in memory.

`matcher models prune` (training.registry_prune) deletes versions' rows and leaves tombstones
(registry_pruned): `push` never uploads a tombstoned version (same digest) again, and a serving
`pull` removes its local copy unless a pointer here names it or the process serves it.

On SQLite nothing is shared: the registry is the files alone, as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.atomic import atomic_directory, atomic_write_text
from matcher.errors import MatcherError, RegistrySyncError
from matcher.registry_files import (
    DIGEST_FILE,
    MANIFEST,
    NAME_RE,
    POINTERS,
    empty_trash,
    local_digest,
    local_versions,
    meta_files,
    pack_into,
    pointed_versions,
    read_text,
    to_trash,
    tree_digest,
    unpack_from,
    version_digest,
    version_footprint,
)
from matcher.store import changes, registry_chunks, registry_rows

logger = logging.getLogger(__name__)

_database_url: str | None = None  # the CLI's --database-url for its run (`database_url_for`)
PAUSE_ENV = "MATCHER_REGISTRY_PAUSE"  # "<point>[:seconds]", for crash tests only (as registry)
ONNX = "model.onnx"
LOCK_WAIT_SECONDS = 5.0  # a serving sync waits this long for the registry's local lock
EXPORT_RE = re.compile(r"^onnx/[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


@contextlib.contextmanager
def database_url_for(url: str | None) -> Iterator[None]:
    """Registry writes in the block use `url` (the CLI's settings, `--database-url` included)
    when they resolve their database (training.registry_db); restored afterwards."""
    global _database_url
    before, _database_url = _database_url, url
    try:
        yield
    finally:
        _database_url = before


def configured_database_url() -> str | None:
    return _database_url


def _pause(point: str) -> None:
    name, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if name == point:
        print(f"paused at {point}", flush=True)
        time.sleep(float(seconds or 60))


@dataclass
class SyncReport:
    fetched: list[str] = field(default_factory=list)  # versions extracted here
    updated: list[str] = field(default_factory=list)  # versions whose metadata was rewritten
    pointers: list[str] = field(default_factory=list)  # pointers rewritten
    exports: list[str] = field(default_factory=list)  # ONNX exports installed
    dropped: list[str] = field(default_factory=list)  # local copies of pruned versions removed
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # the versions the database's pointers named (None: nothing published) when it was read;
    # empty when the database could not be read
    shared_pointers: dict[str, str | None] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))  # when the sync began

    @property
    def changed(self) -> bool:
        return bool(self.fetched or self.updated or self.pointers or self.exports or self.dropped)


def _pointer_version(content: str) -> str | None:
    try:
        data = json.loads(content)
    except ValueError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version is not None else None


def _extract(db: Any, models_dir: Path, name: str, digest: str, meta: dict[str, str]) -> None:
    with atomic_directory(models_dir / name) as tmp:
        with db.session() as s:  # streamed: a chunk at a time (registry_chunks)
            unpack_from(registry_chunks.open_archive(s, name), tmp)
        _pause("sync-extract")
        payload = tree_digest(tmp)
        got = version_digest(payload, meta.get(MANIFEST, ""))
        if got != digest:
            raise RegistrySyncError(
                f"model version '{name}' from the shared registry does not match its digest "
                f"({got[:12]} against {digest[:12]}): not installed"
            )
        atomic_write_text(tmp / DIGEST_FILE, payload + "\n")
        for fname, content in meta.items():
            atomic_write_text(tmp / fname, content)  # the folder appears whole, by its rename
    logger.info("fetched model version %s from the shared registry", name)


def _export_of(models_dir: Path, manifest: dict[str, Any]) -> registry_rows.Export | None:
    """An embedding version's int8 ONNX export (manifest `onnx_int8.file`, relative to the
    data directory: `models/onnx/<key>/model.onnx`), when it is here."""
    entry = manifest.get("onnx_int8")
    file = entry.get("file") if isinstance(entry, dict) else None
    if not isinstance(file, str):
        return None
    folder = (models_dir.parent / file).parent
    try:
        rel = folder.relative_to(models_dir).as_posix()
    except ValueError:
        return None
    if not EXPORT_RE.match(rel) or not (folder / ONNX).is_file():
        return None
    return registry_rows.Export(rel, functools.partial(pack_into, folder), tree_digest(folder))


def _install_export(db: Any, models_dir: Path, info: registry_rows.VersionInfo) -> None:
    folder = str(info.export_dir)
    if not EXPORT_RE.match(folder):
        raise RegistrySyncError(f"invalid export folder {folder!r}")
    with atomic_directory(models_dir / folder) as tmp:
        with db.session() as s:
            reader = registry_chunks.open_archive(s, info.name, registry_chunks.EXPORT)
            if reader is None:
                raise RegistrySyncError("not in the shared registry")
            unpack_from(reader, tmp)
        got = tree_digest(tmp)
        if got != info.export_digest:
            raise RegistrySyncError(
                f"its archive does not match its digest ({got[:12]} against "
                f"{str(info.export_digest)[:12]})"
            )
    logger.info("fetched the ONNX export %s from the shared registry", folder)


def pull(
    db: Any, models_dir: Path, *, strict: bool = True, in_use: Iterable[str] = ()
) -> SyncReport:
    """Materialise the database's registry in `models_dir` (the caller holds its lock).
    `strict`: raise RegistrySyncError on any problem (writers); else report it (serving).
    Not `strict` (a serving sync), local copies of versions pruned from the database go too
    (`_drop_pruned`), but never one a pointer here names or `in_use` lists (what this process
    serves); a writer leaves them (it does not know what is served) and never uploads them."""
    started = time.monotonic()
    report = SyncReport()
    with db.session() as s:
        versions, pointers = registry_rows.read_index(s)
        pruned = registry_rows.read_pruned(s)
    report.shared_pointers = {
        p: _pointer_version(pointers[p]) if p in pointers else None for p in POINTERS
    }
    bad: set[str] = set()
    for name in sorted(versions):
        info = versions[name]
        folder = models_dir / name
        try:
            if not NAME_RE.match(name):
                raise RegistrySyncError(f"invalid version name {name!r} in the shared registry")
            if (folder / MANIFEST).is_file():
                local = local_digest(folder)
                if local != info.digest:
                    raise RegistrySyncError(
                        f"model version '{name}' here ({folder}) has other files than the "
                        f"shared registry's (digest {local[:12]} against {info.digest[:12]}): "
                        "move it away and sync again"
                    )
                rewritten = False
                for fname, content in info.meta_files.items():
                    if read_text(folder / fname) != content:
                        atomic_write_text(folder / fname, content)
                        rewritten = True
                if rewritten:
                    report.updated.append(name)
            else:
                _extract(db, models_dir, name, info.digest, info.meta_files)
                report.fetched.append(name)
        except (RegistrySyncError, OSError) as exc:
            if strict:
                raise RegistrySyncError(str(exc)) from exc
            bad.add(name)
            report.problems.append(str(exc))
            continue
        if info.export_dir is not None and not (models_dir / info.export_dir / ONNX).is_file():
            try:  # a cache: without it the model is exported here on first use (needs torch)
                _install_export(db, models_dir, info)
                report.exports.append(info.export_dir)
            except (RegistrySyncError, OSError) as exc:
                report.problems.append(f"ONNX export of {name} not installed: {exc}")
    for pname in POINTERS:
        if pname not in pointers or read_text(models_dir / pname) == pointers[pname]:
            continue
        content = pointers[pname]
        version = _pointer_version(content)
        if version is not None and (
            version in bad or not (models_dir / version / MANIFEST).is_file()
        ):
            problem = f"{pname} names model version '{version}', which is not installed here"
            if strict:
                raise RegistrySyncError(problem)
            report.problems.append(problem + f": {pname} left as it was")
            continue
        _pause("sync-pointer")
        atomic_write_text(models_dir / pname, content)
        report.pointers.append(pname)
    if not strict:  # a serving sync, which knows what it serves; a writer leaves them
        _drop_pruned(models_dir, pruned, set(versions), set(in_use), report)
    report.seconds = time.monotonic() - started
    if report.changed:
        logger.info(
            "registry synced from the database in %.2f s: fetched %s, pointers %s",
            report.seconds,
            report.fetched or "nothing",
            report.pointers or "unchanged",
        )
    return report


def _drop_pruned(
    models_dir: Path,
    pruned: dict[str, str],
    shared: set[str],
    in_use: set[str],
    report: SyncReport,
) -> None:
    """Remove the local copies of versions pruned from the database (same digest: a version
    made here under that name is not the pruned one), after the pointers were synced; kept:
    those the pointers here name (published, rollback target) and those in use. Each goes by
    a rename to a `.tmp-` name first, so a crash never leaves a partial version."""
    candidates = [n for n in local_versions(models_dir) if n in pruned and n not in shared]
    if not candidates:
        return
    pointed = pointed_versions(models_dir)
    if pointed is None:
        report.problems.append("a pointer here is unreadable: pruned versions left in place")
        return
    trash = []
    for name in candidates:
        if name in pointed or name in in_use:
            continue
        try:
            if local_digest(models_dir / name) != pruned[name]:
                continue
            for path in version_footprint(models_dir, name):
                trash.append(to_trash(path))
        except (OSError, RegistrySyncError) as exc:
            report.problems.append(f"pruned version {name} not removed here: {exc}")
            continue
        report.dropped.append(name)
    empty_trash(trash)
    if report.dropped:
        logger.info("removed local copies of pruned versions %s", report.dropped)


def push(db: Any, models_dir: Path, *, entity: str = "registry") -> bool:
    """Write what this registry holds and the database lacks (new versions, rewritten metadata,
    pointers) and one MODEL change, in one transaction; False when nothing differed (nothing
    written). The caller holds the local lock and `registry_rows.writers_lock`."""
    with db.session() as s:
        versions, pointers = registry_rows.read_index(s)
        pruned = registry_rows.read_pruned(s)
        wrote = False
        for name in local_versions(models_dir):
            folder = models_dir / name
            digest = local_digest(folder)
            if name not in versions and pruned.get(name) == digest:
                continue  # pruned from the shared registry: never uploaded again
            meta = meta_files(folder)
            manifest = json.loads(meta[MANIFEST])
            shared = versions.get(name)
            if shared is None:
                registry_rows.add_version(
                    s,
                    name,
                    manifest=manifest,
                    meta_files=meta,
                    write_archive=functools.partial(pack_into, folder),
                    digest=digest,
                    export=_export_of(models_dir, manifest),
                )
                wrote = True
            elif shared.digest != digest:
                raise RegistrySyncError(
                    f"model version '{name}' here has other files than the shared registry's "
                    f"(digest {digest[:12]} against {shared.digest[:12]})"
                )
            elif any(shared.meta_files.get(k) != v for k, v in meta.items()):
                registry_rows.set_meta_files(s, name, {**shared.meta_files, **meta}, manifest)
                wrote = True
        for pname in POINTERS:
            content = read_text(models_dir / pname)
            if content is not None and content != pointers.get(pname):
                registry_rows.set_pointer(s, pname, content)
                wrote = True
        if wrote:
            changes.record(s, changes.MODEL, entity)
    return wrote


def _lock_within(fh: Any, seconds: float) -> bool:
    """flock `fh` exclusively, waiting at most `seconds` (another serving process's sync takes
    a moment; a writer may hold it for minutes: an ONNX export)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def sync_for_serving(
    db: Any,
    data_dir: Path | str,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
    in_use: Iterable[str] = (),
) -> SyncReport | None:
    """A serving process's sync (at start and on every MODEL change it follows): never raises,
    problems are logged and reported. None on SQLite (nothing shared) or while a writer on this
    machine holds the registry's lock past `lock_wait` (its push records a MODEL change: synced
    then). `in_use`: the versions this process serves (their local copies are kept even when
    pruned from the database)."""
    if db is None or db.is_sqlite:
        return None
    models_dir = Path(data_dir) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".lock", "a+") as fh:
        if not _lock_within(fh, lock_wait):
            logger.info("registry sync skipped: a writer on this machine holds its lock")
            return None
        try:
            report = pull(db, models_dir, strict=False, in_use=in_use)
        except (MatcherError, OSError) as exc:
            logger.error("registry sync from the database failed: %s", exc)
            return SyncReport(problems=[f"{type(exc).__name__}: {exc}"])
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    for problem in report.problems:
        logger.error("registry sync: %s", problem)
    return report
