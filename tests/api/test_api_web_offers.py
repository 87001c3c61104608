"""The profile page lists offers as matching counts them (a result's "Covers"), and apart from
them the listed offers it does not count."""

from __future__ import annotations

import html

import pytest
from api_support import hdr
from fastapi.testclient import TestClient

from api.web.offers_shown import OfferShown, offers_shown
from matcher import capabilities
from matcher.engine import Engine


def _facts(page: str) -> str:
    return html.unescape(page.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0])


def test_a_listed_offer_matching_does_not_count_is_not_shown_as_an_offer(
    client: TestClient, keys: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missoula's food bank (real IRS data) listed "volunteers", read by the importer from
    "volunteerism" in its mission; its page showed it among its offers while its card said
    "Does not cover: volunteers". (This engine's model-free embedder confirms nothing by
    meaning, so it counts every listed offer: what the real model counts is
    tests/engine/test_offers_counted.py's; here the page shows what the engine says.)"""
    real_count = {"food_supply": "refrigerated trucks for grocery deliveries", "distribution": ""}
    monkeypatch.setattr(
        engine, "offers_counted", lambda org_id: real_count if org_id == "offers-probe" else None
    )
    org = {
        "id": "offers-probe",
        "name": "Riverside Food Bank",
        "sector": "nonprofit",
        "description": "Refrigerated trucks deliver groceries to pantries across the valley.",
        # as an importer stores them: bare labels, and one written out
        "offers": ["volunteers", "refrigerated trucks for grocery deliveries"],
        "city": "Portland",
        "lat": 45.52,
        "lon": -122.6,
    }
    r = client.post("/v1/organisations", json=org, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text
    try:
        facts = _facts(client.get("/organisations/offers-probe").text)
        shown, not_counted = facts.split("<dt>Listed, not counted</dt>", 1)
        assert "volunteers" not in shown
        assert "<li>volunteers</li>" in not_counted
        assert "search results do not count on it" in not_counted
        # every offer matching counts is on the page, by the name a card's "Covers" gives it
        for key in real_count:
            assert f"<li>{capabilities.label(key)}" in shown, (key, shown)
        assert "food supply: “refrigerated trucks for grocery deliveries”" in shown
        by_meaning = '<span class="hint">(its description is about this)'
        assert f"distribution and logistics {by_meaning}" in shown
    finally:
        client.delete("/v1/organisations/offers-probe", headers=hdr(keys["editor"]))


def test_offers_shown_counts_what_matching_counts() -> None:
    counted = {"food_supply": "refrigerated trucks for grocery deliveries", "volunteers": ""}
    listed = ["volunteers", "food supply", "legal aid", "a warm welcome"]
    shown = offers_shown(listed, counted, description="Refrigerated trucks for grocery deliveries.")
    assert shown.counted == [
        OfferShown(
            "food supply",
            "refrigerated trucks for grocery deliveries",
            "description",
            "food_supply",
        ),
        OfferShown("volunteers", "", "meaning", "volunteers"),
    ]
    assert shown.not_counted == ["legal aid"]  # a capability's bare label, not counted
    assert shown.other == ["a warm welcome"]  # no capability: shown as written
    assert shown.known


def test_only_its_own_words_are_quoted() -> None:
    """Quotation marks wrapped a category field ("lodging") and words found nowhere on the
    profile (real data walk)."""
    counted = {
        "housing": "lodging",  # its field (an industry)
        "jobs": "employment and training",  # listed
        "funding": "...grants to local families",  # a quote of its description, cut
        "legal_aid": "legal help for tenants",  # in none of them
    }
    shown = offers_shown(
        ["employment and training"],
        counted,
        fields=["Lodging"],
        description="We make small grants to local families in need.",
    )
    assert [(o.phrase, o.source) for o in shown.counted] == [
        ("lodging", "field"),
        ("employment and training", "listed"),
        ("...grants to local families", "description"),
        ("", ""),
    ]


def test_a_phrase_counted_for_two_capabilities_is_one_line_naming_both() -> None:
    """An agency's page listed "public programme funding" twice, under funding and under
    public programmes (real data walk); phrases of their own stay lines of their own."""
    counted = {
        "funding": "public programme funding",
        "public_programmes": "public programme funding",
        "jobs": "jobs and work placements programmes",
        "volunteers": "",
        "training": "",
    }
    listed = ["public programme funding", "jobs and work placements programmes"]
    shown = offers_shown(listed, counted)
    assert [(o.label, o.phrase) for o in shown.lines] == [
        ("funding, public programmes and benefits", "public programme funding"),
        ("jobs and work placements", "jobs and work placements programmes"),
        ("volunteers", ""),
        ("training and education", ""),
    ]
    assert len(shown.counted) == 5  # the API still gives each capability its own entry


def test_an_organisation_not_indexed_yet_shows_its_offers_as_listed() -> None:
    shown = offers_shown(["volunteers", "food supply"], None)
    assert [o.label for o in shown.counted] == ["volunteers", "food supply"]
    assert shown.not_counted == [] and not shown.known


def test_a_profile_opened_from_a_card_goes_back_to_the_results(client: TestClient) -> None:
    """Its "Back" link went to an empty home page, not the results (real data walk)."""
    import re

    results = client.post("/", data={"text": "fresh food distribution and volunteers"})
    assert results.status_code == 200
    link = re.search(r'<a href="(/organisations/[^"?]+\?back=[^"]+)">', results.text)
    assert link, "no card links its profile"
    page = client.get(html.unescape(link.group(1)))
    assert page.status_code == 200
    back = re.search(r'<a href="([^"]*)" class="back">([^<]*)</a>', page.text)
    assert back and back.group(2) == "← Back to the results"
    rec_id = re.search(r'class="permalink" href="/r/([^"]+)"', results.text)
    assert rec_id and html.unescape(back.group(1)).startswith(f"/r/{rec_id.group(1)}#org-")
    org = link.group(1).split("?")[0]
    for foreign in ("//evil.example/r/x", "https://evil.example/", "/r/\\evil", "/login"):
        page = client.get(org, params={"back": foreign})
        assert '<a href="/" class="back">← New search</a>' in page.text, foreign
