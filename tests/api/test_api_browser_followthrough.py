"""Follow-through in a real headless Chromium, after an accepted introduction: one side
proposes a partnership record (API), the other accepts it on the page, both check in through
the page's form, one closes it with an outcome; the pair is then a training label
(`labelled_pairs`), and an analyst sees it on the analytics page (key typed into its form)."""

from __future__ import annotations

import re

import pytest
from api_support import LiveServer
from browser_support import api, approve_pending, assert_labelled, claim, two_orgs, two_people
from test_api_browser import CHROMIUM, _launch

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)


def test_a_partnership_is_run_on_the_page_and_becomes_a_label(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    nonprofit, business = two_orgs(server)
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            people = two_people(browser, server.base_url)
            ana, ben, errors = people.ana, people.ben, people.errors
            ana_id, ben_id = people.ana_id, people.ben_id
            claim(ana, server.base_url, nonprofit["id"])
            claim(ben, server.base_url, business["id"])
            approve_pending(server, ana_id)
            approve_pending(server, ben_id)

            # the introduction (its pages are driven by test_api_browser_accounts)
            intro = api(
                ana,
                "POST",
                "/v1/introductions",
                {"to_organisation_id": business["id"], "message": "Cold storage?",
                 "need_text": "cold storage for fresh food"},
            )  # fmt: skip
            api(ben, "POST", f"/v1/introductions/{intro['id']}/accept")

            # Ana proposes the record through the API
            plan = {
                "title": "Fresh food on Saturdays",
                "goals": [
                    {"id": "meals", "description": "More families fed",
                     "indicator": "meals a week", "baseline": 100, "target": 300}
                ],
            }  # fmt: skip
            record = api(
                ana,
                "POST",
                "/v1/partnership-records",
                {"organisation_id": nonprofit["id"], "partner_id": business["id"],
                 "introduction_id": intro["id"], "plan": plan},
            )  # fmt: skip
            url = f"{server.base_url}/partnerships/{record['id']}"

            # Ben accepts it on the page
            ben.goto(url)
            assert "proposes this partnership record" in ben.content()
            ben.get_by_role("button", name="Accept").click()
            ben.wait_for_url(url)
            assert ben.locator(".meta .chip").first.inner_text() == "active"

            # both check in through the form
            ben.get_by_label("meals a week now").fill("180")
            ben.get_by_label("How is the partnership going? (1-5)").fill("4")
            ben.get_by_label("Note").fill("Two pallets a week so far.")
            ben.get_by_role("button", name="Check in").click()
            ben.wait_for_url(url)
            ana.goto(url)
            ana.get_by_label("meals a week now").fill("240")
            ana.get_by_label("How is the partnership going? (1-5)").fill("5")
            ana.get_by_role("button", name="Check in").click()
            ana.wait_for_url(url)
            items = ana.locator("ol.check-ins li").all_inner_texts()
            assert len(items) == 2 and "rated 4/5" in items[0] and "rated 5/5" in items[1]
            chart = ana.locator("#goal-meals svg").get_attribute("aria-label") or ""
            assert "latest 240" in chart

            # Ana closes it with its outcome
            ana.get_by_label("Outcome").select_option("partly_achieved")
            ana.get_by_label("What did you learn?").fill("Start the cold chain earlier.")
            ana.get_by_role("button", name="Close with this outcome").click()
            ana.wait_for_url(url)
            assert ana.locator(".meta .chip").first.inner_text() == "closed"

            # an analyst reads the analytics page with a key typed into its form
            analyst = browser.new_context().new_page()
            analyst.goto(server.base_url + "/analyst/analytics")
            analyst.get_by_label("Analyst API key").fill(server.admin_key)
            analyst.get_by_role("button", name="Show the analytics").click()
            analyst.wait_for_selector("svg.stack-chart")
            outcomes = analyst.locator("svg.stack-chart").first.get_attribute("aria-label")
            assert outcomes is not None
            # its sector pair, or (fewer than 5 requests on this server) the small groups' row
            pair = re.search(
                r"(?:nonprofit → business|other \(small groups\)): (\d+) achieved, (\d+) partly",
                outcomes,
            )
            assert pair is not None and int(pair.group(2)) >= 1, outcomes
            assert errors == [], errors
        finally:
            browser.close()

    assert_labelled(
        server.data_dir, nonprofit["id"], business["id"], record["id"], "partly_achieved"
    )
