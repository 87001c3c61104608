"""Names found by their initials read an indexed column kept at every write
(`organisations.name_initials`), not every name in Python; a data directory made before the
column existed opens with it added, indexed and filled. SQLite and (when reachable)
PostgreSQL."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from matcher.domain import Organisation
from matcher.store import Database, Store
from matcher.store.models import OrganisationRow
from tests.support_databases import pg_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg_schema_url("ini") as pg_url:
        yield pg_url


def _org(i: str, name: str, sector: str = "nonprofit") -> Organisation:
    return Organisation.model_validate(
        {"id": i, "name": name, "sector": sector, "description": "disaster recovery"}
    )


def _found(store: Store, typed: str) -> list[str]:
    return [s.record.id for s in store.list_organisations(name=typed)[0]]


def _stored_initials(db: Database) -> dict[str, str | None]:
    with db.session() as s:
        q = select(OrganisationRow.id, OrganisationRow.name_initials)
        return dict(s.execute(q).tuples().all())


def test_every_write_keeps_the_initials_a_name_is_found_by(url: str) -> None:
    db = Database(url)
    db.create_all()
    store = Store(db)
    store.upsert_organisations(
        [
            _org("fema", "Federal Emergency Management Agency", "government"),
            _org("fund", "Flood Emergency Mutual Aid Fund"),  # FEMAF: starts with FEMA
            _org("digits", "4-H 2025"),  # no letters to begin its words
        ]
    )
    assert _stored_initials(db) == {"fema": "FEMA", "fund": "FEMAF", "digits": "H"}
    assert _found(store, "FEMA") == ["fema", "fund"]  # the initials first, the agency's
    # renamed: found by its new initials, no longer by the old
    store.update_organisation("fund", {"name": "Relief Under Stress Trust"})
    assert _stored_initials(db)["fund"] == "RUST"
    assert _found(store, "FEMA") == ["fema"] and _found(store, "RUS") == ["fund"]
    # created one by one
    store.create_organisation(_org("tva", "Tennessee Valley Authority", "government"))
    assert _found(store, "TVA") == ["tva"]
    db.dispose()


def test_a_data_directory_from_before_the_column_gets_it_filled_and_indexed(url: str) -> None:
    db = Database(url)
    db.create_all()
    Store(db).upsert_organisations(
        [
            _org("noaa", "National Oceanic and Atmospheric Administration", "government"),
            _org("nwo", "NW Oregon Animal Alliance"),  # NOAA too, not a government body
        ]
    )
    with db.engine.begin() as conn:  # as the code before the column made it
        conn.exec_driver_sql("DROP INDEX ix_organisations_name_initials")
        conn.exec_driver_sql("ALTER TABLE organisations DROP COLUMN name_initials")
    db.dispose()

    reopened = Database(url)
    reopened.create_all()
    with reopened.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite's expression indexes are not reflected
        indexes = {i["name"] for i in inspect(conn).get_indexes("organisations")}
    assert "ix_organisations_name_initials" in indexes
    assert _stored_initials(reopened) == {"noaa": "NOAA", "nwo": "NOAA"}
    store = Store(reopened)
    assert _found(store, "NOAA") == ["noaa", "nwo"]
    # nothing re-written: the rows keep their versions, an identical import changes none
    assert store.get_organisation("nwo").version == 1
    again = store.upsert_organisations(
        [_org("nwo", "NW Oregon Animal Alliance")],
    )
    assert again.unchanged == ["nwo"]
    reopened.dispose()
