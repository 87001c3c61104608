"""One contract, every notifier backend (SMTP plain, SMTPS, SMTP+STARTTLS, webhook), each
against a real local server; then what is particular to each backend."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from matcher.errors import DeliveryError, ValidationError
from matcher.notify import Message, Notifier, create_notifier
from matcher.notify.base import redact
from matcher.notify.hosts import HostPolicy
from matcher.notify.routing import RoutingNotifier
from matcher.notify.smtp import SmtpNotifier
from matcher.notify.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookNotifier,
    verify_signature,
)
from matcher.settings import Settings
from tests.notify.conftest import PASSWORD, REFUSED, SmtpServer, WebhookServer, free_port

SECRET = "whsec-test-only"
BACKENDS = ["smtp", "smtps", "smtp+starttls", "webhook"]
LOCAL = HostPolicy(allow_private=True)  # the test receivers listen on 127.0.0.1


@dataclass
class Received:
    recipient: str
    subject: str
    body: str
    key: str
    dedup_id: str  # what a receiver de-duplicates by (Message-ID, Idempotency-Key)


@dataclass
class Rig:
    notifier: Notifier
    received: Callable[[], list[Received]]
    url: str
    down_url: str  # the same backend pointed at a port nobody listens on


def _settings(url: str) -> Settings:
    # the test receivers listen on 127.0.0.1: allowed as an operator would allow them
    return Settings(
        notify_url=url,
        notify_webhook_secret=SECRET,
        notify_timeout_seconds=5,
        webhook_allow_private=True,
    )


@pytest.fixture(params=BACKENDS)
def rig(request: pytest.FixtureRequest, tls_cert: tuple[Path, Path]) -> Iterator[Rig]:
    kind = request.param
    if kind == "webhook":
        hook = WebhookServer().start()

        def hook_received() -> list[Received]:
            out = []
            for headers, body in hook.requests:
                data = json.loads(body)
                out.append(
                    Received(
                        data["recipient"],
                        data["subject"],
                        data["body"],
                        data["key"],
                        headers["Idempotency-Key"],
                    )
                )
            return out

        down = f"http://127.0.0.1:{free_port()}/hook"
        notifier = create_notifier(_settings(hook.url))
        assert notifier is not None
        yield Rig(notifier, hook_received, hook.url, down)
        notifier.close()
        hook.stop()
        return
    server = SmtpServer(mode=kind, cert=None if kind == "smtp" else tls_cert).start()

    def smtp_received() -> list[Received]:
        return [
            Received(
                str(m["X-Envelope-To"]),
                str(m["Subject"]),
                m.get_content().replace("\r\n", "\n").rstrip("\n"),  # CRLF on the wire
                str(m["X-Matcher-Notification-Key"]),
                str(m["Message-ID"]),
            )
            for m in server.received()
        ]

    down = server.url.replace(f":{server.port}", f":{free_port()}")
    notifier = create_notifier(_settings(server.url))
    assert notifier is not None
    yield Rig(notifier, smtp_received, server.url, down)
    server.stop()


BODY = "Bonjour Zoë,\n\nLa banque alimentaire voudrait vous rencontrer.\n  — indented line\n"


def test_delivers_recipient_subject_body_and_key(rig: Rig) -> None:
    assert isinstance(rig.notifier, Notifier)
    rig.notifier.send(Message("zoe@example.org", "Demande d'introduction — Ünïcode", BODY, "ev-1"))
    (got,) = rig.received()
    assert got.recipient == "zoe@example.org"
    assert got.subject == "Demande d'introduction — Ünïcode"
    assert got.body.rstrip("\n") == BODY.rstrip("\n")  # e-mail ends the body with a newline
    assert got.key == "ev-1"


def test_same_key_gives_the_same_dedup_id_and_another_key_another(rig: Rig) -> None:
    rig.notifier.send(Message("a@example.org", "s", "b", "intro:42:accepted"))
    rig.notifier.send(Message("a@example.org", "s", "b", "intro:42:accepted"))
    rig.notifier.send(Message("a@example.org", "s", "b", "intro:43:accepted"))
    ids = [r.dedup_id for r in rig.received()]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]


def test_unreachable_server_is_a_transport_delivery_error(rig: Rig) -> None:
    down = create_notifier(_settings(rig.down_url))
    assert down is not None and down.kind == rig.notifier.kind
    with pytest.raises(DeliveryError) as info:
        down.send(Message("a@example.org", "s", "b", "k"))
    assert info.value.transport
    assert PASSWORD not in str(info.value)
    assert rig.received() == []


# --- SMTP in particular -------------------------------------------------------------------


def test_refused_recipient_fails_that_message_only(smtp_server: SmtpServer) -> None:
    notifier = SmtpNotifier.from_url(smtp_server.url)
    with pytest.raises(DeliveryError) as info:
        notifier.send(Message(REFUSED, "s", "b", "k1"))
    assert not info.value.transport and "550" in str(info.value)
    notifier.send(Message("ok@example.org", "s", "b", "k2"))
    assert [m["X-Envelope-To"] for m in smtp_server.received()] == ["ok@example.org"]


def test_not_an_address_is_refused_before_connecting(smtp_server: SmtpServer) -> None:
    notifier = SmtpNotifier.from_url(smtp_server.url)
    with pytest.raises(DeliveryError, match="not an e-mail address"):
        notifier.send(Message("Bob <bob@example.org>, eve@example.org", "s", "b", "k"))
    assert smtp_server.received() == []


def test_wrong_password_is_a_transport_error(tls_cert: tuple[Path, Path]) -> None:
    server = SmtpServer(mode="smtp+starttls", cert=tls_cert).start()
    try:
        bad = server.url.replace("s3cret", "wrong")
        with pytest.raises(DeliveryError) as info:
            SmtpNotifier.from_url(bad).send(Message("a@example.org", "s", "b", "k"))
        assert info.value.transport and "Authentication" in str(info.value)
        assert server.received() == []
    finally:
        server.stop()


def test_untrusted_certificate_is_refused(tls_cert: tuple[Path, Path]) -> None:
    server = SmtpServer(mode="smtps", cert=tls_cert).start()
    try:
        without_ca = server.url.split("?", 1)[0]
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpNotifier.from_url(without_ca).send(Message("a@example.org", "s", "b", "k"))
    finally:
        server.stop()


def test_smtp_url_options_and_errors() -> None:
    n = SmtpNotifier.from_url("smtp+starttls://u%40x:p%2Fw@mail.example.org?from=hi@example.org")
    assert (n.host, n.port, n.mode) == ("mail.example.org", 587, "smtp+starttls")
    assert (n.username, n.password, n.sender) == ("u@x", "p/w", "hi@example.org")
    assert SmtpNotifier.from_url("smtps://h").port == 465
    assert SmtpNotifier.from_url("smtp://h:2525?timeout=3").timeout == 3.0
    with pytest.raises(ValidationError, match=r"unknown option\(s\) \['tls'\]"):
        SmtpNotifier.from_url("smtp://h?tls=1")
    with pytest.raises(ValidationError, match="not an e-mail address"):
        SmtpNotifier.from_url("smtp://h?from=nobody")
    assert redact("smtps://u:secret@h:465") == "smtps://u:***@h:465"


# --- webhooks in particular ---------------------------------------------------------------


def test_webhook_payload_is_signed(webhook_server: WebhookServer) -> None:
    notifier = WebhookNotifier(webhook_server.url, SECRET, hosts=LOCAL)
    notifier.send(Message("org:food-bank", "New alert", "Three new partners.", "alert:7"))
    ((headers, body),) = webhook_server.requests
    assert json.loads(body) == {
        "key": "alert:7",
        "recipient": "org:food-bank",
        "subject": "New alert",
        "body": "Three new partners.",
    }
    sig, ts = headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]
    assert sig.startswith("sha256=") and headers["Idempotency-Key"] == "alert:7"
    assert verify_signature(SECRET, body, sig, ts)
    assert not verify_signature("another secret", body, sig, ts)
    assert not verify_signature(SECRET, body.replace(b"Three", b"Four"), sig, ts)
    assert not verify_signature(SECRET, body, sig, ts, now=int(ts) + 3600)  # replayed later


def test_webhook_error_statuses(webhook_server: WebhookServer) -> None:
    notifier = WebhookNotifier(webhook_server.url, SECRET, hosts=LOCAL)
    webhook_server.statuses = [503, 400]
    with pytest.raises(DeliveryError, match="503") as info:
        notifier.send(Message("r", "s", "b", "k1"))
    assert info.value.transport  # the receiver is unwell: stop the run
    with pytest.raises(DeliveryError, match="400") as info:
        notifier.send(Message("r", "s", "b", "k2"))
    assert not info.value.transport
    notifier.send(Message("r", "s", "b", "k3"))
    assert len(webhook_server.requests) == 3


def test_factory_choices_and_errors() -> None:
    assert create_notifier(Settings()) is None
    # routed by recipient: e-mail to the configured notifier (matcher.notify.routing)
    smtp = create_notifier(Settings(notify_url="smtp://localhost:25"))
    assert isinstance(smtp, RoutingNotifier) and isinstance(smtp.configured, SmtpNotifier)
    assert smtp.kind == "smtp"
    with pytest.raises(ValidationError, match="signing secret"):
        create_notifier(Settings(notify_url="https://hooks.example.org/x"))
    with pytest.raises(ValidationError, match="unknown notifier scheme 'ftp'") as info:
        create_notifier(Settings(notify_url="ftp://u:pw@h"))
    assert "pw" not in str(info.value)
