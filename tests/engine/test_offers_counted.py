"""`Engine.offers_counted`: what matching counts as an organisation's offers, which its profile
page shows, is what its cards cover from (real model: bare labels are confirmed by meaning)."""

from __future__ import annotations

import pytest

from matcher.domain import Need, Organisation
from matcher.engine import Engine

pytestmark = pytest.mark.slow

NEEDS = [
    "Volunteers and refrigerated trucks to deliver groceries to homebound seniors",
    "Job training and mentoring for young adults leaving foster care",
    "Funding and legal aid for families facing eviction",
]


@pytest.fixture(scope="module")
def engine(sample_engine: Engine) -> Engine:
    return sample_engine


def test_a_bare_label_the_profile_does_not_bear_out_is_not_counted(engine: Engine) -> None:
    """As the IRS importer stores a food bank's offers (Missoula's: "volunteers" read from
    "volunteerism"): the label alone is not counted, the written-out offer is."""
    org = Organisation(
        id="bare-labels",
        name="Valley Food Bank",
        sector="nonprofit",
        description="Refrigerated trucks deliver groceries to pantries across the valley.",
        offers=["volunteers", "refrigerated trucks for grocery deliveries"],
        city="Portland",
        region="OR",
        country="US",
    )
    engine.create_organisation(org)
    try:
        counted = engine.offers_counted("bare-labels")
        assert counted is not None
        assert "volunteers" not in counted
        assert counted.get("food_supply") == "refrigerated trucks for grocery deliveries"
    finally:
        engine.delete_organisation("bare-labels")
    assert engine.offers_counted("bare-labels") is None


@pytest.mark.parametrize(
    "whose", [{"sources": ["irs:ein-1", "edited"]}, {"sources": ["registered"]}, {"owner": "key_1"}]
)
def test_a_bare_label_its_people_wrote_counts_as_written(
    engine: Engine, whose: dict[str, object]
) -> None:
    """Real data walk (2026-12-04, night): a pantry's admin listed "volunteers" and the cards
    still said "Does not cover: volunteers", as for an importer's reading. Written by its people
    (edited or added here, or owned), a bare label counts; the same profile from a file does
    not (above)."""
    org = Organisation.model_validate(
        {
            "id": "people-labels",
            "name": "Valley Food Bank",
            "sector": "nonprofit",
            "description": "Refrigerated trucks deliver groceries to pantries across the valley.",
            "offers": ["volunteers", "refrigerated trucks for grocery deliveries"],
            "city": "Portland",
            "region": "OR",
            "country": "US",
            **whose,
        }
    )
    engine.create_organisation(org)
    try:
        counted = engine.offers_counted("people-labels")
        assert counted is not None and counted.get("volunteers") == "volunteers"
        rec = engine.recommend(
            Need(
                text="We need volunteers and refrigerated trucks to deliver groceries",
                city="Portland",
                region="OR",
                country="US",
            ),
            limit=20,
        )
        card = next(m for m in rec.results if m.id == "people-labels")
        assert "volunteers" in card.covers
        assert not any("Does not cover: volunteers" in r for r in card.reasons)
    finally:
        engine.delete_organisation("people-labels")


def test_every_card_covers_only_offers_the_profile_page_counts(engine: Engine) -> None:
    seen = 0
    for text in NEEDS:
        rec = engine.recommend(Need(text=text), limit=10)
        matches = [*rec.results, *rec.coalition.members]
        for ms in rec.by_sector.values():
            matches.extend(ms)
        for m in matches:
            counted = engine.offers_counted(m.id)
            assert counted is not None
            assert set(m.covers) <= counted.keys(), (text, m.name, m.covers, counted)
            seen += len(m.covers)
    assert seen > 0  # some cards cover something, so the check read them


def test_a_food_bank_that_feeds_the_hungry_offers_food(engine: Engine) -> None:
    """Richland County Food Bank (MT, real IRS data): "TO FEED THE HUNGRY IN THE COMMUNITY"
    named no food stem, so it offered nothing and no food need counted it as covering food."""
    org = Organisation(
        id="feeds-the-hungry",
        name="Richland County Food Bank Inc",
        sector="nonprofit",
        description="TO FEED THE HUNGRY IN THE COMMUNITY",
        city="Sidney",
        region="MT",
        country="US",
    )
    engine.create_organisation(org)
    try:
        counted = engine.offers_counted("feeds-the-hungry")
        assert counted is not None and "food_supply" in counted, counted
    finally:
        engine.delete_organisation("feeds-the-hungry")


