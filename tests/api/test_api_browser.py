"""The web page in a real headless Chromium (Debian package) driven by Playwright."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from api_support import ROOT, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
NEED = (
    "Families on the east side skip meals at the end of the month; we need weekly "
    "fresh food distribution, volunteers and funding."
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)


def _launch(pw: Any) -> Any:
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def _places_route(base_url: str) -> bool:
    try:
        r = httpx.get(base_url + "/v1/places", params={"q": "Prov", "limit": 8}, timeout=5)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and isinstance(r.json(), list)


def _choose_place(page: Any, base_url: str) -> str:
    """Type a place; pick a suggestion when the places route exists (else plain text).
    Oregon: the sample corpus has partners there."""
    box = page.get_by_label("Place")
    wanted = "Portland, OR"
    if not _places_route(base_url):
        box.fill(wanted)
        return wanted
    box.press_sequentially("Portland, O", delay=60)
    options = page.locator("#place-options option")
    options.first.wait_for(state="attached", timeout=10_000)
    labels = options.evaluate_all("os => os.map(o => o.value)")
    assert wanted in labels, labels
    box.fill(wanted)  # what choosing the suggestion puts in the field
    return wanted


def test_organiser_finds_a_coalition(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(NEED)
            place = _choose_place(page, server.base_url)
            for sector in ("Business", "Government", "Nonprofit", "Community"):
                page.get_by_label(sector, exact=True).check()
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner", timeout=30_000)
            assert page.get_by_label("Place").input_value() == place

            # the coalition first, then the sectors as tabs; each organisation in full once
            members = page.locator("#coalition .partner")
            sectors = {members.nth(i).get_attribute("data-sector") for i in range(members.count())}
            assert len(sectors) >= 2, sectors
            assert page.locator("#coalition .reasons li").count() >= 2
            assert page.locator("#gaps").is_visible()
            cards = page.locator("article.partner").evaluate_all(
                "els => els.map(e => e.dataset.orgId)"
            )
            assert len(cards) == len(set(cards))
            coalition_box = page.locator("#coalition").bounding_box()
            sectors_box = page.locator("#by-sector").bounding_box()
            assert coalition_box and sectors_box and coalition_box["y"] < sectors_box["y"]

            tabs = page.get_by_role("tab")
            assert tabs.count() >= 2
            assert page.locator(".sector-panel:visible").count() == 1
            tabs.first.focus()
            page.keyboard.press("ArrowRight")
            second = tabs.nth(1)
            assert second.get_attribute("aria-selected") == "true"
            assert page.evaluate("document.activeElement.getAttribute('role')") == "tab"
            panel_id = second.get_attribute("aria-controls")
            assert page.locator(f"#{panel_id}").is_visible()
            page.keyboard.press("Home")
            assert tabs.first.get_attribute("aria-selected") == "true"

            page.screenshot(path=str(ARTIFACTS / "web-results-full.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"page scrolls sideways on a phone: {width}px"

            # the permalink reopens the same results
            link = page.locator("a.permalink")
            href = link.get_attribute("href")
            assert href and href.startswith("/r/rec_")
            link.click()
            page.wait_for_url("**" + href)
            page.wait_for_selector("#coalition .partner")
            assert (
                page.locator("article.partner").evaluate_all("els => els.map(e => e.dataset.orgId)")
                == cards
            )
            assert page.get_by_role("button", name="Run again on today's data").is_visible()

            # feedback by keyboard: the status says so and focus stays on the button
            panel = page.locator(".sector-panel:visible")
            card = panel.locator("article.partner").first
            button = card.get_by_role("button", name="Contacted")
            button.focus()
            page.keyboard.press("Enter")
            card.locator(".feedback-status").filter(has_text="Marked as contacted").wait_for(
                timeout=10_000
            )
            assert button.get_attribute("aria-pressed") == "true"
            # not signed in: the mark is kept, and the status says how to make it count
            links = card.locator(".feedback-status a")
            assert (
                "Only marks made while signed in" in card.locator(".feedback-status").inner_text()
            )
            assert links.count() == 2  # sign in, or sign up, and come back here
            assert links.nth(0).get_attribute("href") == "/login?next=" + quote(href, safe="")
            assert links.nth(1).get_attribute("href") == "/signup?next=" + quote(href, safe="")
            focused = page.evaluate("document.activeElement.textContent.trim()")
            assert "Contacted" in focused, f"focus moved to {focused!r}"
            assert button.evaluate("b => b === document.activeElement")
            page.keyboard.press("Tab")
            assert card.get_by_role("button", name="Not relevant").evaluate(
                "b => b === document.activeElement"
            ), "Tab from the button does not reach the next control of the same card"

            page.set_viewport_size({"width": 1280, "height": 900})
            page.locator("#results").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "web-permalink-desktop.png"), full_page=True)
        finally:
            browser.close()


def test_links_to_a_card_in_another_tab_open_it(server: LiveServer) -> None:
    """A link to a card in a hidden sector tab (the gaps box's partner below) changed the
    address and showed nothing; a profile's "Back to the results" went back in history, to a
    page that came before or to the first tab with the card hidden (real data walk)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page()
            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(NEED)
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#by-sector .partner", timeout=30_000)
            org_id = page.evaluate(
                """() => { const p = [...document.querySelectorAll('.sector-panel')]
                             .find(p => p.offsetParent === null);
                           const c = p && p.querySelector('article.partner');
                           return c && c.dataset.orgId; }"""
            )
            assert org_id, "no card in a hidden tab"
            assert not page.locator(f'article.partner[data-org-id="{org_id}"]').is_visible()
            # a link to it, as the gaps box writes one
            page.evaluate(
                """id => { const a = document.createElement('a');
                   a.href = '#org-' + id; a.id = 'probe'; a.textContent = 'probe';
                   document.getElementById('gaps').appendChild(a); }""",
                org_id,
            )
            page.locator("#probe").click()
            card = page.locator(f'article.partner[data-org-id="{org_id}"]')
            assert card.is_visible()
            assert card.evaluate("c => c === document.activeElement")

            # its profile, then back: the results, the card's tab open, the card shown
            card.locator("h3 a, .name a, a[href^='/organisations/']").first.click()
            page.wait_for_url("**/organisations/**")
            back = page.locator("a.back")
            assert back.inner_text() == "← Back to the results"
            back.click()
            page.wait_for_url("**/r/rec_*")
            card = page.locator(f'article.partner[data-org-id="{org_id}"]')
            card.wait_for(state="visible", timeout=10_000)
            assert card.evaluate("c => c === document.activeElement")

            # a profile opened with no results behind it: "New search" is the home page
            page.goto(server.base_url + f"/organisations/{quote(org_id)}")
            page.locator("a.back").click()
            page.wait_for_url(server.base_url + "/")
        finally:
            browser.close()


def test_feedback_and_tabs_without_javascript(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(NEED)
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner")
            assert page.locator(".sector-panel:visible").count() >= 2  # plain sections
            card = page.locator(".sector-panel article.partner").first
            org_id = card.get_attribute("data-org-id")
            card.get_by_role("button", name="Not relevant").click()
            page.wait_for_url(f"**#org-{org_id}")
            status = page.locator(f'[id="org-{org_id}"] .feedback-status')
            assert "Marked as not relevant" in status.inner_text()
        finally:
            browser.close()


def test_docs_render_without_the_network(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page()
            outside: list[str] = []

            def only_local(route: Any) -> None:
                url = route.request.url
                if url.startswith(server.base_url):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", only_local)
            page.goto(server.base_url + "/docs")
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
            assert page.locator(".opblock").count() > 10
            assert outside == [], outside
        finally:
            browser.close()
