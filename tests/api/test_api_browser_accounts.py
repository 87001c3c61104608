"""Accounts in a real headless Chromium: sign up, search and mark a partner while signed in
(the feedback form posts in the background with the session's CSRF token), claim a profile,
log out, log in again."""

from __future__ import annotations

import uuid

import pytest
from api_support import LiveServer
from test_api_browser import CHROMIUM, NEED, _launch

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)
PASSWORD = "correct horse battery"


def test_person_signs_up_marks_a_partner_claims_and_logs_out(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    email = f"ana.{uuid.uuid4().hex[:6]}@example.org"
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "response",
                lambda r: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(server.base_url + "/")
            page.get_by_role("link", name="Sign up").click()
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_url("**/account")
            assert email in page.content()

            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(NEED)
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner", timeout=30_000)
            card = page.locator("#coalition article.partner").first
            org_id = card.get_attribute("data-org-id")
            card.get_by_role("button", name="Contacted").click()
            card.locator(".feedback-status").filter(has_text="Marked as contacted").wait_for(
                timeout=10_000
            )

            page.goto(f"{server.base_url}/organisations/{org_id}")
            page.get_by_role("button", name="This is my organisation").click()
            page.wait_for_url("**/account")
            assert "waiting for an administrator" in page.content()

            page.get_by_role("button", name="Log out").first.click()
            page.wait_for_url(server.base_url + "/")
            assert page.get_by_role("link", name="Log in").is_visible()
            page.get_by_role("link", name="Log in").click()
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/account")
            assert errors == [], errors  # no script error, no refused request (403 CSRF)
        finally:
            browser.close()
