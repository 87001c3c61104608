"""One storage contract, run against SQLite and (when a server is reachable) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from matcher.domain import Need, Organisation
from matcher.errors import ConflictError, NotFoundError
from matcher.store import Database, Store
from matcher.store.repository import SqlEmbeddingCache, Stored
from tests.support_databases import database_for
from tests.support_threads import together

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_for(request.param, tmp_path) as database:
        yield database


def org(i: str, **kw: object) -> Organisation:
    return Organisation.model_validate(
        {"id": i, "name": f"Org {i}", "sector": "nonprofit", "description": "food bank", **kw}
    )


def test_upsert_is_idempotent_and_versions_changes(db: Database) -> None:
    store = Store(db)
    r1 = store.upsert_organisations([org("a"), org("b", offers="food|volunteers")])
    assert r1.inserted == ["a", "b"]
    r2 = store.upsert_organisations([org("a"), org("b", offers="food|volunteers")])
    assert r2.unchanged == ["a", "b"] and not r2.inserted and not r2.updated
    r3 = store.upsert_organisations([org("a", description="now a pantry")])
    assert r3.updated == ["a"]
    got = store.get_organisation("a")
    assert got.version == 2 and got.record.description == "now a pantry"
    assert store.get_organisation("b").record.offers == ["food", "volunteers"]
    assert store.count_organisations() == 2


def test_optimistic_concurrency_and_delete(db: Database) -> None:
    store = Store(db)
    store.upsert_organisations([org("a")])
    s = store.update_organisation("a", {"name": "New"}, expected_version=1)
    assert s.version == 2 and s.record.name == "New"
    with pytest.raises(ConflictError):
        store.update_organisation("a", {"name": "Stale"}, expected_version=1)
    with pytest.raises(ConflictError):
        store.create_organisation(org("a"))
    store.delete_organisation("a", expected_version=2)
    with pytest.raises(NotFoundError):
        store.get_organisation("a")


def test_failed_batch_leaves_store_unchanged(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.store.repository as repo

    store = Store(db)
    store.upsert_organisations([org("a")])
    real = repo.org_values

    def crash_on_c(o: Organisation) -> dict[str, object]:
        if o.id == "c":
            raise RuntimeError("crash mid-batch")
        return real(o)

    monkeypatch.setattr(repo, "org_values", crash_on_c)
    with pytest.raises(RuntimeError):
        store.upsert_organisations([org("a", description="changed"), org("b"), org("c")])
    monkeypatch.undo()
    assert [o.id for _, o in store.organisations()] == ["a"]
    assert store.get_organisation("a").record.description == "food bank"


def test_listing_filters_and_pages(db: Database) -> None:
    store = Store(db)
    store.upsert_organisations(
        [
            org("a", country="us", region="Oregon"),
            org("b", country="GB", sector="business"),
            org("c", country="US", region="oregon", published=False),
        ]
    )
    items, total = store.list_organisations(country="us", region="OREGON")
    assert total == 2 and [i.record.id for i in items] == ["a", "c"]
    items, total = store.list_organisations(published_only=True, limit=1, offset=1)
    assert total == 2 and [i.record.id for i in items] == ["b"]


def test_listing_by_a_part_of_the_name(db: Database) -> None:
    """`name`: the names holding the words typed, any case, shortest first; a wildcard typed
    is a character (both backends: LIKE escaped)."""
    store = Store(db)
    store.upsert_organisations(
        [
            org("long", name="Rhode Island Community Food Bank Association"),
            org("short", name="Little Compton food bank"),
            org("other", name="Meals on Wheels"),
            org("pct", name="100% Food Bank"),
            org("hidden", name="Hidden Food Bank", published=False),
        ]
    )
    items, total = store.list_organisations(name="  FOOD   bank ", published_only=True)
    assert total == 3 and [i.record.id for i in items] == ["pct", "short", "long"]
    assert [i.record.id for i in store.list_organisations(name="0% f")[0]] == ["pct"]
    assert store.list_organisations(name="%")[1] == 1
    assert store.list_organisations(name="_")[1] == 0


def test_names_starting_with_what_was_typed_come_first(db: Database) -> None:
    """ "food bank" listed "Fish Food Bank" first, the shortest name holding it (real data):
    the names it starts, then the ones holding it at the start of a word, then the rest, each
    the shortest first."""
    store = Store(db)
    store.upsert_organisations(
        [
            org("fish", name="Fish Food Bank"),
            org("starts", name="Food Bank of Central New Mexico"),
            org("inside", name="Seafood Banks"),
            org("word", name="Eastside Community Food Bank Pantry"),
            org("short", name="Food Bank"),
        ]
    )
    items, total = store.list_organisations(name="food bank")
    assert total == 5
    assert [i.record.id for i in items] == ["short", "starts", "fish", "word", "inside"]


def test_needs_and_index_state(db: Database) -> None:
    store = Store(db)
    store.upsert_needs([Need(id="n1", text="we need food", wanted_sectors=["business"])])
    assert store.get_need("n1").record.wanted_sectors == ["business"]
    assert store.upsert_needs(
        [Need(id="n1", text="we need food", wanted_sectors=["business"])]
    ).unchanged == ["n1"]
    store.set_index_state("organisations", generation=3, model="m", count=5, info={"ann": "flat"})
    state = store.index_state("organisations")
    assert state is not None and state["generation"] == 3 and state["info"] == {"ann": "flat"}


def test_embedding_cache_roundtrip(db: Database) -> None:
    cache = SqlEmbeddingCache(db)
    v = np.arange(4, dtype=np.float32)
    cache.put_many("m", {"h1": v})
    cache.put_many("m", {"h1": v * 2})  # replace
    got = cache.get_many("m", ["h1", "h2"])
    assert list(got) == ["h1"] and np.array_equal(got["h1"], v * 2)
    assert cache.get_many("other-model", ["h1"]) == {}


def test_columns_added_since_a_database_was_made_are_added_in_place(tmp_path: Path) -> None:
    """A data directory made before `service_level`, `active` and `sources` existed opens, its
    rows read back as active local organisations, and the new fields are stored from then on."""
    import sqlite3

    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    db.create_all()
    store = Store(db)
    store.upsert_organisations(
        [Organisation(id="old-1", name="Old", sector="nonprofit", description="Kept.")]
    )
    db.dispose()
    con = sqlite3.connect(path)
    for column in ("service_level", "active", "sources"):
        con.execute(f"ALTER TABLE organisations DROP COLUMN {column}")
    con.commit()
    con.close()

    db = Database(f"sqlite:///{path}")
    db.create_all()
    store = Store(db)
    old = store.get_organisation("old-1").record
    assert (old.active, old.service_level, old.sources) == (True, None, [])
    store.upsert_organisations(
        [
            Organisation(
                id="new-1",
                name="New",
                sector="government",
                description="National.",
                service_level="national",
                active=False,
                sources=["fedreg:1"],
            )
        ]
    )
    new = store.get_organisation("new-1").record
    assert (new.active, new.service_level, new.sources) == (False, "national", ["fedreg:1"])
    db.dispose()


def test_compare_and_set_has_one_winner_per_version(db: Database) -> None:
    store = Store(db)
    for rnd in range(10):
        store.upsert_organisations([org(f"cas{rnd}")])
        out = together(
            8,
            lambda i, r=rnd: store.update_organisation(
                f"cas{r}", {"city": f"W{i}"}, expected_version=1
            ),
        )
        winners = [o for o in out if isinstance(o, Stored)]
        assert len(winners) == 1, (rnd, out)
        assert all(isinstance(o, ConflictError) for o in out if o not in winners), out
        got = store.get_organisation(f"cas{rnd}")
        assert got.version == 2 and got.record.city == winners[0].record.city


def test_unguarded_concurrent_updates_lose_nothing(db: Database) -> None:
    store = Store(db)
    store.upsert_organisations([org("merge")])
    fields = ["city", "region", "postcode", "website", "contact", "name", "description", "country"]
    values = ["Leeds", "Yorkshire", "LS1", "https://x.example", "a@x.example", "N", "D", "GB"]
    out = together(8, lambda i: store.update_organisation("merge", {fields[i]: values[i]}))
    assert all(isinstance(o, Stored) for o in out), out
    got = store.get_organisation("merge")
    assert got.version == 9
    assert {f: getattr(got.record, f) for f in fields} == dict(zip(fields, values, strict=True))


def test_create_of_an_existing_id_is_a_conflict(db: Database) -> None:
    store = Store(db)
    out = together(
        6, lambda i: store.create_need(Need.model_validate({"id": "n1", "text": f"text {i}"}))
    )
    assert sum(isinstance(o, Stored) for o in out) == 1, out
    assert sum(isinstance(o, ConflictError) for o in out) == 5, out
    assert store.get_need("n1").record.text in {f"text {i}" for i in range(6)}
    store.create_organisation(org("o1"))
    with pytest.raises(ConflictError):
        store.create_organisation(org("o1", name="Takeover"))
    assert store.get_organisation("o1").record.name == "Org o1"


def test_upsert_keeps_owner_and_contact_unless_asked(db: Database) -> None:
    store = Store(db)
    store.upsert_organisations([org("own", owner="key-a", contact="a@x.example")])
    report = store.upsert_organisations([org("own", owner="key-b", contact="b@x.example")])
    assert report.owned == ["own"] and report.unchanged == ["own"]
    got = store.get_organisation("own").record
    assert (got.owner, got.contact) == ("key-a", "a@x.example")
    report = store.upsert_organisations(
        [org("own", owner="key-b", contact="b@x.example")], keep_ownership=False
    )
    assert report.updated == ["own"]
    got = store.get_organisation("own").record
    assert (got.owner, got.contact) == ("key-b", "b@x.example")
