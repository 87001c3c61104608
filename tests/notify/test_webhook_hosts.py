"""Webhooks reach public hosts only unless the operator allows more (matcher.notify.hosts):
internal addresses refused when a URL is saved and again when it is sent, on the address
actually connected to (DNS rebinding). No network: name resolution is faked."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from matcher.errors import BlockedHostError, DeliveryError
from matcher.notify import Dispatcher, Message, Outbox, RetryPolicy, create_notifier
from matcher.notify.hosts import GuardedTransport, HostPolicy, check_url, internal_kind
from matcher.notify.routing import RoutingNotifier
from matcher.notify.webhook import WebhookNotifier
from matcher.settings import Settings
from matcher.store import Database
from tests.notify.conftest import WebhookServer, free_port
from tests.support_resolver import fake_resolver

SECRET = "whsec-test-only"
EXTERNAL = HostPolicy()
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",  # site-local
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_when_saved(address: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) is not None
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedHostError) as info:
        check_url(f"http://{host}:5432/hook", EXTERNAL)
    assert info.value.field == "notify_to"
    # a person saving a URL is told why, not how the operator configures the service
    assert "public" in str(info.value) and "MATCHER_WEBHOOK" not in str(info.value)
    with pytest.raises(BlockedHostError) as info:
        check_url(f"http://{host}:5432/hook", EXTERNAL, reveal=True)  # the operator reads it
    assert "MATCHER_WEBHOOK_ALLOW_PRIVATE" in str(info.value)
    assert "MATCHER_WEBHOOK_ALLOWED_HOSTS" in str(info.value)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", PUBLIC_V4, PUBLIC_V6, "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) is None
    host = f"[{address}]" if ":" in address else address
    check_url(f"https://{host}/hook", EXTERNAL)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/hook",
        "http://LocalHost.:8080/hook",
        "http://db.localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://127.1/hook",
        "http://0x7f.0.0.1/hook",
        "http://017700000001/hook",  # octal
        "http://user:pw@127.0.0.1/hook",
    ],
)
def test_loopback_names_and_odd_spellings_are_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    fake_resolver(monkeypatch, {})
    with pytest.raises(BlockedHostError):
        check_url(url, EXTERNAL)


def test_a_name_is_judged_by_what_it_resolves_to(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(
        monkeypatch,
        {
            "hooks.example.org": [PUBLIC_V4, PUBLIC_V6],
            "metadata.example.org": ["169.254.169.254"],
            "both.example.org": [PUBLIC_V4, "10.0.0.7"],
            "v6.example.org": ["::ffff:127.0.0.1"],
        },
    )
    check_url("https://hooks.example.org/alerts", EXTERNAL)
    with pytest.raises(BlockedHostError, match="resolves to a link-local address") as info:
        check_url("http://metadata.example.org/latest/meta-data/", EXTERNAL)
    assert "169.254" not in str(info.value)  # the person saving learns no internal address
    with pytest.raises(BlockedHostError, match="resolves to 10.0.0.7, a private"):
        check_url("https://both.example.org/x", EXTERNAL, reveal=True)  # to the operator
    with pytest.raises(BlockedHostError, match="resolves to a private"):
        check_url("https://both.example.org/x", EXTERNAL)  # one internal answer is enough
    with pytest.raises(BlockedHostError, match="loopback"):
        check_url("https://v6.example.org/x", EXTERNAL)
    # a name that does not resolve now is accepted: the host may be down; checked at send
    check_url("https://not-yet.example.org/x", EXTERNAL)


def test_operators_can_allow_internal_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, {"hooks.internal": ["10.1.2.3"], "other.internal": ["10.9.9.9"]})
    check_url("http://127.0.0.1:9000/hook", HostPolicy(allow_private=True))
    listed = HostPolicy(allowed_hosts=("Hooks.Internal", "192.168.5.0/24"))
    check_url("http://hooks.internal/hook", listed)
    check_url("http://192.168.5.20/hook", listed)
    with pytest.raises(BlockedHostError):
        check_url("http://other.internal/hook", listed)
    with pytest.raises(BlockedHostError):
        check_url("http://192.168.6.20/hook", listed)


def test_policy_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HostPolicy.from_settings(Settings()) == HostPolicy()
    monkeypatch.setenv("MATCHER_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("MATCHER_WEBHOOK_ALLOWED_HOSTS", '["hooks.internal", "10.0.0.0/8"]')
    assert HostPolicy.from_settings(Settings()) == HostPolicy(
        True, ("hooks.internal", "10.0.0.0/8")
    )


def test_the_factory_refuses_an_internal_notify_url_unless_allowed() -> None:
    hook = "http://127.0.0.1:9/hooks/matcher"
    with pytest.raises(BlockedHostError, match="127.0.0.1 is a loopback address") as info:
        create_notifier(Settings(notify_url=hook, notify_webhook_secret=SECRET))
    assert info.value.field == "notify_url"
    assert "MATCHER_WEBHOOK_ALLOWED_HOSTS" in str(info.value)  # the operator's own setting
    allowed = Settings(notify_url=hook, notify_webhook_secret=SECRET, webhook_allow_private=True)
    notifier = create_notifier(allowed)
    assert isinstance(notifier, RoutingNotifier)
    assert isinstance(notifier.configured, WebhookNotifier)
    assert notifier.configured.hosts.allow_private and notifier.webhooks.hosts.allow_private
    notifier.close()


# --- at send time ----------------------------------------------------------------------------


def test_the_notifier_refuses_an_internal_receiver_by_default(
    webhook_server: WebhookServer,
) -> None:
    notifier = WebhookNotifier(webhook_server.url, SECRET)
    with pytest.raises(DeliveryError, match="127.0.0.1 is a loopback address") as info:
        notifier.send(Message("r", "s", "b", "k"))
    assert info.value.permanent and not info.value.transport
    assert "MATCHER_WEBHOOK_ALLOW_PRIVATE" in str(info.value)  # the operator is told how
    assert webhook_server.requests == []


def test_dns_rebinding_is_refused_on_the_address_connected_to(
    monkeypatch: pytest.MonkeyPatch, webhook_server: WebhookServer
) -> None:
    """Public when saved, the host's loopback when sent: nothing is sent."""
    answers = {"rebind.example.org": [PUBLIC_V4]}
    fake_resolver(monkeypatch, answers)
    url = f"http://rebind.example.org:{webhook_server.port}/hooks/matcher"
    check_url(url, EXTERNAL)  # saved: public
    answers["rebind.example.org"] = ["127.0.0.1"]
    notifier = WebhookNotifier(url, SECRET)
    with pytest.raises(DeliveryError, match="resolves to 127.0.0.1, a loopback") as info:
        notifier.send(Message("r", "s", "b", "k"))
    assert info.value.permanent
    assert webhook_server.requests == []


