"""Registry writes and the database (every write of training.registry goes through
`Registry._locked`, which wraps it in `registry_writes`).

- PostgreSQL (the CLI's database URL, `--database-url` included; else `MATCHER_DATABASE_URL`;
  or the Database a caller passes): the registry is shared.
  Writers on every machine take one advisory lock, first materialise the database's registry
  here (so version numbers and pointer histories continue the shared ones), write the files,
  then push them with a MODEL change in one transaction (matcher.registry_sync).
- SQLite (the data directory's `matcher.db`, when there is one): the files are the registry, as
  before; a write that moved a pointer (publish, rollback) records a MODEL change so that every
  serving process on this data directory follows it at once (the CLI did not: they noticed
  only through a stat of the pointer on their next request).
- Neither: the files alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matcher.atomic import file_signature
from matcher.registry_files import POINTERS, read_text
from matcher.registry_sync import configured_database_url, pull, push, sync_for_serving
from matcher.store import changes, registry_rows
from matcher.store.db import Database

logger = logging.getLogger(__name__)

URL_ENV = "MATCHER_DATABASE_URL"
SQLITE_FILE = "matcher.db"  # Settings.sqlalchemy_url's default


class _Auto:
    """Resolve the database from the environment and the data directory (the default)."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()
_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def _resolve(data_dir: Path) -> tuple[Database | None, bool]:
    """(database, owned: dispose after use) for a registry in `data_dir`."""
    url = (configured_database_url() or os.environ.get(URL_ENV, "")).strip()
    if url and not url.startswith("sqlite"):
        with _shared_lock:  # one engine per URL in a process (a worker writes many versions)
            db = _shared.get(url)
            if db is None:
                db = Database(url)
                db.create_all()
                _shared[url] = db
        return db, False
    if not url:
        path = data_dir / SQLITE_FILE
        if not path.is_file():
            return None, False  # no service has used this data directory: nobody to tell
        url = f"sqlite:///{path.resolve()}"
    db = Database(url)
    db.create_all()
    return db, True


def entity(models_dir: Path) -> str:
    """What the MODEL change names: the published versions."""
    parts = []
    for name in POINTERS:
        content = read_text(models_dir / name)
        try:
            version = json.loads(content).get("version") if content else None
        except (ValueError, AttributeError):
            version = None
        parts.append(f"{name}={version or 'default'}")
    return " ".join(parts)[:128]


def _signatures(models_dir: Path) -> list[Any]:
    return [file_signature(models_dir / name) for name in POINTERS]


@contextlib.contextmanager
def registry_writes(models_dir: Path, db: Any = AUTO) -> Iterator[Database | None]:
    """Around one registry write (the caller holds the registry's local lock); `db`: a
    Database, None (the files alone) or AUTO. Yields the database in use (None: files alone);
    on PostgreSQL the block runs under the writers' lock, after the pull."""
    owned = False
    if db is AUTO:
        db, owned = _resolve(models_dir.parent)
    try:
        if db is None:
            yield None
        elif db.is_sqlite:
            before = _signatures(models_dir)
            yield db
            if _signatures(models_dir) != before:
                with db.session() as s:
                    changes.record(s, changes.MODEL, entity(models_dir))
        else:
            with registry_rows.writers_lock(db):
                pull(db, models_dir, strict=True)
                yield db
                push(db, models_dir, entity=entity(models_dir))
    finally:
        if owned and db is not None:
            db.dispose()


def dispose_shared() -> None:
    """Close the PostgreSQL engines `AUTO` opened (tests; a process ending closes them)."""
    with _shared_lock:
        for db in _shared.values():
            db.dispose()
        _shared.clear()


def refresh(data_dir: Path | str, db: Any = AUTO) -> list[str]:
    """Bring this machine's copy of a shared registry up to date before reading it (`matcher
    models list`); returns the problems met (none on SQLite: nothing shared)."""
    owned = False
    if db is AUTO:
        db, owned = _resolve(Path(data_dir))
    try:
        if db is None or db.is_sqlite:
            return []
        report = sync_for_serving(db, data_dir)
        return report.problems if report is not None else []
    finally:
        if owned and db is not None:
            db.dispose()
