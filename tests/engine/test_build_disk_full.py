"""A build that runs out of disk part-way: what was embedded is kept, the next build embeds only
the rest, the index in use is untouched, and the command says so in a line (not the SQL)."""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Engine as SqlEngine

from matcher import embedding
from matcher.artifacts import load_artifact
from matcher.cli import main
from matcher.domain import Organisation
from matcher.embedding.hashing import HashingEmbedder
from matcher.engine import ORG_INDEX, Engine
from matcher.errors import StorageError
from matcher.settings import Settings

CHUNK = 10  # texts embedded between two writes to the cache (SAVE_EVERY, made small here)


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(dimension=384)
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts, progress=progress)


def new_orgs(n: int, start: int = 0) -> list[Organisation]:
    return [
        Organisation(
            id=f"new-{i}",
            name=f"Neighbourhood Group {i}",
            sector="community",
            description=f"Volunteers running pantry number {i} and tutoring in district {i}.",
            country="US",
        )
        for i in range(start, start + n)
    ]


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # raising=False: the code before chunked saving has no SAVE_EVERY (and keeps nothing)
    monkeypatch.setattr(embedding.cache, "SAVE_EVERY", CHUNK, raising=False)


def disk_holds_vectors(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """The driver refuses an INSERT into the embeddings table that would take it past `room`
    rows written, as SQLite does when the disk fills ("database or disk is full"; SQLAlchemy
    then wraps it with the statement and all its parameters: thousands of characters)."""
    original = SQLiteDialect_pysqlite.do_execute
    written = 0

    def do_execute(self: Any, cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        nonlocal written
        if statement.lstrip().upper().startswith("INSERT INTO EMBEDDINGS"):
            rows = len(parameters) // 4  # model, text_hash, dimension, vector per row
            if written + rows > room:
                raise sqlite3.OperationalError("database or disk is full")
            written += rows
        original(self, cursor, statement, parameters, context)

    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_execute", do_execute)


def test_a_build_that_fills_the_disk_keeps_what_it_embedded_and_the_next_embeds_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    embedder = CountingEmbedder()
    engine = Engine.open(settings, embedder=embedder, load=False)
    engine.store.upsert_organisations(new_orgs(5))
    engine.build()  # generation 1, in use
    engine.store.upsert_organisations(new_orgs(57, start=5))
    profiles = {org.profile_text() for _, org in engine.store.organisations()}
    embedder.seen.clear()

    with monkeypatch.context() as patch:
        disk_holds_vectors(patch, 35)  # three chunks of ten, not the fourth
        with pytest.raises(StorageError) as failed:
            engine.build()
    first = [t for t in embedder.seen if t in profiles]

    # the index in use is untouched and loads; the store is sound
    assert engine.store.index_state(ORG_INDEX)["generation"] == 1  # type: ignore[index]
    art = load_artifact(
        engine.index_root,
        1,
        model=embedder.model_name,
        dimension=embedder.dimension,
        centred=settings.centre_vectors,
    )
    assert art.pks.size == 5
    with sqlite3.connect(tmp_path / "var" / "matcher.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # space freed: the next build embeds only the profiles the failed one did not keep
    embedder.seen.clear()
    report = engine.build()
    again = [t for t in embedder.seen if t in profiles]
    assert len(again) == 57 - 30
    assert not set(again) & set(first[:30])
    assert report["generation"] == 2 and report["organisations"] == 62
    engine.close()

    message = str(failed.value)  # one line, not the statement and its parameters
    assert message == (
        "the disk is full: 30 of 57 profiles to embed were embedded and kept; index generation "
        "1, the one in use, is unchanged; free space and run `matcher build` again"
    )


def test_an_index_generation_that_cannot_be_saved_for_want_of_space_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matcher.engine as engine_module

    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    engine = Engine.open(settings, load=False)
    engine.store.upsert_organisations(new_orgs(5))
    engine.build()
    engine.store.upsert_organisations(new_orgs(3, start=5))

    def no_space(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(engine_module, "save_artifact", no_space)
    with pytest.raises(StorageError) as failed:
        engine.build()
    assert str(failed.value) == (
        "the disk is full: every profile is embedded and kept, but index generation 2 could not "
        "be saved; index generation 1, the one in use, is unchanged; free space and run "
        "`matcher build` again"
    )
    assert engine.store.index_state(ORG_INDEX)["generation"] == 1  # type: ignore[index]
    engine.close()


@pytest.fixture()
def full_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """`full_after.append(pages)`: every SQLite connection opened from then on refuses to grow
    its database beyond that many pages ("database or disk is full", SQLITE_FULL: SQLite's own
    error for a full disk, through the real driver and SQLAlchemy)."""
    limit: list[int] = []

    def cap(dbapi_connection: Any, _record: Any) -> None:
        if limit:
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit[0]}")

    event.listen(SqlEngine, "connect", cap)
    try:
        yield limit
    finally:
        event.remove(SqlEngine, "connect", cap)


def csv_of(path: Path, n: int, start: int = 0) -> Path:
    lines = ["id,name,sector,description,country"]
    lines += [
        f"o{i},Food Group {i},nonprofit,Pantry {i} feeding families of ward {i} with fresh food,US"
        for i in range(start, start + n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_build_on_a_full_disk_says_so_in_a_line_and_serves_the_previous_index(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    small_chunks: None,
    full_after: list[int],
) -> None:
    base = ["--data-dir", str(tmp_path / "var"), "--model", "hashing-v1"]
    assert main([*base, "ingest", str(csv_of(tmp_path / "a.csv", 4))]) == 0
    assert main([*base, "build", "--quiet"]) == 0
    assert main([*base, "ingest", str(csv_of(tmp_path / "b.csv", 200, start=4))]) == 0
    db = tmp_path / "var" / "matcher.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    full_after.append(pages + 40)  # room for some of the 200 vectors (1.5 kB each), not all
    capsys.readouterr()

    assert main([*base, "build", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("matcher build: the disk is full: ")
    assert len(err.splitlines()) == 1 and len(err) < 300, err[:500]
    found = re.search(r"([\d,]+) of ([\d,]+) profiles", err)
    assert found is not None, err
    kept, total = (int(g.replace(",", "")) for g in found.groups())
    assert total == 200 and 0 < kept < total
    assert "index generation 1, the one in use, is unchanged" in err

    full_after.clear()  # space freed
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 4 + kept
    assert main([*base, "stats", "--json"]) == 0
    assert '"generation": 1' in capsys.readouterr().out
    assert main([*base, "build", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"generation": 2' in out and '"organisations": 204' in out
