"""The alert worker on the model-free embedder: alerts for a matching new organisation, none for
an unrelated one, at most one a day (injected clock), the cursor across restarts, the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from matcher.alerts import AlertWorker, SavedNeeds, notification_key
from matcher.alerts.service import rerun, save_need
from matcher.domain import Filters, Need, Organisation, utcnow
from matcher.engine import Engine
from matcher.notify.outbox import Outbox
from matcher.settings import Settings
from matcher.store.models import OrganisationChangeRow

TOPICS = {
    "food": "Food bank distributing groceries and hot meals to hungry families.",
    "housing": "Emergency shelter and affordable housing for homeless people.",
    "legal": "Free legal aid and eviction defence lawyers for tenants in court.",
    "jobs": "Job training, CV writing and employment coaching for adults.",
    "youth": "After-school youth club with sports and mentoring for teenagers.",
    "software": "Enterprise software consultancy building cloud databases for banks.",
}
FOOD_NEED = "Hungry families need groceries and hot meals from a food bank."


def org(i: str, topic: str, sector: str = "nonprofit", **kw: object) -> Organisation:
    return Organisation.model_validate(
        {
            "id": i,
            "name": f"{topic.title()} {i}",
            "sector": sector,
            "description": TOPICS[topic],
            "city": "Portland",
            "region": "Oregon",
            "country": "US",
            **kw,
        }
    )


def corpus() -> list[Organisation]:
    out = []
    for n, topic in enumerate(TOPICS):
        for k in range(2):
            sector = "business" if topic == "software" else ("nonprofit", "community")[k]
            out.append(
                org(f"o-{topic}-{k}", topic, sector, description=f"{TOPICS[topic]} Site {n}{k}.")
            )
    return out


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"), load=False)
    eng.store.upsert_organisations(corpus())
    eng.build()
    yield eng
    eng.close()


def worker(engine: Engine, clock: Clock) -> AlertWorker:
    return AlertWorker(engine, Outbox(engine.store.db, clock=clock), clock=clock)


def food_saved(engine: Engine, owner: str = "key-a", notify_to: str | None = "a@example.org"):  # type: ignore[no-untyped-def]
    saved, rec = save_need(engine, Need(text=FOOD_NEED), limit=2, owner=owner, notify_to=notify_to)
    assert len(saved.snapshot) == 2
    assert {e.id for e in saved.snapshot} == {"o-food-0", "o-food-1"}
    return saved


def new_food(i: str) -> Organisation:
    return org(i, "food", description=FOOD_NEED + " We deliver groceries and hot meals.")


def test_new_matching_organisation_alerts_once_unrelated_none(engine: Engine) -> None:
    clock = Clock()
    saved = food_saved(engine)
    w = worker(engine, clock)
    w.run_once()  # catches up with the corpus load: nothing new for the snapshot
    assert SavedNeeds(engine.store.db).alerts("key-a")[1] == 0

    engine.create_organisation(org("o-new-soft", "software", "business"))
    report = w.run_once()
    assert report.changes == 1 and not report.alerts

    engine.create_organisation(new_food("o-new-food"))
    report = w.run_once()
    assert [a.saved_need_id for a in report.alerts] == [saved.id]
    alerts, total = SavedNeeds(engine.store.db).alerts("key-a")
    assert total == 1 and alerts[0].organisation_ids == ["o-new-food"]
    row = Outbox(engine.store.db).get(notification_key(saved.id, "2030-01-10"))
    assert row.recipient == "a@example.org" and "o-new-food" in row.body
    assert Outbox(engine.store.db).counts()["queued"] == 1


def test_at_most_one_alert_a_day_then_merged(engine: Engine) -> None:
    clock = Clock()
    saved = food_saved(engine)
    w = worker(engine, clock)
    engine.create_organisation(new_food("o-new-1"))
    assert len(w.run_once().alerts) == 1
    clock.now += timedelta(hours=3)
    engine.create_organisation(
        org("o-new-2", "food", description=FOOD_NEED + " Groceries, hot meals, every day.")
    )
    report = w.run_once()
    assert not report.alerts and report.pending == 1
    assert SavedNeeds(engine.store.db).get(saved.id).pending == ["o-new-2"]
    assert w.run_once().alerts == []  # still the same day
    clock.now += timedelta(days=1)
    report = w.run_once()  # the pending entrant is named in the next day's alert
    assert [a.organisation_ids for a in report.alerts] == [["o-new-2"]]
    alerts, total = SavedNeeds(engine.store.db).alerts("key-a")
    assert total == 2 and {a.day for a in alerts} == {"2030-01-10", "2030-01-11"}
    assert Outbox(engine.store.db).counts()["queued"] == 2
    assert SavedNeeds(engine.store.db).get(saved.id).pending == []


def test_cursor_survives_restart_no_duplicate(engine: Engine) -> None:
    clock = Clock()
    food_saved(engine)
    engine.create_organisation(new_food("o-new-1"))
    assert len(worker(engine, clock).run_once().alerts) == 1
    clock.now += timedelta(days=2)
    fresh = worker(engine, clock)  # a restarted worker: the cursor is in the database
    report = fresh.run_once()
    assert report.changes == 0 and not report.alerts
    assert SavedNeeds(engine.store.db).alerts("key-a")[1] == 1
    assert Outbox(engine.store.db).counts()["queued"] == 1


def test_died_before_cursor_moved_queues_outbox_once(engine: Engine) -> None:
    """A pass that wrote the alert and then died before saving the cursor: the change is read
    again, but neither the alert nor the outbox row is written twice."""
    clock = Clock()
    saved = food_saved(engine)
    engine.create_organisation(new_food("o-new-1"))
    w = worker(engine, clock)
    seq, done = w.saved.cursor(w.name)
    assert w.saved.changes_after(seq)[0].organisation_id == "o-new-1"
    w.run_once()
    w.saved.save_cursor(w.name, seq, done)  # as if the cursor had never been saved
    again = worker(engine, clock).run_once()
    assert again.changes == 1 and not again.alerts
    assert SavedNeeds(engine.store.db).alerts("key-a")[1] == 1
    outbox = Outbox(engine.store.db)
    assert outbox.counts()["queued"] == 1
    assert outbox.get(notification_key(saved.id, "2030-01-10")).attempts == 0


def test_changed_organisation_alerts_and_filters_apply(engine: Engine) -> None:
    clock = Clock()
    saved = food_saved(engine)
    only_business, _ = save_need(
        engine,
        Need(text=FOOD_NEED),
        filters=Filters(sectors=["business"]),  # type: ignore[list-item]
        limit=2,
        owner="key-a",
    )
    w = worker(engine, clock)
    w.run_once()
    # an unrelated organisation rewrites its profile into a food bank: it changed, not created
    engine.update_organisation("o-jobs-0", {"description": TOPICS["food"] + " " + FOOD_NEED})
    report = w.run_once()
    assert [a.saved_need_id for a in report.alerts] == [saved.id]  # not the business-only one
    assert SavedNeeds(engine.store.db).alerts("key-a", saved_need_id=only_business.id)[1] == 0


def test_ingest_is_followed_and_no_notify_address_means_inbox_only(engine: Engine) -> None:
    clock = Clock()
    saved = food_saved(engine, notify_to=None)
    w = worker(engine, clock)
    engine.ingest([new_food("o-bulk-1")])
    report = w.run_once()
    assert [a.saved_need_id for a in report.alerts] == [saved.id]
    assert report.alerts[0].notification_key is None
    assert Outbox(engine.store.db).counts()["queued"] == 0


def test_rerun_uses_saved_filters(engine: Engine) -> None:
    saved, _ = save_need(
        engine,
        Need(text=FOOD_NEED),
        filters=Filters(sectors=["business"]),  # type: ignore[list-item]
        limit=3,
        owner="key-a",
    )
    stored = SavedNeeds(engine.store.db).get(saved.id)
    rec = rerun(engine, stored)
    assert rec.results and {m.sector for m in rec.results} == {"business"}


def test_matrix_follows_saved_needs_added_and_deleted(engine: Engine) -> None:
    clock = Clock()
    w = worker(engine, clock)
    first = food_saved(engine)
    w.run_once()
    assert w.matrix.ids == [first.id]
    second = food_saved(engine, owner="key-b")
    w.run_once()  # appended, not reloaded
    assert w.matrix.ids == [first.id, second.id]
    SavedNeeds(engine.store.db).delete(first.id)
    w.run_once()
    assert w.matrix.ids == [second.id]
    engine.create_organisation(new_food("o-new-1"))
    assert [a.saved_need_id for a in w.run_once().alerts] == [second.id]


def test_a_change_committed_out_of_order_is_not_skipped(engine: Engine) -> None:
    """On PostgreSQL a transaction can take seq n and commit after one that took n + 1: the
    cursor waits at the gap (for `gap_seconds`) and the late change is still read."""
    food_saved(engine)
    w = AlertWorker(engine, gap_seconds=3600)  # real clock: the gap is young
    w.run_once()
    start, _ = w.saved.cursor(w.name)
    late = engine.create_organisation(new_food("o-late"))
    early = engine.create_organisation(
        org("o-early", "youth", description=TOPICS["youth"] + " Friday nights.")
    )
    with engine.store.db.session() as s:  # as if o-late's transaction had not committed yet
        row = s.get(OrganisationChangeRow, start + 1)
        assert row is not None and row.organisation_id == "o-late"
        s.delete(row)
    report = w.run_once()
    assert report.changes == 1 and not report.alerts
    assert w.saved.cursor(w.name) == (start, {start + 2})  # waits at the gap
    with engine.store.db.session() as s:  # o-late's transaction commits
        s.add(
            OrganisationChangeRow(
                seq=start + 1,
                organisation_pk=late.pk,
                organisation_id="o-late",
                version=1,
                changed_at=utcnow(),
            )
        )
    report = w.run_once()
    assert report.changes == 1 and [a.organisation_ids for a in report.alerts] == [["o-late"]]
    assert w.saved.cursor(w.name) == (start + 2, set())
    assert early.record.id == "o-early"


def test_a_gap_that_never_fills_is_given_up(engine: Engine) -> None:
    clock = Clock()  # far after the changes were written: every gap is old
    w = worker(engine, clock)
    food_saved(engine)
    w.run_once()
    start, _ = w.saved.cursor(w.name)
    engine.create_organisation(new_food("o-rolled-back"))
    engine.create_organisation(org("o-after", "youth"))
    with engine.store.db.session() as s:  # a rolled-back transaction's seq
        s.delete(s.get(OrganisationChangeRow, start + 1))
    w.run_once()
    assert w.saved.cursor(w.name) == (start + 2, set())
