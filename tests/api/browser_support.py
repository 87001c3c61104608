"""Steps the real-Chromium tests share (tests/api/test_api_browser*.py): sign up and claim an
organisation through the pages, the platform admin's approval, a JSON call from a page's
session, two organisations no other browser test uses."""

from __future__ import annotations

from typing import Any

import httpx
from api_support import LiveServer

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