def test_the_checked_address_is_the_one_connected_to(
    monkeypatch: pytest.MonkeyPatch, webhook_server: WebhookServer
) -> None:
    """The name is resolved once, by the guard: a second answer (to 127.0.0.2, not allowed;
    nothing listens there) is never used, and the receiver sees the name in Host."""
    answers = iter([["127.0.0.1"]])
    asked = fake_resolver(monkeypatch, lambda name: next(answers, ["127.0.0.2"]))
    policy = HostPolicy(allowed_hosts=("127.0.0.1/32",))
    url = f"http://hooks.test:{webhook_server.port}/hooks/matcher"
    notifier = WebhookNotifier(url, SECRET, hosts=policy)
    notifier.send(Message("r", "s", "b", "k1"))
    ((headers, _),) = webhook_server.requests
    assert headers["Host"] == f"hooks.test:{webhook_server.port}"
    assert asked == ["hooks.test"]
    with pytest.raises(DeliveryError, match="127.0.0.2"):  # the next send resolves again
        notifier.send(Message("r", "s", "b", "k2"))
    assert len(webhook_server.requests) == 1


def test_a_recipient_webhook_url_is_checked_when_sent(
    monkeypatch: pytest.MonkeyPatch, webhook_server: WebhookServer
) -> None:
    """A saved need's URL travels as the message's recipient (saved before this check, or
    rebound since): refused, and the receiver is not called."""
    fake_resolver(monkeypatch, {"rebind.example.org": ["10.0.0.5"]})
    notifier = WebhookNotifier(
        webhook_server.url, SECRET, hosts=HostPolicy(allowed_hosts=("127.0.0.1/32",))
    )
    with pytest.raises(DeliveryError, match="10.0.0.5, a private") as info:
        notifier.send(Message("http://rebind.example.org/x", "s", "b", "k"))
    assert info.value.permanent
    notifier.send(Message("https://hooks.example.org/x", "s", "b", "k2"))  # does not resolve
    assert len(webhook_server.requests) == 1


@pytest.fixture
def outbox(db: Database) -> Iterator[Outbox]:
    yield Outbox(db)


def test_a_refused_send_is_a_dead_letter_with_why_and_not_retried(
    outbox: Outbox, webhook_server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox.enqueue(Message("r", "s", "b", "alert:1"))
    dispatcher = Dispatcher(outbox, WebhookNotifier(webhook_server.url, SECRET), RetryPolicy())
    report = dispatcher.run_once()
    assert report.dead == ["alert:1"] and report.stopped is None
    (row,) = outbox.rows()
    assert row.status == "dead" and row.attempts == 1
    assert row.last_error is not None and "loopback address" in row.last_error
    assert "refused to send 'alert:1'" in caplog.text
    assert dispatcher.run_once().failed == {}  # not tried again
    assert webhook_server.requests == []


@pytest.fixture
def https_server(tls_cert: tuple[Path, Path]) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS server on 127.0.0.1 (certificate for 127.0.0.1 and localhost) recording the
    Host header of each POST."""
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hosts.append(str(self.headers["Host"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_cert)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1]), hosts
    server.shutdown()
    server.server_close()


def test_https_is_verified_against_the_name_not_the_address_connected_to(
    monkeypatch: pytest.MonkeyPatch,
    tls_cert: tuple[Path, Path],
    https_server: tuple[int, list[str]],
) -> None:
    """Connected to the checked address, the TLS name (SNI, certificate check) stays the
    URL's: localhost is in the certificate and passes; hooks.test, though it resolves to the
    certificate's 127.0.0.1, does not."""
    port, hosts = https_server
    fake_resolver(monkeypatch, {"localhost": ["127.0.0.1"], "hooks.test": ["127.0.0.1"]})
    policy = HostPolicy(allowed_hosts=("localhost", "hooks.test"))
    verify = ssl.create_default_context(cafile=str(tls_cert[0]))
    for name, ok in (("localhost", True), ("hooks.test", False)):
        transport = GuardedTransport(policy, verify=verify)
        notifier = WebhookNotifier(
            f"https://{name}:{port}/hook", SECRET, hosts=policy, transport=transport
        )
        if ok:
            notifier.send(Message("r", "s", "b", "k"))
        else:
            with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED|hostname"):
                notifier.send(Message("r", "s", "b", "k"))
        notifier.close()
    assert hosts == [f"localhost:{port}"]
