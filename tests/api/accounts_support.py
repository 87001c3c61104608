"""Helpers for the account tests: a fresh browser (own cookies, own client IP) per person,
sign-up and log-in through the API, the CSRF token of a page, link tokens from the outbox."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.notify.outbox import Outbox

PASSWORD = "correct horse battery"
_ips = itertools.count(1)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_IN_LINK = re.compile(r"token=([A-Za-z0-9_%-]+)")


def browser(app: FastAPI, ip: str | None = None) -> TestClient:
    """A client with its own cookie jar and client IP (the log-in throttle counts per IP).
    The app must already be started (the session `client` fixture does it)."""
    n = next(_ips)
    address = ip or f"10.{n // 250 % 250}.{n % 250}.{uuid.uuid4().int % 250 + 1}"
    return TestClient(app, client=(address, 50000), follow_redirects=False)


def unique_email(domain: str = "example.org", name: str = "ana") -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@{domain}"


@dataclass
class Signed:
    client: TestClient
    person_id: str
    email: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


def sign_up(app: FastAPI, email: str | None = None, password: str = PASSWORD) -> Signed:
    c = browser(app)
    email = email or unique_email()
    r = c.post("/v1/people", json={"email": email, "password": password, "name": "Ana"})
    assert r.status_code == 201, r.text
    body = r.json()
    return Signed(c, body["id"], body["email"], body["csrf_token"])


def log_in(app: FastAPI, email: str, password: str = PASSWORD) -> Signed:
    c = browser(app)
    r = c.post("/v1/session", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    return Signed(c, body["id"], body["email"], body["csrf_token"])


def page_csrf(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def outbox_token(app: FastAPI, recipient: str, purpose: str) -> str:
    """The token of the newest queued link e-mail of that kind ('reset' or 'verify')."""
    path = "/reset/confirm?" if purpose == "reset" else "/verify?"
    for row in Outbox(app.state.api.db).rows(limit=1000):
        if row.recipient == recipient and path in row.body:
            found = TOKEN_IN_LINK.search(row.body.split(path, 1)[1])
            assert found, row.body
            return found.group(1)
    raise AssertionError(f"no {purpose} e-mail queued for {recipient}")


def verify(app: FastAPI, email: str) -> None:
    c = browser(app)
    r = c.post("/v1/email-verifications", json={"token": outbox_token(app, email, "verify")})
    assert r.status_code == 204, r.text
