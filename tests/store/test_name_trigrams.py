"""Name search answered from an index of the names' trigrams (`store.name_index`): the same
names as reading every name, kept by every write (insert, rename, delete) in the writing
transaction, made for a data directory from before it, and never a pass over the table for
what is three characters or longer. SQLite; the results also on PostgreSQL when reachable."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.domain import Organisation
from matcher.store import Database, Store, name_index
from matcher.store.models import OrganisationRow
from tests.support_databases import database_for

_WORDS = ["food", "bank", "Fish", "Habitat", "NOAA", "o'brien", "100%", "café", "ÉCOLE", "x_y"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_for(request.param, tmp_path) as database:
        yield database


def _org(i: str, name: str) -> Organisation:
    return Organisation.model_validate(
        {"id": i, "name": name, "sector": "nonprofit", "description": "community work"}
    )


def _found(store: Store, typed: str) -> set[str]:
    return {s.record.id for s in store.list_organisations(name=typed, limit=500)[0]}


def _reference(names: dict[str, str], typed: str) -> set[str]:
    """What reading every name finds: the name holds the text typed, spaces collapsed, in any
    ASCII case (SQL's lower())."""
    low = " ".join(typed.split()).lower()
    return {i for i, n in names.items() if low in n.lower()}


def test_names_found_are_the_names_holding_the_text_typed(db: Database) -> None:
    rng = random.Random(5)
    names = {
        f"o{i}": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4))) for i in range(300)
    }
    store = Store(db)
    store.upsert_organisations([_org(i, n) for i, n in names.items()])
    # renamed and deleted: the index follows in the writing transaction
    store.update_organisation("o1", {"name": "Quokka Fish Pantry"})
    names["o1"] = "Quokka Fish Pantry"
    store.delete_organisation("o2")
    del names["o2"]
    for typed in [
        "food bank",
        "FISH",
        "h ban",
        "abita",
        "brien",
        "100% f",
        "x_y",
        "quokka",
        "café",
        "od",
        "%",
        "_",
        "zzz",
        "bank  food",
    ]:
        assert _found(store, typed) == _reference(names, typed), typed


def _plan(db: Database, typed: str) -> str:
    """SQLite's plan for the page of a name search."""
    store = Store(db)
    statements: list[str] = []
    from sqlalchemy import event

    def keep(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM organisations" in statement and "LIMIT" in statement:
            statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        store.list_organisations(name=typed)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    statement, params = statements[-1]
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_a_search_of_three_letters_or_more_reads_no_name_but_the_ones_found(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'names.db'}")
    db.create_all()
    Store(db).upsert_organisations([_org(f"o{i}", f"Org {i} food bank") for i in range(50)])
    for typed in ["food bank", "FEMA", "usda"]:
        plan = _plan(db, typed)
        assert "SCAN organisations" not in plan, plan
        assert name_index.TABLE in plan or "INDEX" in plan, plan
    db.dispose()


def test_a_data_directory_without_the_index_gets_it_built_from_its_names(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    db.create_all()
    Store(db).upsert_organisations([_org("a", "Eastside Food Bank"), _org("b", "Arts Hub")])
    with db.engine.begin() as conn:  # as the code before the index made it
        for trigger in name_index._TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        conn.exec_driver_sql(f"DROP TABLE {name_index.TABLE}")
        # a write the index never saw
        conn.execute(
            OrganisationRow.__table__.update()
            .where(OrganisationRow.id == "b")
            .values(name="Westside Food Bank")
        )
    db.dispose()
    reopened = Database(url)
    reopened.create_all()
    store = Store(reopened)
    assert _found(store, "food bank") == {"a", "b"}
    assert _found(store, "arts") == set()
    reopened.dispose()


def test_postgresql_keeps_a_trigram_index_of_the_names_where_it_can(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's index; SQLite's table is tested above")
    with db.engine.connect() as conn:
        available = conn.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).first()
        if available is None:
            pytest.skip("this server has no pg_trgm: name search reads every name")
        indexes = {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'organisations'"
            )
        }
    assert name_index.PG_INDEX in indexes


def test_an_sqlite_without_the_trigram_tokenizer_reads_every_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite before 3.34 has no trigram tokenizer: the database still opens, and name search
    finds the same names by reading them."""
    monkeypatch.setattr(name_index, "TOKENIZER", "no_such_tokenizer")
    db = Database(f"sqlite:///{tmp_path / 'old-sqlite.db'}")
    db.create_all()
    assert not db.name_trigrams
    store = Store(db)
    store.upsert_organisations([_org("a", "Eastside Food Bank"), _org("b", "Arts Hub")])
    assert _found(store, "food bank") == {"a"}
    assert "SCAN organisations" in _plan(db, "food bank")
    db.dispose()


def test_a_trigram_table_lost_beside_its_triggers_is_built_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lost.db'}"
    db = Database(url)
    db.create_all()
    Store(db).upsert_organisations([_org("a", "Eastside Food Bank")])
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {name_index.TABLE}")
    db.dispose()
    reopened = Database(url)
    reopened.create_all()
    assert reopened.name_trigrams
    assert _found(Store(reopened), "food bank") == {"a"}
    reopened.dispose()
