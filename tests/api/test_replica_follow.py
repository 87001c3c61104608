"""matcher.replica in one test process: a follower brings a second engine on the same database
up to date with what the first wrote (organisations, deletes, needs, causes), never installs
an older row over a newer one, retries a failed apply without losing it, and catches up after
its LISTEN connection is killed. Plus the API's X-Change-Seq and min_seq."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from api_support import hdr, make_settings, seed
from fastapi.testclient import TestClient
from sqlalchemy import text
from support_databases import pg_schema_url

from matcher.causes import Cause
from matcher.domain import Need, Organisation, Sector
from matcher.engine import Engine
from matcher.errors import NotFoundError
from matcher.replica import Follower, apply_to_engine
from matcher.settings import Settings
from matcher.store.changes import Change


def _org(i: int, name: str | None = None) -> Organisation:
    return Organisation(
        id=f"new-{i}",
        name=name or f"New Org {i}",
        sector=Sector.business,
        description="Refrigerated vans and drivers for food banks",
        city="Leeds",
        country="GB",
    )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Engine, Engine, Follower]]:
    a = seed(tmp_path)
    b = Engine.open(make_settings(tmp_path))
    follower = Follower(b.store.db, lambda batch: apply_to_engine(b, batch))
    follower.begin()
    yield a, b, follower
    a.close()
    b.close()


def test_a_follower_applies_another_engines_writes(
    pair: tuple[Engine, Engine, Follower],
) -> None:
    a, b, follower = pair
    a.create_organisation(_org(1))
    a.create_need(Need(id="need-new", text="vans to carry food to elders"))
    assert b.catalog.position_of_id("new-1") is None
    got = follower.poll_once()
    assert [(c.kind, c.entity_id) for c in got] == [("organisation", "new-1"), ("need", "need-new")]
    assert b.catalog.position_of_id("new-1") is not None
    assert "need-new" in b._needs
    a.update_organisation("new-1", {"name": "Renamed"})
    a.delete_need("need-new")
    follower.poll_once()
    pos = b.catalog.position_of_id("new-1")
    assert pos is not None and b.catalog.profile(pos).org.name == "Renamed"
    assert "need-new" not in b._needs
    a.delete_organisation("new-1")
    a.set_causes([Cause(code="hunger", title="Hunger", definition="food")])
    follower.poll_once()
    assert b.catalog.position_of_id("new-1") is None
    assert [c.code for c in b.causes()] == ["hunger"]
    assert follower.poll_once() == []


def test_an_older_row_never_replaces_a_newer_one(pair: tuple[Engine, Engine, Follower]) -> None:
    """A write applied late in its own process (after a replica of a newer write reached it)
    must not put the older row back."""
    a, b, follower = pair
    first = a.create_organisation(_org(2, "First"))
    a.update_organisation("new-2", {"name": "Second"})
    follower.poll_once()  # b has version 2
    b._reindex([(first.pk, first.record)], {first.pk: first.version})  # version 1, late
    pos = b.catalog.position_of_id("new-2")
    assert pos is not None and b.catalog.profile(pos).org.name == "Second"


def test_an_own_update_indexed_after_a_followed_delete_stays_deleted(
    pair: tuple[Engine, Engine, Follower], monkeypatch: pytest.MonkeyPatch
) -> None:
    """b's update commits, a deletes the row, b's follower applies the delete, and only then
    does b index its own update: the row must stay out of b's index (it did not exist any
    more), and a row created again afterwards is indexed."""
    a, b, follower = pair
    a.create_organisation(_org(5, "Before"))
    follower.poll_once()
    assert b.catalog.position_of_id("new-5") is not None
    real_update = b.store.update_organisation

    def update_then_lose_the_race(*args: object, **kwargs: object) -> object:
        stored = real_update(*args, **kwargs)  # type: ignore[arg-type]
        a.delete_organisation("new-5")  # another process deletes the row...
        follower.poll_once()  # ...and b follows it before indexing its own update
        return stored

    monkeypatch.setattr(b.store, "update_organisation", update_then_lose_the_race)
    b.update_organisation("new-5", {"name": "Updated Too Late"})
    assert b.catalog.position_of_id("new-5") is None
    with pytest.raises(NotFoundError):
        b.store.get_organisation("new-5")
    monkeypatch.undo()
    a.create_organisation(_org(5, "Again"))
    follower.poll_once()
    pos = b.catalog.position_of_id("new-5")
    assert pos is not None and b.catalog.profile(pos).org.name == "Again"


def test_own_writes_are_skipped_and_a_failed_apply_is_retried(tmp_path: Path) -> None:
    a = seed(tmp_path)
    applied: list[Sequence[Change]] = []
    fail = [True]

    def apply(batch: Sequence[Change]) -> None:
        if fail[0]:
            fail[0] = False
            raise RuntimeError("index busy")
        applied.append(batch)

    try:
        follower = Follower(a.store.db, apply)  # a's own Database: its writes are its own
        follower.begin()
        a.create_organisation(_org(3))
        assert follower.poll_once() == []
        assert follower.stats.skipped_own == 1
        other = Follower(a.store.db, apply, own=lambda seq: False)
        other.begin()
        a.create_organisation(_org(4))
        other.poll_once()  # apply fails
        assert other.stats.errors == 1 and applied == []
        other.poll_once()  # nothing new to read, the failed batch is applied now
        assert [[c.entity_id for c in batch] for batch in applied] == [["new-4"]]
    finally:
        a.close()


def test_a_killed_listen_connection_loses_nothing(tmp_path: Path) -> None:
    with pg_schema_url("fol") as url:
        settings = Settings(data_dir=tmp_path, model_name="hashing-v1", database_url=url)
        a = Engine.open(settings, load=False)
        a.build()
        b = Engine.open(settings)
        follower = Follower(
            b.store.db, lambda batch: apply_to_engine(b, batch), interval=0.2, listen=True
        )
        follower.begin()
        follower.start()
        try:
            a.create_organisation(_org(5))
            _wait(lambda: b.catalog.position_of_id("new-5") is not None)
            assert follower.stats.listening
            with a.store.db.session() as s:  # kill the follower's LISTEN connection
                killed = s.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                    )
                )
            assert killed >= 1
            for i in range(6, 10):
                a.create_organisation(_org(i))
            ids = [f"new-{i}" for i in range(6, 10)]
            _wait(lambda: all(b.catalog.position_of_id(i) is not None for i in ids))
            assert follower.wait_for(10**9, timeout=5)  # a poll after the kill completed
        finally:
            follower.stop()
            a.close()
            b.close()


def _wait(check: object, timeout: float = 5.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.02)


def test_writes_answer_their_change_seq_and_reads_take_min_seq(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = {"id": "seq-org", "name": "Seq Org", "sector": "business", "description": "vans"}
    r = client.post("/v1/organisations", json=body, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text
    seq = int(r.headers["X-Change-Seq"])
    r = client.patch(
        "/v1/organisations/seq-org", json={"name": "Seq Org 2"}, headers=hdr(keys["editor"])
    )
    assert int(r.headers["X-Change-Seq"]) > seq
    r = client.get("/v1/organisations/seq-org", params={"min_seq": seq})
    assert r.status_code == 200 and "X-Change-Seq" not in r.headers  # a read writes nothing
    r = client.get("/v1/organisations/seq-org", headers={"X-Min-Seq": str(seq + 10**6)})
    assert r.status_code == 200  # a seq not (yet) written: one poll, then answered
    r = client.get("/v1/organisations", params={"min_seq": "soon"})
    assert r.status_code == 422 and "min_seq" in r.json()["detail"]
    r = client.delete("/v1/organisations/seq-org", headers=hdr(keys["editor"]))
    assert r.status_code == 204
