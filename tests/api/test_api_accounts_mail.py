"""The reset e-mail really leaves: the outbox's dispatcher delivers it to a local SMTP server
(aiosmtpd), and the link in the received message resets the password once."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from matcher.accounts import Accounts
from matcher.errors import AuthenticationError, NotFoundError
from matcher.notify import Dispatcher
from matcher.notify.smtp import SmtpNotifier
from matcher.store.db import Database

PASSWORD = "correct horse battery"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_reset_mail_is_delivered_and_its_link_works_once(
    tmp_path: Path, smtp: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp
    db = Database(f"sqlite:///{tmp_path / 'accounts.sqlite'}")
    db.create_all()
    try:
        accounts = Accounts(db, public_url="https://matcher.example/")
        person = accounts.sign_up("Ana@Harbour.example", PASSWORD)
        assert accounts.request_reset("ana@harbour.example")
        notifier = SmtpNotifier.from_url(f"smtp://127.0.0.1:{port}", sender="pm@matcher.example")
        report = Dispatcher(accounts.outbox, notifier).run_once()
        notifier.close()
        assert len(report.sent) == 2, report  # the e-mail confirmation and the reset link
        reset = [m for m in inbox.messages if "password" in str(m["Subject"]).lower()]
        assert len(reset) == 1 and reset[0]["To"] == "ana@harbour.example"
        body = reset[0].get_content()
        link = next(w for w in body.split() if w.startswith("https://matcher.example/reset/"))
        token = link.split("token=", 1)[1]
        accounts.reset_password(token, "a new password here")
        assert accounts.log_in(person.email, "a new password here", "127.0.0.1").id == person.id
        with pytest.raises(AuthenticationError):
            accounts.log_in(person.email, PASSWORD, "127.0.0.1")
        with pytest.raises(NotFoundError):
            accounts.reset_password(token, "yet another password")
        # sent once: a second dispatcher run sends nothing more
        assert Dispatcher(accounts.outbox, notifier).run_once().sent == []
    finally:
        db.dispose()
