"""Which errors say the disk is full (matcher.store.db.is_disk_full), and what a session turns
them into: a DiskFullError of one line, not the statement with its parameters."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from matcher.errors import DiskFullError, StorageError
from matcher.store import Database
from matcher.store.db import is_disk_full


class PgDiskFull(Exception):
    sqlstate = "53100"  # what psycopg gives for "could not extend file": no space left


def wrapped(orig: BaseException) -> OperationalError:
    return OperationalError("INSERT INTO embeddings ...", {"vector": b"x" * 5000}, orig)


def test_disk_full_errors_are_told_from_others() -> None:
    assert is_disk_full(wrapped(sqlite3.OperationalError("database or disk is full")))
    assert is_disk_full(wrapped(PgDiskFull("could not extend file")))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(wrapped(sqlite3.OperationalError("database is locked")))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    # a parameter that happens to hold the words is no full disk
    other = OperationalError("INSERT ...", {"t": "database or disk is full"}, ValueError("no"))
    assert not is_disk_full(other)


def test_a_session_on_a_full_database_raises_a_short_disk_full_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.session() as s:
        s.execute(text("CREATE TABLE t (v BLOB)"))
        pages = s.execute(text("PRAGMA page_count")).scalar_one()
        s.execute(text(f"PRAGMA max_page_count = {pages + 2}"))  # SQLite's own SQLITE_FULL
    with pytest.raises(DiskFullError) as failed, db.session() as s:
        for _ in range(20):
            s.execute(text("INSERT INTO t VALUES (:v)"), {"v": b"\0" * 4000})
    assert isinstance(failed.value, StorageError)
    assert "INSERT" not in str(failed.value) and len(str(failed.value)) < 120
    with db.session() as s:  # rolled back, the database sound
        assert s.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert s.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    db.dispose()
