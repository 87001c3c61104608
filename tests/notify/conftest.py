"""Real local servers for the notifier tests: an aiosmtpd SMTP server (plain, SMTPS and
STARTTLS with a throwaway self-signed certificate) and a small HTTP server for webhooks, each on
a free localhost port; plus the database (SQLite, and PostgreSQL when a server is given)."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from matcher.store import Database
from tests.support_databases import database_for

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")
USER, PASSWORD = "matcher", "s3cret pass/word"
REFUSED = "refused@example.org"  # the test SMTP server answers 550 for this recipient
BUSY = "busy@example.org"  # and 450 (try again later) for this one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    """A settable clock for the outbox (starts at a fixed UTC time)."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class _Handler:
    def __init__(self, inbox: list[email.message.EmailMessage], lock: threading.Lock):
        self.inbox, self.lock = inbox, lock

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, opts: Any):  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        if address == BUSY:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        with self.lock:
            self.inbox.append(msg)
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1:port; start()/stop() may be called again."""

    mode: str = "smtp"  # smtp, smtps, smtp+starttls
    cert: tuple[Path, Path] | None = None
    port: int = field(default_factory=free_port)
    inbox: list[email.message.EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        auth = "" if self.mode == "smtp" else f"{USER}:{quote(PASSWORD, safe='')}@"
        query = f"?cafile={self.cert[0]}" if self.cert else ""
        return f"{self.mode}://{auth}127.0.0.1:{self.port}{query}"

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self.mode != "smtp":
            assert self.cert is not None
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
            kwargs["authenticator"] = _authenticator
            if self.mode == "smtps":
                kwargs["ssl_context"] = ctx
                kwargs["auth_require_tls"] = False  # the whole connection is TLS
            else:
                kwargs["tls_context"] = ctx
                kwargs["require_starttls"] = True
        self._controller = Controller(
            _Handler(self.inbox, self._lock), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[email.message.EmailMessage]:
        with self._lock:
            return list(self.inbox)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by the openssl command; skip without)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@dataclass
class WebhookServer:
    """A real HTTP server recording each POST; `statuses` are answered in turn (then 200)."""

    port: int = field(default_factory=free_port)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/matcher"

    def start(self) -> WebhookServer:
        rig = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                rig.requests.append((dict(self.headers.items()), body))
                status = rig.statuses.pop(0) if rig.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_for(request.param, tmp_path) as database:
        yield database
