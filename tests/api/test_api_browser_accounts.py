"""Accounts in a real headless Chromium: sign up, search and mark a partner while signed in
(the feedback form posts in the background with the session's CSRF token), claim a profile,
log out, log in again."""

from __future__ import annotations

import uuid

import pytest
from api_support import LiveServer
from browser_support import PASSWORD, approve_pending, claim, two_people
from test_api_browser import CHROMIUM, NEED, _launch

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)


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
            # signed in: the mark counts, so the card asks for nothing more
            assert card.locator(".feedback-status a").count() == 0

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


def test_two_organisations_are_introduced_and_write_to_each_other(server: LiveServer) -> None:
    """Ana (of one organisation) asks Ben's organisation for an introduction from her results;
    Ben sees it in his inbox without Ana's e-mail, accepts, and both then see each other's
    contact details and exchange messages."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            people = two_people(browser, server.base_url)
            ana, ben, errors = people.ana, people.ben, people.errors
            ana_id, ben_id = people.ana_id, people.ben_id
            ana_email, ben_email = people.ana_email, people.ben_email

            ana.goto(server.base_url + "/")
            ana.get_by_label("The need, in plain words").fill(NEED)
            ana.get_by_role("button", name="Find partners").click()
            ana.wait_for_selector("article.partner", timeout=30_000)
            rec_id = ana.locator('input[name="recommendation_id"]').first.get_attribute("value")
            results_url = f"{server.base_url}/r/{rec_id}"  # the results' permalink
            cards = ana.locator("article.partner")
            partner = cards.nth(0).get_attribute("data-org-id")
            own = cards.nth(1).get_attribute("data-org-id")
            assert partner and own and partner != own

            claim(ana, server.base_url, own)
            claim(ben, server.base_url, partner)
            approve_pending(server, ana_id)
            approve_pending(server, ben_id)

            ana.goto(results_url)
            assert ana.locator(".signin-hint").count() == 0  # signed in: the link is there
            card = ana.locator(f'article.partner[data-org-id="{partner}"]').first
            card.get_by_role("link", name="Ask for an introduction").click()
            ana.wait_for_url("**/introductions/new**")
            ana.get_by_label("Your message").fill("We collect food at the harbour. <Talk?>")
            ana.get_by_role("button", name="Send the request").click()
            ana.wait_for_url("**/introductions/intro_*")
            assert ana.locator("#intro-status").inner_text() == "requested"
            intro_url = ana.url

            ben.goto(server.base_url + "/introductions")
            ben.locator("ul.incoming li.introduction a").first.click()
            ben.wait_for_url(intro_url)
            assert "We collect food at the harbour. <Talk?>" in ben.locator(".message").inner_text()
            assert ana_email not in ben.content()  # no contact detail before consent
            ben.get_by_role("button", name="Accept").click()
            ben.wait_for_url(intro_url)
            assert ben.locator("#intro-status").inner_text() == "accepted"
            assert ben.locator(".person-email").inner_text() == ana_email

            ana.reload()
            assert ana.locator(".person-email").inner_text() == ben_email
            ana.get_by_label("Write to").fill("Thank you! Thursday at 10?")
            ana.get_by_role("button", name="Send", exact=True).click()
            ana.wait_for_url("**#thread")
            ben.reload()
            assert "Thank you! Thursday at 10?" in ben.locator(".msg-body").first.inner_text()
            ben.get_by_label("Write to").fill("Thursday works.")
            ben.get_by_role("button", name="Send", exact=True).click()
            ben.wait_for_url("**#thread")
            ana.reload()
            bodies = ana.locator(".msg-body").all_inner_texts()
            assert bodies == ["Thank you! Thursday at 10?", "Thursday works."]
            assert errors == [], errors
        finally:
            browser.close()
