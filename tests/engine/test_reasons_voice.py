"""Reasons name what a partner was matched against (`matcher.score.Voice`): a need by default,
a company's focus on its aligned page, the organisation's own profile for `Engine.match`. The
aligned page used to rewrite a need's reasons by string replacement and missed a sentence: a
company's offering line read "Its description's line closest to the need" on a page that shows
no need."""

from __future__ import annotations

from matcher.catalog import make_profile
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.score import Scored, Voice, reasons_for

FOCUS = Voice(subject="the focus", asked="the focus", place="Billings, MT")


def _company() -> Organisation:
    return Organisation(
        name="Grocer Corp",
        sector="business",
        description="A grocery chain. We deliver groceries to homes across the state.",
        offers=["grocery deliveries"],
        city="Laurel",
        lat=45.67,
        lon=-108.77,
    )


def _scored() -> Scored:
    return Scored(
        0,
        0.6,
        {"fit": 0.6},
        14.0,
        {"food_supply": "grocery deliveries"},
        {},
        offering=(0.9, "We deliver groceries to homes across the state"),
    )


def test_every_reason_speaks_of_the_voice_given() -> None:
    prof = make_profile(_company())
    need = Need(text="food for hungry families", lat=45.78, lon=-108.5)  # no city: a point
    required = {"food_supply": "food for hungry families"}
    said = reasons_for(_scored(), prof, need, required)
    assert any("closest to the need:" in r for r in said), said
    assert any("(asked: 'food for hungry families')" in r for r in said), said
    assert any("from the need's location" in r for r in said), said
    focus = reasons_for(_scored(), prof, need, required, voice=FOCUS)
    text = " ".join(focus)
    assert "need" not in text and "asked" not in text, focus
    assert "Its description's line closest to the focus:" in text
    assert "Covers food supply (the focus: 'food for hungry families')" in text
    assert "Based in Laurel, 14 km from Billings, MT." in text
    assert len(focus) == len(said)  # the same reasons, only worded for the page


def test_a_match_speaks_of_the_organisation_profile(engine: Engine) -> None:
    org_id = "fb-pdx"
    name = engine.store.get_organisation(org_id).record.name
    matches = engine.match(org_id, limit=5)
    assert matches
    text = " ".join(r for m in matches for r in m.reasons)
    assert "the need" not in text and "asked:" not in text, text
    assert f"matches {name}'s profile" in text, text


def test_a_page_voice_names_the_requester_and_no_place_twice() -> None:
    """ "Based in Hilo, 2 km from Hilo, HI." and "Shares focus areas with the requester" on a
    company's own aligned page (real data walk)."""
    prof = make_profile(_company())
    s = _scored()
    s.shared_focus = ["groceries"]
    in_laurel = Need(text="food for hungry families", city="Laurel", lat=45.78, lon=-108.5)
    page = Voice(
        subject="the focus",
        asked="the focus",
        place="Laurel, MT",
        point=None,
        requester="Grocer Corp",
    )
    said = reasons_for(s, prof, in_laurel, {}, voice=page)
    assert "Based in Laurel, 14 km away." in said, said
    assert "Shares focus areas with Grocer Corp: groceries." in said, said
    default = reasons_for(s, prof, in_laurel, {})
    assert "Based in Laurel, 14 km from the need's location." in default, default
    assert "Shares focus areas with the requester: groceries." in default, default


def test_a_partner_in_the_same_place_is_less_than_1_km_away() -> None:
    """The card said "office less than 1 km away" beside the reason "Based in Ashland, 0 km
    from the need's location" (real data walk, 2026-12-06)."""
    prof = make_profile(_company())
    s = _scored()
    s.distance_km = 0.3
    said = reasons_for(s, prof, Need(text="food for hungry families", lat=45.78, lon=-108.5), {})
    assert "Based in Laurel, less than 1 km from the need's location." in said, said
    s.distance_km = 0.5
    said = reasons_for(s, prof, Need(text="food for hungry families", lat=45.78, lon=-108.5), {})
    assert "Based in Laurel, 0 km from the need's location." not in said, said
