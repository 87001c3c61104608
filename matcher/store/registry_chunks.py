"""A registry archive stored as ordered chunks (models.RegistryChunkRow), so that neither side
holds a whole archive (an embedding version's is ~90 MB) in memory: `ChunkWriter` is the file a
streaming tar writes into (each full chunk is inserted at once, in the writer's transaction);
`ChunkReader` the file a streaming tar reads from (one chunk fetched at a time).

A version written before archives were chunked keeps its archive inline (the row's `archive`
and `export_archive` columns, `chunks` None): `open_archive` reads those as before."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from matcher.errors import RegistrySyncError
from matcher.store.models import RegistryChunkRow, RegistryVersionRow

CHUNK_BYTES = 8 << 20  # a chunk row's size: what is held in memory at once, each way
PAYLOAD, EXPORT = "payload", "export"


class ChunkWriter:
    """A write-only file whose bytes become chunk rows of (`name`, `part`) in `s`."""

    def __init__(self, s: Session, name: str, part: str, chunk_bytes: int | None = None):
        self.s, self.name, self.part = s, name, part
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.buf = bytearray()
        self.chunks = 0
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.buf += view
        self.size += len(view)
        while len(self.buf) >= self.chunk_bytes:
            self._emit(bytes(self.buf[: self.chunk_bytes]))
            del self.buf[: self.chunk_bytes]
        return len(view)

    def flush(self) -> None:
        """(a file's flush: chunks are emitted when full and by `finish`)"""

    def finish(self) -> tuple[int, int]:
        """Emit what is left; returns (chunks, bytes)."""
        if self.buf:
            self._emit(bytes(self.buf))
            self.buf = bytearray()
        return self.chunks, self.size

    def _emit(self, data: bytes) -> None:
        self.s.execute(
            insert(RegistryChunkRow).values(
                name=self.name, part=self.part, seq=self.chunks, data=data
            )
        )
        self.chunks += 1


class ChunkReader:
    """A read-only file over the chunk rows of (`name`, `part`), fetched one at a time."""

    def __init__(self, s: Session, name: str, part: str, chunks: int):
        self.s, self.name, self.part, self.chunks = s, name, part, chunks
        self.seq = 0
        self.buf = b""
        self.pos = 0

    def _next(self) -> bool:
        if self.seq >= self.chunks:
            return False
        data = self.s.scalar(
            select(RegistryChunkRow.data).where(
                RegistryChunkRow.name == self.name,
                RegistryChunkRow.part == self.part,
                RegistryChunkRow.seq == self.seq,
            )
        )
        if data is None:
            raise RegistrySyncError(
                f"the archive of '{self.name}' in the shared registry lacks its chunk "
                f"{self.seq} of {self.chunks} (pruned meanwhile?)"
            )
        self.buf, self.pos, self.seq = bytes(data), 0, self.seq + 1
        return True

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while n < 0 or len(out) < n:
            if self.pos >= len(self.buf) and not self._next():
                break
            end = len(self.buf) if n < 0 else min(len(self.buf), self.pos + n - len(out))
            out += self.buf[self.pos : end]
            self.pos = end
        return bytes(out)


def open_archive(s: Session, name: str, part: str = PAYLOAD) -> Any | None:
    """A file to read a version's archive (`part`) from; None when it has none (an export)."""
    chunks_col = RegistryVersionRow.chunks if part == PAYLOAD else RegistryVersionRow.export_chunks
    inline = RegistryVersionRow.archive if part == PAYLOAD else RegistryVersionRow.export_archive
    row = s.execute(
        select(chunks_col, func.length(inline)).where(RegistryVersionRow.name == name)
    ).first()
    if row is None:
        if part == PAYLOAD:
            raise RegistrySyncError(f"model version '{name}' is not in the shared registry")
        return None
    chunks, inline_size = row
    if chunks is not None:
        return ChunkReader(s, name, part, int(chunks))
    if not inline_size:
        return None if part == EXPORT else io.BytesIO(b"")
    blob = s.scalar(select(inline).where(RegistryVersionRow.name == name))  # a legacy row
    return io.BytesIO(bytes(blob)) if blob is not None else None


def chunk_bytes_of(s: Session, names: list[str]) -> dict[str, int]:
    q = (
        select(RegistryChunkRow.name, func.sum(func.length(RegistryChunkRow.data)))
        .where(RegistryChunkRow.name.in_(names))
        .group_by(RegistryChunkRow.name)
    )
    return {name: int(size or 0) for name, size in s.execute(q)}


def delete_chunks(s: Session, names: list[str]) -> None:
    s.execute(delete(RegistryChunkRow).where(RegistryChunkRow.name.in_(names)))
