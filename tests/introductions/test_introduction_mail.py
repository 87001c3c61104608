"""The introduction e-mails really leave: the outbox's dispatcher delivers them to a local SMTP
server (aiosmtpd), once per member of the other side and event; a second run sends nothing;
the request's e-mail carries no contact detail; a server that is down loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from intro_world import World, make_world

from matcher.notify import Dispatcher
from matcher.notify.smtp import SmtpNotifier
from tests.support_databases import database_for
from tests.support_smtp import Inbox, free_port, smtp_server

NEED = "Cold storage for 2 tonnes of donated food every week."


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as server:
        yield server.port, server.inbox


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with database_for("sqlite", tmp_path) as db:
        yield make_world(db)


def _dispatch(w: World, port: int) -> list[str]:
    notifier = SmtpNotifier.from_url(f"smtp://127.0.0.1:{port}", sender="pm@matcher.example")
    try:
        return Dispatcher(w.intros.outbox, notifier).run_once().sent
    finally:
        notifier.close()


def test_request_accept_and_message_mails_arrive_once(
    world: World, smtp: tuple[int, Inbox]
) -> None:
    w = world
    port, inbox = smtp
    intro = w.intros.request(w.a_member, w.b, "We run the harbour food bank.", need_text=NEED)
    intro_id = intro.introduction.id
    sent = _dispatch(w, port)
    assert sorted(k for k in sent if k.startswith("intro")) == sorted(
        [f"intro:{intro_id}:requested:{w.b_admin}", f"intro:{intro_id}:requested:{w.b_member}"]
    )
    got = inbox.to(w.email(w.b_member))
    assert len(got) == 1
    assert got[0]["Subject"] == "Introduction request from Harbour Food Bank"
    body = got[0].get_content()
    assert NEED in body and "We run the harbour food bank." in body
    assert f"https://matcher.example/introductions/{intro_id}" in body
    # no contact detail of the asking side before consent
    assert w.email(w.a_member) not in body and "+44 20 7946 0001" not in body
    assert inbox.to(w.email(w.a_member)) == []
    assert _dispatch(w, port) == []  # sent once

    w.intros.accept(intro_id, w.b_member)
    w.intros.post_message(intro_id, w.b_member, "Happy to help. Call us on Monday?")
    _dispatch(w, port)
    a_mail = inbox.to(w.email(w.a_member))
    assert [str(m["Subject"]) for m in a_mail] == [
        "Northside Logistics accepted your introduction request",
        "New message from Northside Logistics",
    ]
    assert "Happy to help. Call us on Monday?" in a_mail[1].get_content()
    # the writer is not mailed their own message; their colleague is
    assert [str(m["Subject"]) for m in inbox.to(w.email(w.b_admin))] == [
        "Introduction request from Harbour Food Bank"
    ]
    assert _dispatch(w, port) == []


def test_a_server_that_is_down_loses_no_introduction_mail(
    world: World, smtp: tuple[int, Inbox]
) -> None:
    w = world
    port, inbox = smtp
    intro = w.intros.request(w.a_member, w.b, "Hello", need_text=NEED).introduction
    down = free_port()  # nothing listens there
    report_sent = _dispatch(w, down)
    assert report_sent == []
    queued = [r for r in w.intros.outbox.rows(status="queued") if r.key.startswith("intro:")]
    # the first attempt failed and the run stopped (the server is down): both stay queued
    assert sorted(r.attempts for r in queued) == [0, 1]
    w.now[0] += timedelta(hours=2)  # past the retry backoff
    assert len([k for k in _dispatch(w, port) if k.startswith(f"intro:{intro.id}")]) == 2
    assert len(inbox.to(w.email(w.b_member))) == 1
