"""A data directory made before saved needs had signing secrets (`saved_needs.webhook_secret`)
opens: the column is added in place, the old saved needs are kept, and a webhook URL saved then
gets a secret at its first send (one, however many dispatchers ask at once), which its owner
replaces to learn one. SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select, update

from matcher.alerts.signing import SavedNeedSecrets
from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.alerts.writes import message_of, notification_key
from matcher.domain import Need
from matcher.errors import ValidationError
from matcher.notify import Dispatcher, Outbox, create_notifier
from matcher.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.models import SavedNeedRow
from tests.notify.conftest import WebhookServer
from tests.support_databases import pg_schema_url
from tests.support_threads import together


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg_schema_url("sns") as pg_url:
        yield pg_url


@pytest.fixture
def receiver() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


def _columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("saved_needs")}


def _save(db: Database, notify_to: str, text: str) -> SavedNeed:
    return SavedNeeds(db).create(
        Need(id=f"n-{text[:4]}", text=text),
        None,
        3,
        [],
        owner="key_old",
        notify_to=notify_to,
        model="m",
        vector=np.ones(4, dtype=np.float32),
    )


def _old_data_dir(url: str, hook: str) -> tuple[str, str]:
    """A database as the code before `webhook_secret` made it: a saved need alerting a
    webhook URL and one alerting an e-mail address (ids returned)."""
    db = Database(url)
    db.create_all()
    hooked, mailed = _save(db, hook, "Fresh food"), _save(db, "group@example.org", "Coats")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE saved_needs DROP COLUMN webhook_secret")
    assert "webhook_secret" not in _columns(db)
    db.dispose()
    return hooked.id, mailed.id


def _stored_secret(db: Database, saved_id: str) -> str | None:
    with db.session() as s:
        q = select(SavedNeedRow.webhook_secret).where(SavedNeedRow.id == saved_id)
        return s.scalar(q)


def test_an_old_data_dir_gains_the_column_and_its_webhook_gets_a_secret_at_first_send(
    url: str, receiver: WebhookServer
) -> None:
    hooked_id, mailed_id = _old_data_dir(url, receiver.url)

    db = Database(url)
    db.create_all()
    assert "webhook_secret" in _columns(db)
    store = SavedNeeds(db)
    hooked, mailed = store.get(hooked_id), store.get(mailed_id)
    assert (hooked.notify_to, mailed.notify_to) == (receiver.url, "group@example.org")
    assert _stored_secret(db, hooked_id) is None and hooked.new_webhook_secret is None

    outbox = Outbox(db)
    first = message_of(hooked, ["org-a"], {}, notification_key(hooked_id, "2030-01-01"))
    outbox.enqueue(first)
    settings = Settings(notify_url="smtp://127.0.0.1:9", webhook_allowed_hosts=["127.0.0.1/32"])
    notifier = create_notifier(settings, db)
    assert Dispatcher(outbox, notifier).run_once().sent == [first.key]
    made = _stored_secret(db, hooked_id)
    assert made is not None and made.startswith("whsec_")
    ((headers, body),) = receiver.requests
    assert verify_signature(made, body, headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER])

    # its owner replaces it to learn one (shown once); the next alert is signed with the new one
    rotated = store.rotate_secret(hooked_id)
    assert rotated.new_webhook_secret is not None and rotated.new_webhook_secret != made
    assert store.get(hooked_id).new_webhook_secret is None  # never read back
    assert rotated.new_webhook_secret not in repr(rotated)
    second = message_of(hooked, ["org-b"], {}, notification_key(hooked_id, "2030-01-02"))
    outbox.enqueue(second)
    assert Dispatcher(outbox, notifier).run_once().sent == [second.key]
    headers, body = receiver.requests[1]
    assert json.loads(body)["key"] == second.key
    sig, ts = headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]
    assert verify_signature(rotated.new_webhook_secret, body, sig, ts)
    assert not verify_signature(made, body, sig, ts)
    with pytest.raises(ValidationError, match="no signing secret"):
        store.rotate_secret(mailed_id)  # an e-mail address
    assert notifier is not None
    notifier.close()
    db.dispose()


def test_dispatchers_racing_on_an_old_row_sign_with_one_secret(
    url: str, receiver: WebhookServer
) -> None:
    hooked_id, _ = _old_data_dir(url, receiver.url)
    db = Database(url)
    db.create_all()
    hooked = SavedNeeds(db).get(hooked_id)
    message = message_of(hooked, ["org-a"], {}, notification_key(hooked_id, "2030-01-01"))
    lookups = [SavedNeedSecrets(db) for _ in range(6)]
    for _ in range(4):  # a few rounds: the row without a secret again each time
        with db.session() as s:
            s.execute(update(SavedNeedRow).values(webhook_secret=None))
        got = together(6, lambda i: lookups[i].secret_for(message))
        assert all(isinstance(g, str) for g in got), got
        assert len(set(got)) == 1 and got[0] == _stored_secret(db, hooked_id)
    db.dispose()
