"""Throwaway databases for tests: a SQLite file, or a fresh schema on the PostgreSQL server
named by MATCHER_TEST_POSTGRES_URL (`.ci/run` starts one with scripts/with-postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from matcher.store import Database

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "no PostgreSQL server: set MATCHER_TEST_POSTGRES_URL "
    "(.ci/run starts one with scripts/with-postgres.sh)"
)


@contextmanager
def pg_schema_url(prefix: str = "t") -> Iterator[str]:
    """A URL whose connections use a fresh schema (first on the search_path, as a connection
    option: every pooled connection gets it, which a SET in a connect hook does not survive);
    the schema is dropped afterwards. Skips the test without a server."""
    if not PG_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_for(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A created, empty database: "sqlite" (a file under tmp_path) or "postgresql"."""
    if kind == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'm.db'}")
        database.create_all()
        try:
            yield database
        finally:
            database.dispose()
        return
    with pg_schema_url() as url:
        database = Database(url)
        database.create_all()
        try:
            yield database
        finally:
            database.dispose()
