"""The whole scenario of issue 10 in a real headless Chromium, with real e-mail: two people of
two organisations sign up and claim them; Ana finds partners and asks Ben's organisation for an
introduction; the live server queues the e-mail and the dispatcher (`matcher notify run`, with
the server's SMTP URL) delivers it to a local SMTP server (aiosmtpd); Ben follows the link in
the e-mail he received, accepts, both see each other's contact details and write to each
other, Ana starts a partnership record, both check in, Ana closes it with an outcome, and the
pair is a labelled pair for the next `train fit`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from api_support import ROOT, SERVER_ENV, LiveServer, live_server
from browser_support import approve_pending, assert_labelled, claim, two_people
from test_api_browser import CHROMIUM, NEED, _launch

from tests.support_smtp import SmtpServer, smtp_server
from training.serve_support import free_port

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)
SENDER = "partner-matcher@matcher.example"


@pytest.fixture
def mailing_server(tmp_path: Path) -> Iterator[tuple[LiveServer, SmtpServer]]:
    """A live server whose notifications go to a local SMTP server, and that server."""
    with smtp_server() as smtp:
        port = free_port()
        env = {
            "MATCHER_NOTIFY_URL": smtp.url,
            "MATCHER_NOTIFY_FROM": SENDER,
            "MATCHER_API_PUBLIC_URL": f"http://127.0.0.1:{port}",  # the links in the e-mails
        }
        with live_server(tmp_path / "live", port=port, env_overrides=env) as server:
            yield server, smtp


def deliver(server: LiveServer, smtp: SmtpServer) -> None:
    """The dispatcher, as deployed beside the server: `matcher notify run` once, same data
    directory and SMTP URL."""
    env = {
        **os.environ,
        **SERVER_ENV,
        "MATCHER_DATA_DIR": str(server.data_dir),
        "MATCHER_NOTIFY_URL": smtp.url,
        "MATCHER_NOTIFY_FROM": SENDER,
    }
    cmd = [sys.executable, "-m", "matcher.cli", "notify", "run"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def mails(smtp: SmtpServer, to: str, subject: str) -> list[EmailMessage]:
    return [m for m in smtp.inbox.to(to) if str(m["Subject"]).startswith(subject)]


def test_the_partner_learns_of_the_request_by_email_and_it_ends_in_a_closed_record(
    mailing_server: tuple[LiveServer, SmtpServer],
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    server, smtp = mailing_server
    base = server.base_url
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            people = two_people(browser, base)
            ana, ben, errors = people.ana, people.ben, people.errors
            ana_id, ben_id = people.ana_id, people.ben_id
            ana_email, ben_email = people.ana_email, people.ben_email

            # find: Ana's need on the page; Ben's organisation is the first result
            ana.goto(base + "/")
            ana.get_by_label("The need, in plain words").fill(NEED)
            ana.get_by_role("button", name="Find partners").click()
            ana.wait_for_selector("article.partner", timeout=30_000)
            rec_id = ana.locator('input[name="recommendation_id"]').first.get_attribute("value")
            cards = ana.locator("article.partner")
            partner = cards.nth(0).get_attribute("data-org-id")
            own = cards.nth(1).get_attribute("data-org-id")
            assert partner and own and partner != own
            claim(ana, base, own)
            claim(ben, base, partner)
            approve_pending(server, ana_id)
            approve_pending(server, ben_id)

            # request, from the results' permalink
            ana.goto(f"{base}/r/{rec_id}")
            card = ana.locator(f'article.partner[data-org-id="{partner}"]').first
            card.get_by_role("link", name="Ask for an introduction").click()
            ana.wait_for_url("**/introductions/new**")
            ana.get_by_label("Your message").fill("We collect food at the harbour. Talk?")
            ana.get_by_role("button", name="Send the request").click()
            ana.wait_for_url("**/introductions/intro_*")
            intro_id = ana.url.rsplit("/", 1)[-1]
            # queued, not sent by the request itself (sign-up mail may have been sent)
            assert mails(smtp, ben_email, "Introduction request") == []

            # the dispatcher delivers; Ben reads the e-mail and follows its link
            deliver(server, smtp)
            (mail,) = mails(smtp, ben_email, "Introduction request from ")
            assert mail["From"] == SENDER
            body = mail.get_content()
            assert "We collect food at the harbour. Talk?" in body
            assert ana_email not in body  # no contact detail before consent
            links = re.findall(r"https?://\S+/introductions/\S+", body)
            assert links == [f"{base}/introductions/{intro_id}"], body
            ben.goto(links[0])
            assert "We collect food at the harbour. Talk?" in ben.locator(".message").inner_text()
            assert ana_email not in ben.content()
            ben.get_by_role("button", name="Accept").click()
            ben.wait_for_url(links[0])
            assert ben.locator("#intro-status").inner_text() == "accepted"
            assert ben.locator(".person-email").inner_text() == ana_email

            # Ana is told by e-mail too; both see the contacts and write to each other
            deliver(server, smtp)
            accepted = [
                m for m in smtp.inbox.to(ana_email) if "accepted your introduction" in m["Subject"]
            ]
            assert len(accepted) == 1
            ana.reload()
            assert ana.locator(".person-email").inner_text() == ben_email
            ana.get_by_label("Write to").fill("Thank you! Thursday at 10?")
            ana.get_by_role("button", name="Send", exact=True).click()
            ana.wait_for_url("**#thread")
            ben.reload()
            ben.get_by_label("Write to").fill("Thursday works.")
            ben.get_by_role("button", name="Send", exact=True).click()
            ben.wait_for_url("**#thread")
            ana.reload()
            assert ana.locator(".msg-body").all_inner_texts() == [
                "Thank you! Thursday at 10?",
                "Thursday works.",
            ]
            deliver(server, smtp)
            assert len(mails(smtp, ben_email, "New message from ")) == 1

            # Ana starts a partnership record from the introduction's page
            ana.get_by_label("Title").fill("Fresh food on Saturdays")
            ana.get_by_label("Shared goal").fill("More families fed")
            ana.get_by_label("Measured by").fill("meals a week")
            ana.get_by_label("Today").fill("100")
            ana.get_by_label("Target").fill("300")
            ana.get_by_role("button", name="Propose the record").click()
            ana.wait_for_url("**/partnerships/*")
            record_url = ana.url
            record_id = record_url.rsplit("/", 1)[-1]

            # Ben accepts it; both check in; Ana closes it with its outcome
            ben.goto(record_url)
            ben.get_by_role("button", name="Accept").click()
            ben.wait_for_url(record_url)
            assert ben.locator(".meta .chip").first.inner_text() == "active"
            ben.get_by_label("meals a week now").fill("180")
            ben.get_by_label("How is the partnership going? (1-5)").fill("4")
            ben.get_by_role("button", name="Check in").click()
            ben.wait_for_url(record_url)
            ana.goto(record_url)
            ana.get_by_label("meals a week now").fill("320")
            ana.get_by_label("How is the partnership going? (1-5)").fill("5")
            ana.get_by_role("button", name="Check in").click()
            ana.wait_for_url(record_url)
            assert len(ana.locator("ol.check-ins li").all_inner_texts()) == 2
            ana.get_by_label("Outcome").select_option("achieved")
            ana.get_by_label("What did you learn?").fill("A weekly slot beats ad hoc pickups.")
            ana.get_by_role("button", name="Close with this outcome").click()
            ana.wait_for_url(record_url)
            assert ana.locator(".meta .chip").first.inner_text() == "closed"
            ben.goto(record_url)  # both sides see the same record
            assert ben.locator(".meta .chip").first.inner_text() == "closed"
            assert errors == [], errors
        finally:
            browser.close()

    assert_labelled(server.data_dir, own, partner, record_id, "achieved")
