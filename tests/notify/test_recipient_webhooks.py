"""Delivery by recipient: a saved need's alert to a webhook URL is POSTed to that URL, signed
with the saved need's own secret; an e-mail one goes to the configured notifier (SMTP, or the
operator's webhook, which relays it). Real local servers; names resolved by a fake resolver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from matcher.alerts.signing import SavedNeedSecrets
from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.alerts.writes import message_of, notification_key
from matcher.cli import main
from matcher.domain import Need
from matcher.errors import DeliveryError
from matcher.notify import Dispatcher, Message, Outbox, RetryPolicy, create_notifier
from matcher.notify.routing import RoutingNotifier
from matcher.notify.smtp import SmtpNotifier
from matcher.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from matcher.settings import Settings
from matcher.store import Database
from tests.notify.conftest import Clock, SmtpServer, WebhookServer, free_port
from tests.support_resolver import fake_resolver

OPERATOR_SECRET = "whsec-operator-test-only"
LOCAL = ["127.0.0.1/32"]  # the test receivers listen there: allowed as an operator would
DAY = "2030-01-01"
POLICY = RetryPolicy(base_seconds=30, factor=2, max_seconds=3600, jitter=0)


def save(db: Database, notify_to: str | None, text: str = "Fresh food for elders") -> SavedNeed:
    return SavedNeeds(db).create(
        Need(id=f"n-{text[:5]}", text=text),
        None,
        3,
        [],
        owner="key_test",
        notify_to=notify_to,
        model="m",
        vector=np.ones(4, dtype=np.float32),
    )


def alert(saved: SavedNeed, day: str = DAY) -> Message:
    return message_of(
        saved, ["org-a"], {"org-a": "Cold Chain Grocers"}, notification_key(saved.id, day)
    )


def settings(notify_url: str, **extra: object) -> Settings:
    return Settings(
        notify_url=notify_url,
        notify_timeout_seconds=5,
        webhook_allowed_hosts=LOCAL,
        **extra,  # type: ignore[arg-type]
    )


def posted(server: WebhookServer) -> list[tuple[dict[str, str], bytes, dict[str, str]]]:
    return [(h, body, json.loads(body)) for h, body in server.requests]


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    return verify_signature(secret, body, headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER])


@pytest.fixture
def receiver() -> Iterator[WebhookServer]:
    """A saved need's own receiver (not the operator's)."""
    server = WebhookServer().start()
    yield server
    server.stop()


def test_notify_run_posts_a_saved_needs_alert_to_its_url_signed_with_its_own_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    smtp_server: SmtpServer,
    receiver: WebhookServer,
) -> None:
    """`matcher notify run` as an operator runs it (SMTP configured): the webhook alert is
    POSTed to the saved need's URL, the e-mail alert goes by SMTP; neither is dead."""
    db = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
    db.create_all()
    hooked = save(db, receiver.url, "Fresh food for elders")
    mailed = save(db, "group@example.org", "Warm coats for winter")
    outbox = Outbox(db)
    outbox.enqueue(alert(hooked))
    outbox.enqueue(alert(mailed))
    db.dispose()

    monkeypatch.setenv("MATCHER_NOTIFY_URL", smtp_server.url)
    monkeypatch.setenv("MATCHER_WEBHOOK_ALLOWED_HOSTS", json.dumps(LOCAL))
    assert main(["--data-dir", str(tmp_path), "notify", "run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["sent"]) == sorted([alert(hooked).key, alert(mailed).key])
    assert report["dead"] == [] and report["failed"] == {}

    ((headers, body, doc),) = posted(receiver)
    assert doc == {
        "key": alert(hooked).key,
        "recipient": receiver.url,
        "subject": alert(hooked).subject,
        "body": alert(hooked).body,
    }
    assert headers["Idempotency-Key"] == alert(hooked).key
    assert headers["Content-Type"] == "application/json"
    assert hooked.new_webhook_secret and hooked.new_webhook_secret.startswith("whsec_")
    assert signed_by(hooked.new_webhook_secret, headers, body)
    assert not signed_by("whsec_someone-else", headers, body)
    (mail,) = smtp_server.received()
    assert mail["X-Envelope-To"] == "group@example.org"
    assert mail["X-Matcher-Notification-Key"] == alert(mailed).key
    assert mailed.new_webhook_secret is None  # an e-mail address has no secret


def test_with_an_operator_webhook_email_is_relayed_and_urls_are_posted_to(
    db: Database, webhook_server: WebhookServer, receiver: WebhookServer
) -> None:
    """MATCHER_NOTIFY_URL a webhook: an e-mail recipient goes to the operator's receiver,
    signed with the operator's secret, as before; a saved need's URL is POSTed to directly,
    signed with its own secret, and the operator's receiver never sees it."""
    hooked, mailed = save(db, receiver.url, "Fresh food"), save(db, "g@example.org", "Coats")
    outbox = Outbox(db)
    outbox.enqueue(alert(hooked))
    outbox.enqueue(alert(mailed))
    notifier = create_notifier(
        settings(webhook_server.url, notify_webhook_secret=OPERATOR_SECRET), db
    )
    assert isinstance(notifier, RoutingNotifier) and notifier.kind == "webhook"
    report = Dispatcher(outbox, notifier, POLICY).run_once()
    notifier.close()
    assert len(report.sent) == 2 and report.failed == {}
    ((oh, obody, odoc),) = posted(webhook_server)
    assert odoc["recipient"] == "g@example.org" and signed_by(OPERATOR_SECRET, oh, obody)
    ((h, body, doc),) = posted(receiver)
    assert doc["recipient"] == receiver.url
    assert hooked.new_webhook_secret is not None
    assert signed_by(hooked.new_webhook_secret, h, body)
    assert not signed_by(OPERATOR_SECRET, h, body)


def test_an_internal_url_is_refused_at_send_and_set_aside_with_why(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,
    receiver: WebhookServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Public when saved, private when sent (or saved before the check): dead at once, with
    why, nothing POSTed; the URL's path (often its credential) is not in the error or log."""
    answers = {"hooks.example.org": ["93.184.215.14"]}
    fake_resolver(monkeypatch, answers)
    url = f"http://hooks.example.org:{receiver.port}/T0KEN/path"
    saved = save(db, url)
    answers["hooks.example.org"] = ["10.0.0.5"]
    outbox = Outbox(db)
    outbox.enqueue(alert(saved))
    notifier = create_notifier(settings(smtp_server.url), db)
    assert notifier is not None
    report = Dispatcher(outbox, notifier, POLICY).run_once()
    assert report.dead == [alert(saved).key]
    (row,) = outbox.rows()
    assert row.status == "dead" and row.attempts == 1
    assert row.last_error is not None and "resolves to 10.0.0.5, a private" in row.last_error
    assert "MATCHER_WEBHOOK_ALLOWED_HOSTS" in row.last_error  # the operator reads it: how to allow
    assert "T0KEN" not in row.last_error and "T0KEN" not in caplog.text
    assert f"refused to send {alert(saved).key!r}" in caplog.text
    assert receiver.requests == [] and smtp_server.received() == []


@pytest.mark.parametrize(
    ("code", "status"),
    [(400, "dead"), (404, "dead"), (410, "dead"), (422, "dead")]
    + [(408, "queued"), (429, "queued"), (500, "queued"), (502, "queued"), (503, "queued")],
)
def test_4xx_is_permanent_5xx_and_408_429_are_retried(
    db: Database, smtp_server: SmtpServer, receiver: WebhookServer, code: int, status: str
) -> None:
    """A 4xx (but 408, 425, 429) will be answered again: dead at once. A 5xx is retried after
    the outbox's backoff; it is this receiver's trouble, so the run goes on to the next
    message (an e-mail here) instead of stopping as it does when the notifier is down."""
    clock = Clock()
    saved = save(db, receiver.url)
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(alert(saved))
    clock.advance(1)
    outbox.enqueue(Message("later@example.org", "s", "b", "intro:1:requested"))
    receiver.statuses = [code]
    notifier = create_notifier(settings(smtp_server.url), db)
    dispatcher = Dispatcher(outbox, notifier, POLICY, max_attempts=3)
    report = dispatcher.run_once()
    assert report.stopped is None and report.sent == ["intro:1:requested"]
    row = outbox.get(alert(saved).key)
    assert (row.status, row.attempts) == (status, 1)
    assert row.last_error is not None and f"answered {code}" in row.last_error
    if status == "dead":
        assert report.dead == [row.key]
        clock.advance(7200)
        assert dispatcher.run_once().sent == []  # not tried again
        assert len(receiver.requests) == 1
        return
    assert row.next_attempt_at == clock() + timedelta(seconds=30)
    assert dispatcher.run_once().sent == []  # not due yet
    clock.advance(30)
    assert dispatcher.run_once().sent == [row.key]  # the receiver answers 200 now
    assert len(receiver.requests) == 2
    # the same event, the same Idempotency-Key: the receiver can drop a copy
    assert receiver.requests[0][0]["Idempotency-Key"] == receiver.requests[1][0]["Idempotency-Key"]


def test_a_receiver_that_is_down_is_retried_then_set_aside(
    db: Database, smtp_server: SmtpServer
) -> None:
    """Nobody listens: retried with the backoff (not a transport stop: the operator's
    notifier is fine), dead after NOTIFY_MAX_ATTEMPTS tries."""
    clock = Clock()
    saved = save(db, f"http://127.0.0.1:{free_port()}/hook")
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(alert(saved))
    notifier = create_notifier(settings(smtp_server.url), db)
    dispatcher = Dispatcher(outbox, notifier, POLICY, max_attempts=3)
    for attempt in (1, 2, 3):
        report = dispatcher.run_once()
        assert report.stopped is None and list(report.failed) == [alert(saved).key]
        row = outbox.get(alert(saved).key)
        assert row.attempts == attempt and "ConnectError" in (row.last_error or "")
        clock.advance(3600)
    assert row.status == "dead"


def test_a_url_message_that_is_no_saved_needs_alert_is_refused(
    db: Database, smtp_server: SmtpServer, receiver: WebhookServer
) -> None:
    """Only a saved need's alert has a secret to sign with: a URL queued by hand
    (`matcher notify send --to https://...`), a deleted saved need's alert, or one whose key
    names another saved need is set aside, never sent unsigned or signed with another's."""
    saved, other = save(db, receiver.url, "Fresh food"), save(db, "x@example.org", "Coats")
    outbox = Outbox(db)
    by_hand = Message(receiver.url, "s", "b", "ops:1")
    forged = Message(receiver.url, "s", "b", notification_key(other.id, DAY))
    outbox.enqueue(by_hand)
    outbox.enqueue(forged)
    outbox.enqueue(alert(saved))
    SavedNeeds(db).delete(saved.id)
    notifier = create_notifier(settings(smtp_server.url), db)
    report = Dispatcher(outbox, notifier, POLICY).run_once()
    assert sorted(report.dead) == sorted([by_hand.key, forged.key, alert(saved).key])
    errors = {r.key: r.last_error or "" for r in outbox.rows()}
    assert "only a saved need's alerts" in errors[by_hand.key]
    assert "no longer alerts this address" in errors[forged.key]
    assert "was deleted" in errors[alert(saved).key]
    assert receiver.requests == []


def test_without_the_database_url_recipients_are_refused_not_misrouted(
    smtp_server: SmtpServer, receiver: WebhookServer
) -> None:
    notifier = create_notifier(settings(smtp_server.url))
    assert isinstance(notifier, RoutingNotifier) and isinstance(notifier.configured, SmtpNotifier)
    with pytest.raises(DeliveryError, match="no signing secrets") as info:
        notifier.send(Message(receiver.url, "s", "b", "saved-need:sn_1:2030-01-01"))
    assert info.value.permanent
    assert receiver.requests == [] and smtp_server.received() == []


def test_a_redirect_is_not_followed(
    db: Database, smtp_server: SmtpServer, receiver: WebhookServer
) -> None:
    saved = save(db, receiver.url)
    receiver.statuses = [307]
    notifier = create_notifier(settings(smtp_server.url), db)
    assert notifier is not None
    with pytest.raises(DeliveryError, match="answered 307") as info:
        notifier.send(alert(saved))
    assert not info.value.permanent and len(receiver.requests) == 1


def test_a_database_that_cannot_be_read_holds_the_message_back_not_dead(tmp_path: Path) -> None:
    """The secrets' table unreadable is the service's trouble: a transport error (the run
    stops, the message stays queued however long), never a dead letter."""
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    message = Message("https://hooks.example.org/x", "s", "b", "saved-need:sn_1:2030-01-01")
    with pytest.raises(DeliveryError, match="signing secrets") as info:
        SavedNeedSecrets(empty).secret_for(message)
    assert info.value.transport and not info.value.permanent
    empty.dispose()