def test_bare_labels_an_importer_listed_do_not_hide_what_the_description_surely_names(
    engine: Engine,
) -> None:
    """JPMorgan's and Bank of America's records list only bare labels ("data and research",
    "expertise and advice") read by the importer; none was borne out, so the banks counted no
    offer at all, while their descriptions' "lending" and "financial services" surely name
    funding (real S&P 500 data). A list in the organisation's own words still stands alone."""
    base = {
        "name": "Valley Community Bank",
        "sector": "business",
        "description": "A community bank. We make low-interest loans to small businesses.",
        "city": "Portland",
        "region": "OR",
        "country": "US",
    }
    engine.create_organisation(Organisation(id="bank-bare", offers=["data and research"], **base))
    engine.create_organisation(
        Organisation(id="bank-own-words", offers=["workshops for first-time home buyers"], **base)
    )
    try:
        bare = engine.offers_counted("bank-bare")
        assert bare is not None and "funding" in bare, bare
        assert "low-interest loans" in bare["funding"]  # quoted from its description
        own = engine.offers_counted("bank-own-words")
        assert own is not None and "funding" not in own, own
    finally:
        engine.delete_organisation("bank-bare")
        engine.delete_organisation("bank-own-words")


@pytest.mark.parametrize(
    ("name", "description", "listed"),
    [
        (
            "Local Union Joint Apprenticeship and Training Trust",
            "TRAINING AND EDUCATION OF APPRENTICE SHEET METAL WORKERS IN NEW MEXICO",
            ["training and education", "jobs and work placements"],
        ),
        (
            "Silver Stallion Bicycle & Coffee Works Inc",
            "To educate and empower youth and young adults in the bicycle mechanic and "
            "specialty coffee service industries.",
            ["training and education"],
        ),
        (
            "Silver Stallion Bicycle & Coffee Works Inc",
            "To educate and empower youth and young adults in the bicycle mechanic and "
            "specialty coffee service industries.",
            [],
        ),
    ],
)
def test_a_mission_that_opens_with_a_capability_offers_it(
    engine: Engine, name: str, description: str, listed: list[str]
) -> None:
    """Real data walk (Gallup youth jobs): a sheet metal workers' apprenticeship trust "does not
    cover training and education", nor a youth bicycle-mechanic and barista school: their
    profiles as a whole sit nearer jobs, or bicycles and coffee, than training by meaning. A
    mission opening with what the organisation does is about it."""
    org = Organisation(
        id="opens-with",
        name=name,
        sector="nonprofit",
        description=description,
        offers=listed,
        sources=["irs:ein-1"],
        city="Gallup",
        region="NM",
        country="US",
    )
    engine.create_organisation(org)
    try:
        counted = engine.offers_counted("opens-with")
        assert counted is not None and "training" in counted, counted
        if "bicycle" in description and listed:
            # counted for its opening words, quoted from them rather than the bare label
            assert counted["training"].startswith("To educate"), counted
    finally:
        engine.delete_organisation("opens-with")


def test_a_mission_opening_with_other_words_is_read_as_before() -> None:
    from matcher.offers import opens_with

    assert opens_with("To educate and empower youth") == {"training"}
    assert opens_with("TRAINING AND EDUCATION OF APPRENTICE") == {"training"}
    assert opens_with("Promote healthy development alternatives for community youth.") == set()
    assert opens_with("To provide housing for families; tutoring on weekends") == {"housing"}
    laborers = (
        "To provide employment referral, refresher courses, and certifications for its members."
    )
    assert opens_with(laborers) == {"jobs", "training"}  # each item of its list (T4)
    assert opens_with("To provide child care and healthy meals to families") == {"food_supply"}
    assert opens_with("To provide educational programs to children") == {"training"}
    assert opens_with("To raise funds for nonprofits in Wilmington, DE") == set()  # it seeks
    # a company's description opens with its name: "Rentals" there is no housing (T4)
    rentals = "United Rentals, Inc., through its subsidiaries, operates as an equipment rental"
    assert opens_with(rentals, "United Rentals, Inc.") == set()
    assert opens_with("To promote education") == set()  # says little of what it does
