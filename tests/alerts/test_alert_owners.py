"""Saved needs of people: the `person:<id>` owner (never a key's), their e-mail filled in when
they confirm it (only their own needs without an address), and the alert e-mailed there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from matcher.accounts import Person
from matcher.alerts import AlertWorker, SavedNeeds, notification_key
from matcher.alerts.owners import (
    OWNER_MAX,
    address_on_confirm,
    default_address,
    person_address,
    person_owner,
)
from matcher.alerts.service import save_need
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.errors import ValidationError
from matcher.notify.outbox import Outbox
from matcher.settings import Settings
from matcher.store.db import Database

FOOD = "Food bank distributing groceries and hot meals to hungry families."
NEED = "Hungry families need groceries and hot meals from a food bank."
NOW = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)


def org(i: str, description: str) -> Organisation:
    return Organisation(id=i, name=f"Org {i}", sector="nonprofit", description=description)


def person(pid: str, verified: bool) -> Person:
    return Person(pid, f"{pid}@example.org", "", verified, NOW)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"), load=False)
    eng.store.upsert_organisations(
        [org("o-food", FOOD), org("o-soft", "Enterprise software consultancy for banks.")]
    )
    eng.build()
    yield eng
    eng.close()


def test_person_owner_is_prefixed_and_bounded() -> None:
    assert person_owner("person_0123456789ab") == "person:person_0123456789ab"
    assert len(person_owner("p" * (OWNER_MAX - len("person:")))) == OWNER_MAX
    for bad in ("", "p" * (OWNER_MAX - len("person:") + 1)):
        with pytest.raises(ValidationError):
            person_owner(bad)


def test_a_person_may_send_alerts_to_a_webhook_or_their_own_e_mail_only() -> None:
    ana, unconfirmed = person("ana", True), person("bo", False)
    assert person_address(ana, None) == person_address(ana, " ") == "ana@example.org"
    assert person_address(ana, "ANA@Example.ORG") == "ana@example.org"
    hook = "https://hooks.example.net/alerts?x=1"
    assert person_address(ana, hook) == person_address(unconfirmed, hook) == hook
    assert person_address(ana, "HTTP://hooks.example.net/a") == "HTTP://hooks.example.net/a"
    # their own address before it is confirmed: none yet (filled in when they confirm)
    assert person_address(unconfirmed, "bo@example.org") is None
    for other in ("victim@example.org", "ana@example.org.evil.net", "ana@example.com"):
        for who in (ana, unconfirmed):
            with pytest.raises(ValidationError) as err:
                person_address(who, other)
            message = str(err.value)
            assert f"your own e-mail address ({who.email})" in message
            assert "leave the field empty" in message and "API key" in message


def test_default_address_is_the_confirmed_e_mail_only() -> None:
    assert default_address(person("ana", True)) == "ana@example.org"
    assert default_address(person("ana", False)) is None


def test_confirming_fills_only_own_needs_without_an_address(engine: Engine) -> None:
    db: Database = engine.store.db
    ana, bo = person_owner("ana"), person_owner("bo")
    waiting = save_need(engine, Need(text=NEED), limit=1, owner=ana)[0]
    typed = save_need(engine, Need(text=NEED), limit=1, owner=ana, notify_to="x@example.net")[0]
    other = save_need(engine, Need(text=NEED), limit=1, owner=bo)[0]
    keyed = save_need(engine, Need(text=NEED), limit=1, owner="key_ana")[0]
    hook = address_on_confirm(db)
    hook(person("ana", False))  # not confirmed: nothing
    assert SavedNeeds(db).get(waiting.id).notify_to is None
    hook(person("ana", True))
    store = SavedNeeds(db)
    assert store.get(waiting.id).notify_to == "ana@example.org"
    assert store.get(typed.id).notify_to == "x@example.net"
    assert store.get(other.id).notify_to is None and store.get(keyed.id).notify_to is None


def test_a_persons_alert_is_e_mailed_to_them(engine: Engine) -> None:
    db = engine.store.db
    saved, _ = save_need(
        engine,
        Need(text=NEED),
        limit=1,
        owner=person_owner("ana"),
        notify_to=default_address(person("ana", True)),
        recommendation_id="rec_0123",
    )
    assert SavedNeeds(db).get(saved.id).recommendation_id == "rec_0123"
    worker = AlertWorker(engine, Outbox(db, clock=lambda: NOW), clock=lambda: NOW)
    worker.run_once()
    engine.create_organisation(org("o-new", NEED + " We deliver groceries and hot meals."))
    assert [a.saved_need_id for a in worker.run_once().alerts] == [saved.id]
    row = Outbox(db).get(notification_key(saved.id, "2030-01-10"))
    assert row.recipient == "ana@example.org" and "o-new" in row.body
    assert SavedNeeds(db).alerts(person_owner("ana"))[1] == 1
