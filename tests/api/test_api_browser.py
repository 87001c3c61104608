"""The web page in a real headless Chromium (Debian package) driven by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import ROOT, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)


def test_organiser_finds_a_coalition(server: LiveServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(
                "Families on the east side skip meals at the end of the month; we need weekly "
                "fresh food distribution, volunteers and funding."
            )
            page.get_by_label("City").fill("Portland")
            page.get_by_label("Latitude").fill("45.52")
            page.get_by_label("Longitude").fill("-122.6")
            page.get_by_label("Radius (km)").fill("60")
            for sector in ("Business", "Government", "Nonprofit", "Community"):
                page.get_by_label(sector, exact=True).check()
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner", timeout=30_000)

            members = page.locator("#coalition .partner")
            sectors = {members.nth(i).get_attribute("data-sector") for i in range(members.count())}
            assert len(sectors) >= 2, sectors
            assert page.locator("#coalition .reasons li").count() >= 2
            assert page.locator("#by-sector .partner .bar .seg").count() > 0
            assert page.locator("#gaps").is_visible()

            first = page.locator("#by-sector .partner").first
            first.get_by_role("button", name="Contacted").click()
            status = first.locator(".feedback-status")
            status.filter(has_text="contacted").wait_for(timeout=10_000)

            page.screenshot(path=str(ARTIFACTS / "web-results-full.png"), full_page=True)
            page.locator("#coalition").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "web-coalition.png"))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"page scrolls sideways on a phone: {width}px"
        finally:
            browser.close()
