"""The outbox and its dispatcher against a real local SMTP server, on SQLite and PostgreSQL:
queued once per event, sent once however many dispatchers run, never lost while the server is
down, retried with growing delays."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from matcher.errors import ValidationError
from matcher.notify import Dispatcher, Message, Outbox, RetryPolicy
from matcher.notify.smtp import SmtpNotifier
from matcher.store import Database
from tests.notify.conftest import BUSY, REFUSED, Clock, SmtpServer
from tests.support_threads import together

POLICY = RetryPolicy(base_seconds=30, factor=2, max_seconds=3600, jitter=0.25)


def msg(i: int | str, to: str = "team@example.org") -> Message:
    return Message(to, f"Introduction {i}", f"Body of {i}\n", f"intro:{i}:requested")


def dispatcher(outbox: Outbox, server: SmtpServer, **kw: object) -> Dispatcher:
    return Dispatcher(outbox, SmtpNotifier.from_url(server.url, timeout=5), POLICY, **kw)  # type: ignore[arg-type]


def keys(server: SmtpServer) -> list[str]:
    return sorted(str(m["X-Matcher-Notification-Key"]) for m in server.received())


def test_enqueue_is_idempotent(db: Database) -> None:
    outbox = Outbox(db)
    first, created = outbox.enqueue(msg(1))
    assert created and first.status == "queued" and first.attempts == 0
    again, created = outbox.enqueue(Message("other@example.org", "changed", "x", first.key))
    assert not created and again == first  # the event's first message is kept
    assert outbox.counts() == {"queued": 1, "sending": 0, "sent": 0, "dead": 0}


def test_concurrent_enqueue_of_one_event_writes_one_row(db: Database) -> None:
    outbox = Outbox(db)
    results = together(8, lambda i: outbox.enqueue(msg("same")))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert len(outbox.rows()) == 1


def test_sent_once_when_the_dispatcher_runs_twice(db: Database, smtp_server: SmtpServer) -> None:
    outbox = Outbox(db)
    for i in range(3):
        outbox.enqueue(msg(i))
    d = dispatcher(outbox, smtp_server)
    assert sorted(d.run_once().sent) == [f"intro:{i}:requested" for i in range(3)]
    assert d.run_once().sent == []
    assert dispatcher(outbox, smtp_server).run_once().sent == []  # nor by another one
    assert keys(smtp_server) == [f"intro:{i}:requested" for i in range(3)]
    row = outbox.get("intro:0:requested")
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None


def test_racing_dispatchers_send_each_message_once(db: Database, smtp_server: SmtpServer) -> None:
    outbox = Outbox(db)
    n = 24
    for i in range(n):
        outbox.enqueue(msg(i))
    reports = together(4, lambda i: dispatcher(outbox, smtp_server).run_once())
    assert not [r for r in reports if isinstance(r, Exception)], reports
    sent = [k for r in reports for k in r.sent]
    assert len(sent) == n and len(set(sent)) == n
    assert keys(smtp_server) == sorted(f"intro:{i}:requested" for i in range(n))
    assert outbox.counts() == {"queued": 0, "sending": 0, "sent": n, "dead": 0}


def test_server_down_keeps_messages_queued_until_it_is_back(db: Database) -> None:
    clock = Clock()
    outbox = Outbox(db, clock=clock)
    server = SmtpServer()  # its port is chosen, nothing listens yet
    for i in range(3):
        outbox.enqueue(msg(i))
        clock.advance(1)
    d = dispatcher(outbox, server, rng=random.Random(1))

    report = d.run_once()
    assert report.sent == [] and report.stopped and "Connection refused" in report.stopped
    assert list(report.failed) == ["intro:0:requested"]  # stopped after the first: server down
    row = outbox.get("intro:0:requested")
    assert row.status == "queued" and row.attempts == 1
    assert row.last_error and "Connection refused" in row.last_error
    assert 22.5 <= (row.next_attempt_at - clock()).total_seconds() <= 37.5  # 30 s +/- 25 %
    assert outbox.get("intro:1:requested").attempts == 0  # not tried, still queued

    server.start()
    try:
        report = d.run_once()  # intro:0 is not due yet; the others are
        assert sorted(report.sent) == ["intro:1:requested", "intro:2:requested"]
        assert outbox.get("intro:0:requested").status == "queued"
        clock.advance(40)
        assert d.run_once().sent == ["intro:0:requested"]
        assert keys(server) == [f"intro:{i}:requested" for i in range(3)]
        row = outbox.get("intro:0:requested")
        assert (row.status, row.attempts) == ("sent", 2)
        assert row.last_error and "Connection refused" in row.last_error  # history kept
        assert d.run_once().sent == []
        assert len(server.received()) == 3
    finally:
        server.stop()


def test_a_refused_message_does_not_stop_the_others(db: Database, smtp_server: SmtpServer) -> None:
    outbox = Outbox(db)
    outbox.enqueue(msg("bad", to=REFUSED))
    outbox.enqueue(msg("good"))
    report = dispatcher(outbox, smtp_server).run_once()
    assert report.sent == ["intro:good:requested"] and report.stopped is None
    assert "550" in report.failed["intro:bad:requested"]
    bad = outbox.get("intro:bad:requested")
    # 550 is permanent (RFC 5321): set aside as dead at once, with the reason, not retried
    assert bad.status == "dead" and bad.attempts == 1 and "550" in (bad.last_error or "")
    assert report.dead == ["intro:bad:requested"]


def test_a_message_refused_again_and_again_is_dead_after_max_attempts_then_requeued(
    db: Database, smtp_server: SmtpServer
) -> None:
    """450 (busy) is temporary: retried with backoff, and set aside as dead after the 3rd
    refusal; dead messages are never claimed; `requeue` queues it again from attempt 0."""
    clock = Clock()
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(msg("busy", to=BUSY))
    d = dispatcher(outbox, smtp_server, max_attempts=3)
    states = []
    for _ in range(4):
        d.run_once()
        row = outbox.get("intro:busy:requested")
        states.append((row.status, row.attempts))
        clock.now = max(clock.now, row.next_attempt_at)
    assert states == [("queued", 1), ("queued", 2), ("dead", 3), ("dead", 3)]
    assert outbox.counts()["dead"] == 1 and "450" in (row.last_error or "")
    assert outbox.requeue(["nope"]) == 0 and outbox.requeue() == 1
    again = outbox.get("intro:busy:requested")
    assert (again.status, again.attempts) == ("queued", 0)


def test_an_unreachable_server_never_makes_a_message_dead(db: Database) -> None:
    clock = Clock()
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(msg(1))
    d = dispatcher(outbox, SmtpServer(), max_attempts=2)  # nothing listens
    for _ in range(5):
        d.run_once()
        clock.now = outbox.get("intro:1:requested").next_attempt_at
    row = outbox.get("intro:1:requested")
    assert row.status == "queued" and row.attempts == 5


def test_retry_delays_grow_in_the_table(db: Database) -> None:
    clock = Clock()
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(msg(1))
    d = dispatcher(outbox, SmtpServer(), rng=random.Random(7))  # nothing listens
    delays = []
    for _ in range(8):
        d.run_once()
        row = outbox.get("intro:1:requested")
        delays.append((row.next_attempt_at - clock()).total_seconds())
        clock.now = row.next_attempt_at
    assert outbox.get("intro:1:requested").attempts == 8
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False)), delays
    assert 22.5 <= delays[0] <= 37.5 and 30 * 2**7 * 0.75 <= delays[7] <= 30 * 2**7 * 1.25


def test_backoff_schedule_grows_then_caps_with_bounded_jitter() -> None:
    for seed in range(50):
        rng = random.Random(seed)
        delays = [POLICY.delay(n, rng) for n in range(1, 12)]
        raw = [min(3600.0, 30.0 * 2 ** (n - 1)) for n in range(1, 12)]
        assert all(r * 0.75 <= d <= r * 1.25 for d, r in zip(delays, raw, strict=True))
        uncapped = [d for d, r in zip(delays, raw, strict=True) if r < 3600]
        assert all(b > a for a, b in zip(uncapped, uncapped[1:], strict=False))
    exact = RetryPolicy(base_seconds=10, factor=3, max_seconds=200, jitter=0)
    assert [exact.delay(n) for n in range(1, 6)] == [10, 30, 90, 200, 200]
    assert exact.delay(10_000) == 200  # no overflow after very many attempts


def test_a_dispatcher_that_died_after_claiming_is_replaced_after_the_lease(
    db: Database, smtp_server: SmtpServer
) -> None:
    """The documented at-least-once window: a claim never marked (the process died, maybe after
    sending) is claimed again after the lease; both copies carry the same Message-ID."""
    clock = Clock()
    outbox = Outbox(db, clock=clock)
    outbox.enqueue(msg(1))
    lease = timedelta(seconds=300)
    (pk,) = outbox.due(lease, 10)
    claim = outbox.claim(pk, lease)
    assert claim is not None and outbox.claim(pk, lease) is None  # held
    SmtpNotifier.from_url(smtp_server.url).send(claim.message)  # ... and the process dies here
    d = dispatcher(outbox, smtp_server, lease_seconds=300)
    assert d.run_once().sent == []  # within the lease: not sent again
    clock.advance(301)
    assert d.run_once().sent == ["intro:1:requested"]
    first, second = smtp_server.received()
    assert first["Message-ID"] == second["Message-ID"]  # the receiver can drop the copy
    assert not outbox.mark_sent(claim)  # the dead dispatcher's claim is void
    assert outbox.get("intro:1:requested").attempts == 2


def test_without_a_notifier_messages_stay_queued(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(db)
    outbox.enqueue(msg(1))
    with caplog.at_level(logging.WARNING):
        report = Dispatcher(outbox, None).run_once()
    assert report.no_notifier and report.sent == []
    assert "1 notification(s) queued; no notifier configured" in caplog.text
    assert outbox.get("intro:1:requested").attempts == 0


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"subject": "Hi\r\nBcc: all@example.org"}, "subject", "one line"),
        ({"recipient": "a@example.org\nb@example.org"}, "recipient", "one line"),
        ({"key": ""}, "key", "must not be empty"),
        ({"key": "k" * 201}, "key", "over 200"),
        ({"body": "bell\x07"}, "body", "control characters"),
        ({"body": "x" * 100_001}, "body", "over 100000"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(
    fields: dict[str, str], field: str, problem: str
) -> None:
    base = {"recipient": "a@example.org", "subject": "s", "body": "line\n\ttabbed\r\n", "key": "k"}
    with pytest.raises(ValidationError, match=problem) as info:
        Message(**{**base, **fields})
    assert info.value.field == field
    Message(**base)  # tabs and line breaks are fine in a body
