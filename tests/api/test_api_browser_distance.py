"""The home page's distance in a real headless Chromium (Debian package): an organiser picks
"Within 25 km" beside the place, with JavaScript and without; the results, their permalink
and the form asked again keep it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_support import LiveServer
from test_api_browser import CHROMIUM, NEED, _launch

PLACE = "Portland, OR"  # the sample has partners there, and in Salem, 75 km away

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian 'chromium' package at /usr/bin/chromium (installed by make setup)",
)


def _distances(page: Any) -> list[tuple[float | None, bool]]:
    """Each card's distance and whether it says its work covers a whole state or more."""
    out = []
    for meta in page.locator("article.partner .meta").all_inner_texts():
        found = re.search(r"(\d+) km away", meta)
        wide = "works statewide" in meta or "works nationwide" in meta
        out.append((float(found.group(1)) if found else None, wide))
    return out


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_organiser_searches_near_the_place(server: LiveServer, javascript: bool) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            context = browser.new_context(
                java_script_enabled=javascript, viewport={"width": 390, "height": 844}
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.base_url + "/")
            distance = page.get_by_label("Distance")
            assert distance.input_value() == ""  # anywhere in the state, as before
            page.get_by_label("The need, in plain words").fill(NEED)
            page.get_by_label("Place").fill(PLACE)
            distance.select_option(label="Within 25 km")
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner", timeout=30_000)

            assert page.get_by_label("Distance").input_value() == "25"
            said = page.locator("#searched-area").inner_text()
            assert said.startswith("Searched within 25 km of Portland, OR"), said
            cards = _distances(page)
            assert cards
            assert all(wide or (km is not None and km <= 25) for km, wide in cards), cards
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"page scrolls sideways on a phone: {width}px"

            href = page.locator("a.permalink").get_attribute("href")
            assert href and href.startswith("/r/")
            page.goto(server.base_url + href)
            assert page.get_by_label("Distance").input_value() == "25"
            assert "within 25 km of Portland, OR" in page.locator("#searched-area").inner_text()

            # the same need anywhere in the state reaches further (Salem, 75 km)
            page.get_by_label("Distance").select_option(value="")
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#searched-area:has-text('anywhere in OR')", timeout=30_000)
            assert max(km or 0 for km, _ in _distances(page)) > 25
            assert errors == []
        finally:
            browser.close()


def test_the_aligned_pages_distance_is_a_full_size_control(server: LiveServer) -> None:
    """The aligned page's 'Serving the area within' select was the browser's bare default
    (about 20 px high, small type) under a styled text box: hard to hit on a phone."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(server.base_url + "/")
            page.get_by_label("The need, in plain words").fill(NEED)
            page.get_by_label("Place").fill(PLACE)
            page.get_by_role("button", name="Find partners").click()
            page.wait_for_selector("#coalition .partner", timeout=30_000)
            near = page.locator("article.partner:has-text('km away')").first
            org_id = near.get_attribute("data-org-id")
            page.goto(f"{server.base_url}/organisations/{org_id}/aligned")
            distance = page.get_by_label("Serving the area within")
            focus = page.locator("form.focus input[name=focus]")
            box, text_box = distance.bounding_box(), focus.bounding_box()
            assert box is not None and text_box is not None
            assert box["height"] >= 44, box
            font = distance.evaluate("e => getComputedStyle(e).fontSize")
            assert font == focus.evaluate("e => getComputedStyle(e).fontSize"), font
            assert box["width"] <= 390
        finally:
            browser.close()
