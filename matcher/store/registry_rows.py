"""The model registry's rows on PostgreSQL (models.RegistryVersionRow and its archives'
RegistryChunkRow, RegistryPointerRow, RegistryPrunedRow): what matcher.registry_sync and
training.registry_prune read and write. Session-level helpers, so that a registry write's
rows and its MODEL change go in one transaction; `writers_lock` serialises registry writers
across machines (a PostgreSQL advisory lock, released when its connection closes, so a killed
writer never holds it)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from matcher.domain import utcnow
from matcher.errors import RegistrySyncError
from matcher.store import registry_chunks
from matcher.store.models import RegistryPointerRow, RegistryPrunedRow, RegistryVersionRow

# pg_advisory_lock key of registry writers ("mreg" as an int)
WRITERS_LOCK_KEY = 0x6D726567


@dataclass(frozen=True)
class VersionInfo:
    """A shared version without its archive."""

    name: str
    kind: str
    digest: str
    size_bytes: int
    meta_files: dict[str, str]
    export_dir: str | None = None
    export_digest: str | None = None


@dataclass(frozen=True)
class Export:
    """An embedding version's ONNX export folder (relative to `models/`): `write` streams its
    archive into a file."""

    folder: str
    write: Callable[[Any], None]
    digest: str


def read_index(s: Session) -> tuple[dict[str, VersionInfo], dict[str, str]]:
    """Every shared version (archives left out) and every pointer's text, in `s`'s snapshot."""
    q = select(
        RegistryVersionRow.name,
        RegistryVersionRow.kind,
        RegistryVersionRow.digest,
        RegistryVersionRow.size_bytes,
        RegistryVersionRow.meta_files,
        RegistryVersionRow.export_dir,
        RegistryVersionRow.export_digest,
    )
    versions = {
        r.name: VersionInfo(
            r.name,
            r.kind,
            r.digest,
            int(r.size_bytes or 0),
            dict(r.meta_files),
            r.export_dir,
            r.export_digest,
        )
        for r in s.execute(q)
    }
    q2 = select(RegistryPointerRow.name, RegistryPointerRow.content)
    pointers = {r.name: r.content for r in s.execute(q2)}
    return versions, pointers


def add_version(
    s: Session,
    name: str,
    *,
    manifest: dict[str, Any],
    meta_files: dict[str, str],
    write_archive: Callable[[Any], None],
    digest: str,
    export: Export | None = None,
) -> None:
    """Add a version; `write_archive` streams its payload's archive into a file whose chunks
    are inserted as they fill (registry_chunks), so the archive is never whole in memory."""
    if s.get(RegistryVersionRow, name) is not None:
        raise RegistrySyncError(
            f"model version '{name}' is in the shared registry already (another machine "
            "registered it meanwhile): register again"
        )
    now = utcnow()
    s.execute(delete(RegistryPrunedRow).where(RegistryPrunedRow.name == name))  # a new one
    registry_chunks.delete_chunks(s, [name])
    payload = registry_chunks.ChunkWriter(s, name, registry_chunks.PAYLOAD)
    write_archive(payload)
    chunks, size = payload.finish()
    export_chunks = None
    if export is not None:
        writer = registry_chunks.ChunkWriter(s, name, registry_chunks.EXPORT)
        export.write(writer)
        export_chunks = writer.finish()[0]
    s.add(
        RegistryVersionRow(
            name=name,
            kind=str(manifest.get("kind") or "weights"),
            manifest=manifest,
            meta_files=meta_files,
            archive=b"",
            digest=digest,
            size_bytes=size,
            chunks=chunks,
            export_dir=export.folder if export else None,
            export_archive=None,
            export_digest=export.digest if export else None,
            export_chunks=export_chunks,
            created_at=now,
            updated_at=now,
        )
    )
    s.flush()


def set_meta_files(
    s: Session, name: str, meta_files: dict[str, str], manifest: dict[str, Any]
) -> None:
    row = s.get(RegistryVersionRow, name)
    if row is None:
        raise RegistrySyncError(f"model version '{name}' is not in the shared registry")
    row.meta_files = meta_files
    row.manifest = manifest
    row.updated_at = utcnow()


def set_pointer(s: Session, name: str, content: str) -> None:
    row = s.get(RegistryPointerRow, name)
    if row is None:
        s.add(RegistryPointerRow(name=name, content=content, updated_at=utcnow()))
    else:
        row.content = content
        row.updated_at = utcnow()


def read_pruned(s: Session) -> dict[str, str]:
    """The digest of every version pruned from the shared registry, by name."""
    q = select(RegistryPrunedRow.name, RegistryPrunedRow.digest)
    return {r.name: r.digest for r in s.execute(q)}


def stored_bytes(s: Session, names: list[str]) -> dict[str, int]:
    """What each named version takes in the database (its archive and its ONNX export's)."""
    q = select(
        RegistryVersionRow.name,
        func.coalesce(func.length(RegistryVersionRow.archive), 0)
        + func.coalesce(func.length(RegistryVersionRow.export_archive), 0),
    ).where(RegistryVersionRow.name.in_(names))
    inline = {name: int(size or 0) for name, size in s.execute(q)}  # rows written before chunks
    chunked = registry_chunks.chunk_bytes_of(s, names)
    return {name: size + chunked.get(name, 0) for name, size in inline.items()}


def prune_versions(s: Session, digests: dict[str, str]) -> dict[str, int]:
    """Delete the named versions' rows, leaving a tombstone (name, digest) for each; returns
    the bytes each one freed in the database. The caller holds `writers_lock`."""
    sizes = stored_bytes(s, list(digests))
    s.execute(delete(RegistryVersionRow).where(RegistryVersionRow.name.in_(list(sizes))))
    registry_chunks.delete_chunks(s, list(digests))
    now = utcnow()
    for name, digest in digests.items():
        row = s.get(RegistryPrunedRow, name)
        if row is None:
            s.add(
                RegistryPrunedRow(
                    name=name, digest=digest, size_bytes=sizes.get(name, 0), pruned_at=now
                )
            )
        else:
            row.digest, row.size_bytes, row.pruned_at = digest, sizes.get(name, 0), now
    return sizes


@contextlib.contextmanager
def writers_lock(db: Any) -> Iterator[None]:
    """Hold the registry writers' advisory lock (PostgreSQL) for the block."""
    conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": WRITERS_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WRITERS_LOCK_KEY})
    finally:
        conn.close()
