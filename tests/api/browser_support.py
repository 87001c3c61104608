"""Steps the real-Chromium tests share (tests/api/test_api_browser*.py): sign up and claim an
organisation through the pages, the platform admin's approval, a JSON call from a page's
session, two organisations no other browser test uses, two people signed up, and the labels
a closed record leaves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from api_support import LiveServer

from matcher.store import Database
from matcher.store.repository import Store
from training.history import labelled_pairs

PASSWORD = "correct horse battery"


def approve_pending(server: LiveServer, person_id: str) -> None:
    """The platform admin approves the person's pending claim (API key, as an admin would)."""
    headers = {"X-API-Key": server.admin_key}
    pending = httpx.get(
        server.base_url + "/v1/claims", params={"status": "pending"}, headers=headers
    ).json()
    me = [c for c in pending if c["person_id"] == person_id]
    assert len(me) == 1, pending
    r = httpx.post(f"{server.base_url}/v1/claims/{me[0]['id']}/approve", headers=headers)
    assert r.status_code == 200, r.text


def sign_up(page: Any, base_url: str, email: str) -> str:
    """Sign up on the page; the new person's id."""
    page.goto(base_url + "/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/account")
    person_id: str = page.evaluate("async () => (await (await fetch('/v1/me')).json()).id")
    return person_id


def claim(page: Any, base_url: str, org_id: str) -> None:
    page.goto(f"{base_url}/organisations/{org_id}")
    page.get_by_role("button", name="This is my organisation").click()
    page.wait_for_url("**/account")


def api(page: Any, method: str, path: str, body: dict | None = None) -> Any:
    """A call of the JSON API from the page's session (its cookie, its CSRF token)."""
    base = "/".join(page.url.split("/")[:3])
    token = page.request.get(base + "/v1/me").json()["csrf_token"]
    r = page.request.fetch(base + path, method=method, data=body, headers={"X-CSRF-Token": token})
    assert r.ok, (path, r.status, r.text())
    return r.json()


def two_orgs(server: LiveServer, page: int = 3) -> tuple[dict, dict]:
    """A nonprofit and a business no other browser test on this server uses (the last of
    the `page`th page of each sector)."""
    headers = {"X-API-Key": server.admin_key}
    found: dict[str, dict] = {}
    for sector in ("nonprofit", "business"):
        r = httpx.get(
            server.base_url + "/v1/organisations",
            params={"sector": sector, "page": page, "page_size": 10},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        found[sector] = r.json()["items"][-1]
    return found["nonprofit"], found["business"]


@dataclass
class TwoPeople:
    """Ana and Ben, signed up in browser contexts of their own; errors thrown on their pages
    are collected (a test ends asserting there were none)."""

    ana: Any
    ben: Any
    ana_email: str
    ben_email: str
    ana_id: str
    ben_id: str
    errors: list[str]


def two_people(browser: Any, base_url: str) -> TwoPeople:
    ana, ben = browser.new_context().new_page(), browser.new_context().new_page()
    errors: list[str] = []
    for page in (ana, ben):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    ana_email = f"ana.{uuid.uuid4().hex[:6]}@example.org"
    ben_email = f"ben.{uuid.uuid4().hex[:6]}@example.net"
    ana_id = sign_up(ana, base_url, ana_email)
    ben_id = sign_up(ben, base_url, ben_email)
    return TwoPeople(ana, ben, ana_email, ben_email, ana_id, ben_id, errors)


def assert_labelled(
    data_dir: Path, source: str, partner: str, record_id: str, outcome: str
) -> None:
    """The closed record is a labelled pair for the next `train fit` (its outcome, the record
    as its reference), and so is the accepted introduction."""
    db = Database(f"sqlite:///{data_dir / 'matcher.db'}")
    try:
        pairs = labelled_pairs(Store(db))
    finally:
        db.dispose()
    mine = pairs[(pairs["source_id"] == source) & (pairs["partner_id"] == partner)]
    history = mine[mine["origin"] == "history"]
    assert list(history["ref"]) == ["record-" + record_id]
    assert list(history["outcome"]) == [outcome]
    assert "introduction" in set(mine["origin"])
