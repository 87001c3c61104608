"""The change log: every write that changes serving state logs itself in its own transaction,
and ChangeReader reads every change once, including those that commit out of seq order."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from support_databases import database_for

from api.keys import KeyRing
from matcher.causes import Cause
from matcher.domain import Need, Organisation, Sector
from matcher.store import Store, changes
from matcher.store.changes import ChangeReader
from matcher.store.models import ChangeRow

KINDS = ["sqlite", "postgresql"]


def _org(i: int, text: str = "food bank with refrigerated vans") -> Organisation:
    return Organisation(
        id=f"org-{i}", name=f"Org {i}", sector=Sector.nonprofit, description=text, city="Leeds"
    )


def _need(i: int) -> Need:
    return Need(id=f"need-{i}", text="families going hungry in winter")


@pytest.mark.parametrize("kind", KINDS)
def test_every_serving_write_is_logged_and_read_once(kind: str, tmp_path: Path) -> None:
    with database_for(kind, tmp_path) as db:
        store = Store(db)
        reader = ChangeReader(db)
        reader.start()
        assert reader.poll() == []
        store.create_organisation(_org(1))
        store.update_organisation("org-1", {"name": "Org one"})
        store.upsert_organisations([_org(2), _org(3)])
        store.delete_organisation("org-3")
        store.create_need(_need(1))
        store.upsert_needs([_need(2)])
        store.delete_need("need-1")
        store.replace_causes([Cause(code="hunger", title="Hunger")])
        ring = KeyRing(db)
        _key, info = ring.create("k", "reader")
        ring.revoke(info.id)
        store.log_change(changes.MODEL, "v0002")
        got = [(c.kind, c.entity_id, c.op) for c in reader.poll()]
        assert got == [
            ("organisation", "org-1", "upsert"),
            ("organisation", "org-1", "upsert"),
            ("organisation", "org-2", "upsert"),
            ("organisation", "org-3", "upsert"),
            ("organisation", "org-3", "delete"),
            ("need", "need-1", "upsert"),
            ("need", "need-2", "upsert"),
            ("need", "need-1", "delete"),
            ("causes", "*", "upsert"),
            ("key", info.id, "upsert"),
            ("key", info.id, "delete"),
            ("model", "v0002", "upsert"),
        ]
        assert reader.poll() == []  # each change once


@pytest.mark.parametrize("kind", KINDS)
def test_a_rolled_back_write_logs_nothing_and_the_committed_seq_is_reported(
    kind: str, tmp_path: Path
) -> None:
    with database_for(kind, tmp_path) as db:
        store = Store(db)
        reader = ChangeReader(db)
        reader.start()
        holder: list[int] = []
        token = changes.written_seqs.set(holder)
        try:
            store.create_organisation(_org(1))
            with pytest.raises(Exception, match="already exists"):
                store.create_organisation(_org(1))
        finally:
            changes.written_seqs.reset(token)
        seen = reader.poll()
        assert [c.entity_id for c in seen] == ["org-1"]
        assert holder == [seen[0].seq]
        assert seen[0].seq in db.own_changes


def test_a_change_that_commits_out_of_seq_order_is_not_lost(tmp_path: Path) -> None:
    """PostgreSQL: T1 takes seq n and stays open, T2 takes n+1 and commits. A reader taking
    'seq > last seen' would read n+1, move past n and never read it."""
    with database_for("postgresql", tmp_path) as db:
        reader = ChangeReader(db)
        reader.start()
        slow = db._sessions()
        changes.record(slow, changes.ORGANISATION, "slow", pk=1, version=1)
        slow.flush()  # seq n taken, not committed
        with db.session() as s:
            changes.record(s, changes.ORGANISATION, "fast", pk=2, version=1)
        first = reader.poll()
        assert [c.entity_id for c in first] == ["fast"]
        naive_cursor = first[0].seq
        slow.commit()
        slow.close()
        second = reader.poll()
        assert [c.entity_id for c in second] == ["slow"]
        assert second[0].seq < naive_cursor  # what "seq > last seen" would have lost
        assert reader.poll() == []


def test_concurrent_writers_lose_no_change(tmp_path: Path) -> None:
    """Eight threads write 40 changes each while a reader polls: every one is read once."""
    with database_for("postgresql", tmp_path) as db:
        reader = ChangeReader(db)
        reader.start()
        seen: list[int] = []
        stop = threading.Event()

        def follow() -> None:
            while not stop.is_set():
                seen.extend(c.seq for c in reader.poll())

        def write(t: int) -> None:
            for i in range(40):
                with db.session() as s:
                    changes.record(s, changes.ORGANISATION, f"o{t}-{i}", pk=i)

        follower = threading.Thread(target=follow)
        follower.start()
        writers = [threading.Thread(target=write, args=(t,)) for t in range(8)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        stop.set()
        follower.join()
        seen.extend(c.seq for c in reader.poll())
        with db.session() as s:
            logged = sorted(s.scalars(select(ChangeRow.seq)))
        assert len(logged) == 320
        assert sorted(seen) == logged  # none lost, none twice


def test_postgres_notifies_at_commit(tmp_path: Path) -> None:
    with database_for("postgresql", tmp_path) as db:
        raw = str(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        with psycopg.connect(raw, autocommit=True) as listener:
            listener.execute(f"LISTEN {changes.CHANNEL}")
            with db.session() as s:
                changes.record(s, changes.NEED, "n1")
                changes.record(s, changes.NEED, "n2")
            got = list(listener.notifies(timeout=5, stop_after=1))
            assert [n.channel for n in got] == [changes.CHANNEL]
