"""Names found by the letters they hold without reading every name: an index of trigrams.

Name search (`Repository.list_organisations(name=...)`) asks for the names holding what was
typed, in any case. As a LIKE over the table that read every row, three times a search (the
count, the page, and whether any name holds it at all): 180-550 ms a search at 100k names.

- SQLite: an FTS5 table with the trigram tokenizer over `organisations.name` (external
  content: the names are not stored twice), kept by triggers in the writing transaction, so it
  can never disagree with a committed row. A phrase of three characters or more is answered
  from it, case-insensitive as the LIKE was; shorter ones still read the table.
- PostgreSQL: a GIN index of `lower(name)`'s trigrams (`pg_trgm`), which the planner uses for
  the LIKE itself. Where the extension cannot be created (no privilege), searches read the
  table as before; nothing else depends on it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

TABLE = "organisation_names"
# what FTS5's trigram tokenizer can answer: a phrase of at least one trigram
SHORTEST = 3
_TRIGGERS = {
    f"{TABLE}_insert": (
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON organisations BEGIN "
        f"INSERT INTO {TABLE}(rowid, name) VALUES (new.pk, new.name); END"
    ),
    f"{TABLE}_delete": (
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON organisations BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, name) VALUES ('delete', old.pk, old.name); END"
    ),
    f"{TABLE}_update": (
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF name ON organisations BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, name) VALUES ('delete', old.pk, old.name); "
        f"INSERT INTO {TABLE}(rowid, name) VALUES (new.pk, new.name); END"
    ),
}
PG_INDEX = "ix_organisations_name_trigrams"
TOKENIZER = "trigram"  # FTS5's, SQLite 3.34 and later


def create_sqlite(conn: Any) -> bool:
    """Make the trigram table and its triggers where missing, on `conn` (in the caller's
    transaction); when it or a trigger was missing (a new or older data directory, or a
    table made again), the table is rebuilt from the names. Whether the table can be read: an
    SQLite without FTS5 or its trigram tokenizer (before 3.34) has none, and searches read
    the names as before."""
    had = readable_sqlite(conn)
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(name, "
                f"content='organisations', content_rowid='pk', tokenize='{TOKENIZER}')"
            )
    except SQLAlchemyError as exc:
        logger.warning("name search reads every name: no trigram table (%s)", exc)
        return False
    if had:
        return True
    for name in _TRIGGERS:  # all three again: they must agree on what the table holds
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    for ddl in _TRIGGERS.values():
        conn.exec_driver_sql(ddl)
    conn.exec_driver_sql(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
    logger.info("indexed the trigrams of the organisations' names")
    return True


def readable_sqlite(conn: Any) -> bool:
    """Whether this SQLite database keeps the names' trigrams (`create_sqlite` made them)."""
    found = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?, ?, ?)",
        (TABLE, *_TRIGGERS),
    ).scalar()
    return found == 1 + len(_TRIGGERS)


def create_postgresql(conn: Any) -> bool:
    """The GIN trigram index of `lower(name)`, where `pg_trgm` can be had; whether it exists."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON organisations "
                "USING gin (lower(name) gin_trgm_ops)"
            )
        return True
    except SQLAlchemyError as exc:
        logger.warning("name search reads every name: no trigram index (%s)", exc)
        return False


def holding(typed: str) -> Any | None:
    """A condition on `organisations.pk`: the names holding `typed` (lower case), read from
    SQLite's trigram table; None when it cannot answer (shorter than `SHORTEST`)."""
    if len(typed) < SHORTEST:
        return None
    phrase = '"' + typed.replace('"', '""') + '"'
    return text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :phrase").bindparams(phrase=phrase)
