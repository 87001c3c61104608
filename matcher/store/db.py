"""Engine and session set-up: SQLite (WAL, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.schema import CreateColumn, CreateIndex

from matcher.errors import ConflictError, DiskFullError, StorageError
from matcher.store import changes, name_index
from matcher.store.derived import fill_name_initials
from matcher.store.models import Base

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


SQLITE_FULL = 13  # "database or disk is full"
PG_DISK_FULL = "53100"  # SQLSTATE disk_full ("could not extend file": no space left on device)
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an error it wraps, says the disk is full: SQLite's SQLITE_FULL,
    PostgreSQL's disk_full, an OSError of no space left (or quota exceeded)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in NO_SPACE:
            return True
        code = getattr(err, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == SQLITE_FULL:
            return True
        if getattr(err, "sqlstate", None) == PG_DISK_FULL or getattr(err, "pgcode", None) == (
            PG_DISK_FULL
        ):
            return True
        if isinstance(err, sqlite3.Error) and "database or disk is full" in str(err):
            return True  # the driver's own message: no statement, no parameters
        todo += [getattr(err, "orig", None), err.__cause__, err.__context__]
    return False


class Database:
    """Owns the SQLAlchemy engine; `session()` is a transaction that commits or rolls back."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            path = url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (SQLAlchemyError, ValueError) as exc:
            raise StorageError(f"cannot open database {url!r}: {exc}") from exc
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # seqs of the change log written through this Database (this process): its followers
        # skip them, the writer applied them to its own memory already
        self.own_changes = changes.RecentSeqs()
        self._name_trigrams: bool | None = None  # known once made or looked for

    @property
    def name_trigrams(self) -> bool:
        """Whether name search may read SQLite's table of the names' trigrams
        (`store.name_index`); False on PostgreSQL, whose index serves the LIKE itself."""
        if self._name_trigrams is None:
            if not self.is_sqlite:
                self._name_trigrams = False
            else:
                with self.engine.connect() as conn:
                    self._name_trigrams = name_index.readable_sqlite(conn)
        return self._name_trigrams

    def create_all(self) -> None:
        try:
            Base.metadata.create_all(self.engine)
            self._add_missing_columns()
            if not self.is_sqlite:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(changes.TXID_DEFAULT_DDL)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot create tables in {self.url!r}: {exc}") from exc

    def _add_missing_columns(self) -> None:
        """Columns added to a table since a data directory was made (nullable or with a server
        default, so existing rows stay valid) are added in place, the ones derived from others
        filled (`store.derived`), and indexes added since made; nothing is dropped. The
        names' trigram index is made, or remade where its triggers were missing."""
        with self.engine.begin() as conn:
            existing = inspect(conn)  # on this connection: its search path, its schema
            tables = set(existing.get_table_names())
            for table in Base.metadata.sorted_tables:
                if table.name not in tables:
                    continue
                have = {c["name"] for c in existing.get_columns(table.name)}
                for column in table.columns:
                    if column.name in have:
                        continue
                    ddl = CreateColumn(column).compile(dialect=self.engine.dialect)
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
                    logger.info("added column %s.%s", table.name, column.name)
                for index in table.indexes:  # create_all makes only new tables' indexes
                    conn.execute(CreateIndex(index, if_not_exists=True))
            if "organisations" in tables:
                fill_name_initials(conn)
        with self.engine.begin() as conn:
            if self.is_sqlite:
                self._name_trigrams = name_index.create_sqlite(conn)
            else:
                name_index.create_postgresql(conn)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
            seqs = changes.committed_seqs(session)
            if seqs:
                self.own_changes.add(seqs)
                changes.note_written(seqs)
        except StaleDataError as exc:
            changes.forget(session)
            session.rollback()
            raise ConflictError(f"a row changed while it was being written; retry: {exc}") from exc
        except SQLAlchemyError as exc:
            changes.forget(session)
            session.rollback()
            if is_disk_full(exc):  # not the statement and its thousands of parameters
                raise DiskFullError(
                    "the disk is full: the database could not be written (nothing of this "
                    "write was kept)"
                ) from exc
            raise StorageError(f"database error: {exc}") from exc
        except BaseException:
            changes.forget(session)
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """A datetime read back from the database, in UTC: SQLite returns it without its zone."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
