"""Known answers on the bundled sample corpus with the real embedding model."""

from __future__ import annotations

import pytest

from matcher.capabilities import capabilities_in
from matcher.domain import Filters, Need
from matcher.engine import Engine

pytestmark = pytest.mark.slow

PORTLAND = (45.515, -122.679)
MANCHESTER = (53.480, -2.242)


def asks_of(engine: Engine, *texts: str) -> list[set[str]]:
    """The capabilities each need text asks for, as `recommend` reads them."""
    return [set(engine.recommend(Need(text=t), limit=3).required_capabilities) for t in texts]


def test_sample_loads_completely(sample_engine: Engine) -> None:
    stats = sample_engine.stats()
    assert stats["organisations"] >= 1000 and stats["needs"] >= 60


def test_food_insecurity_in_portland_puts_local_food_banks_and_grocers_first(
    sample_engine: Engine,
) -> None:
    need = Need(
        text="Families in our neighbourhood are going hungry at the end of the month. "
        "We need fresh food, a weekly food distribution and volunteers.",
        lat=PORTLAND[0],
        lon=PORTLAND[1],
        radius_km=40,
    )
    rec = sample_engine.recommend(need, limit=10)
    top5 = rec.results[:5]
    assert all(m.distance_km is not None and m.distance_km <= 40 for m in rec.results)
    text = " ".join(f"{m.name} {' '.join(m.reasons)}" for m in top5).lower()
    assert "food" in text
    assert any(m.sector in {"nonprofit", "community"} and "food_supply" in m.covers for m in top5)
    biz = rec.by_sector.get("business", [])
    assert biz and "food_supply" in biz[0].covers  # a grocery/food business leads its sector
    sectors = {m.sector for m in rec.coalition.members}
    assert {"business", "government"} & sectors and len(sectors) >= 2


def test_jobs_need_in_manchester_finds_workforce_partners(sample_engine: Engine) -> None:
    need = Need(
        text="Young people leaving school here can't find work. We want apprenticeships, "
        "job training and employers willing to hire locally.",
        lat=MANCHESTER[0],
        lon=MANCHESTER[1],
        radius_km=30,
    )
    rec = sample_engine.recommend(need, filters=Filters(country="GB"), limit=10)
    assert all(m.country == "GB" for m in rec.results)
    assert sum("jobs" in m.covers or "training" in m.covers for m in rec.results[:5]) >= 3


RIDE_NEED = (
    "Older adults in our valley miss medical appointments because there is no bus. "
    "We need volunteer drivers, a wheelchair-accessible van and funding for fuel."
)


def test_a_ride_need_asks_for_transport_and_transit_partners_cover_it(
    sample_engine: Engine,
) -> None:
    """Drivers and a van were read as volunteers and funding only, so no transit partner counted
    as covering the need and transport was missing from its gaps."""
    need = Need(text=RIDE_NEED, lat=PORTLAND[0], lon=PORTLAND[1], radius_km=40)
    rec = sample_engine.recommend(need, limit=10)
    assert {"distribution", "volunteers", "funding"} <= set(rec.required_capabilities)
    assert rec.coalition.covered.get("distribution")
    assert any(m.sector == "government" and "distribution" in m.covers for m in rec.results)


def test_rides_and_shuttles_are_asks_but_drivers_of_poverty_and_vanilla_are_not(
    sample_engine: Engine,
) -> None:
    asked = asks_of(
        sample_engine,
        "Veterans miss clinic appointments because they have no ride. "
        "We need drivers for medical visits and short-term housing.",
        "We need a shuttle to take kids to the after-school program, and tutors.",
        "We want to study the root drivers of poverty in our county and need data analysts.",
        "Our bakery co-op wants vanilla, flour and a vantage point at the market.",
        "We need refrigerated trucks and a warehouse to move donated food to rural pantries.",
    )
    ride, shuttle, poverty, bakery, freight = asked
    assert "distribution" in ride and "housing" in ride
    assert "distribution" in shuttle and "training" in shuttle
    assert "distribution" not in poverty and "distribution" not in bakery
    assert "distribution" in freight  # moving goods is still read


def test_a_lists_short_items_are_read_as_asks(sample_engine: Engine) -> None:
    """Clauses under 8 characters were dropped before the asks were read, so "funding" in
    "upgrades, funding and volunteers" (a Hartford need), "mentors" and "a van" asked nothing."""
    asked = asks_of(
        sample_engine,
        "Low-income homeowners live in drafty old houses and pay too much for heat. "
        "We need energy efficiency upgrades, funding and volunteers.",
        "Our youth center needs help. We need funding, volunteers and a van.",
        "We run an after-school program for refugee kids. We are looking for grants and mentors.",
        "Elderly residents cannot afford heating oil this winter. We need money for fuel.",
    )
    upgrades, youth, refugees, fuel = asked
    assert {"energy", "funding", "volunteers"} <= upgrades
    assert {"funding", "volunteers", "distribution"} <= youth
    assert {"funding", "volunteers"} <= refugees
    assert "funding" in fuel


def test_a_gift_of_goods_asks_for_the_goods_and_the_coalition_seeks_no_funder(
    sample_engine: Engine,
) -> None:
    """A Providence food need ("We need food donations, drivers and volunteers") asked funding,
    so the coalition looked for funders: "donation" named funding, and the clause, near
    funding's "donations" by meaning, confirmed it. Donated goods ask for the goods; donations
    that name no good stay funding."""
    food = Need(
        text="Families here run out of food before the end of the month. Our pantry is open "
        "three days a week. We need food donations, drivers and volunteers.",
        lat=PORTLAND[0],
        lon=PORTLAND[1],
        radius_km=40,
    )
    rec = sample_engine.recommend(food, limit=10)
    assert {"food_supply", "distribution", "volunteers"} <= set(rec.required_capabilities)
    assert "funding" not in rec.required_capabilities
    assert "funding" not in rec.coalition.covered and "funding" not in rec.coalition.gaps
    asked = asks_of(
        sample_engine,
        "We need volunteers, food donations and a van.",
        "Our after-school program needs donated laptops and tutors.",
        "We rely on donations and need more of them.",
        "We need monetary donations to keep the pantry open.",
    )
    listed, laptops, bare, monetary = asked
    assert "funding" not in listed and "food_supply" in listed
    assert "technology" in laptops and "funding" not in laptops
    assert "funding" in bare and "funding" in monetary


def test_business_finds_aligned_nonprofits(sample_engine: Engine) -> None:
    biz = next(
        p.org
        for p in sample_engine.catalog.profiles
        if p is not None and p.org.sector.value == "business" and p.org.needs
    )
    results = sample_engine.match(biz.id, sectors=["nonprofit"], limit=5)
    assert len(results) == 5 and all(m.sector == "nonprofit" for m in results)
    assert results[0].score >= results[-1].score


def test_loans_ask_for_funding_and_loaner_laptops_do_not(sample_engine: Engine) -> None:
    """ "low-interest loans" named funding but its clause was too far from funding by meaning to
    be confirmed, so a wildfire rebuilding need asked no funding."""
    asked = asks_of(
        sample_engine,
        "After the wildfire many families still live in trailers. We want to rebuild "
        "homes and need carpenters, low-interest loans, and caseworkers.",
        "Shop owners cannot get bank loans. We are looking for microloans and coaching.",
        "Seniors in our town have no internet at home. We need loaner laptops and hotspots.",
    )
    rebuild, shops, seniors = asked
    assert "funding" in rebuild
    assert "funding" in shops
    assert "funding" not in seniors and "technology" in seniors


def test_funding_named_in_an_ask_is_asked_and_told_funding_is_not(sample_engine: Engine) -> None:
    """With the real model: T4's Gallup need (here on the sample, whose corpus mean already let
    funding through; on the T4 catalog it asked nothing, see test_capability_meaning) asks
    funding, and a sentence that only tells of funding (no ask in it, beside sentences that
    ask) asks none though "funding" is a sure word."""

    def asks(text: str) -> set[str]:
        return set(sample_engine.recommend(Need(text=text), limit=3).required_capabilities)

    assert "funding" in asks(
        "Hundreds of households around our town still haul drinking water in barrels because "
        "their homes were never connected to a water line. We need well testing, engineers "
        "and funding to extend water lines or install cisterns, and safe storage tanks for "
        "families."
    )
    assert "funding" not in asks(
        "Funding cuts closed our food pantry last spring. We need volunteers to reopen it."
    )


def test_asks_for_clothing_and_hygiene_goods_are_read_and_groceries_or_a_couch_are_not(
    sample_engine: Engine,
) -> None:
    """The goods capability with the real model: read from a clothing bank's and a shelter's
    asks; not from a gift of groceries (a description that began "donated goods" drew every
    donation to it) nor from a relative's couch as a place to sleep (a furniture sense did),
    both seen on T4's real needs."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    clothing = asks("Our clothing bank needs donations of coats, shoes and school uniforms.")
    assert "goods" in clothing and "funding" not in clothing
    assert "goods" in asks("We need overflow beds and donated coats, socks and hygiene kits.")
    pantry = asks(
        "Our church food pantry runs out of canned goods and meat by Wednesday. We need "
        "regular donations of groceries and protein, plus volunteers for Saturday distributions."
    )
    assert "food_supply" in pantry and "goods" not in pantry
    shelter = asks(
        "Women leaving abusive homes often have nowhere safe to go but a relative's couch. "
        "Our group needs emergency shelter rooms and court advocates."
    )
    assert "housing" in shelter and "goods" not in shelter


def test_a_child_care_need_asks_child_care_not_health_services(sample_engine: Engine) -> None:
    """T4's Honolulu need (open a licensed child care centre) asked no child care, and its
    "infant and toddler care" read as health services, so health agencies were said to cover
    it. With the real model, child care is asked and nothing in it asks health services."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    centre = asks(
        "Parents wait a year for a spot in infant and toddler care, and some have had to quit "
        "their jobs. We want to open a small licensed child care center and need start-up "
        "funding, trained caregivers and help with licensing."
    )
    assert "child_care" in centre and "funding" in centre and "regulatory" in centre
    assert "healthcare" not in centre
    assert "jobs" not in centre  # the problem told, not asked (matcher.telling)
    assert "child_care" not in asks("Our adult day care program needs volunteer drivers.")


def test_home_care_for_older_people_asks_health_care_not_goods(sample_engine: Engine) -> None:
    """ "home care aides for older people" and "respite for family caregivers" asked clothing
    and household goods: the goods capability had a "personal care products" sense, near any
    care by meaning. Now they ask health services (its sense of home care and caregivers),
    and personal care items stay goods, not health care."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    for text in ("home care aides for older people", "respite for family caregivers"):
        asked = asks(text)
        assert "healthcare" in asked and "goods" not in asked, (text, asked)
    shelter = asks("toiletries and personal care items for shelter guests")
    assert "goods" in shelter and "healthcare" not in shelter
    assert "goods" not in asks("pet food and foster homes for stray dogs")


def test_telehealth_and_doctors_ask_health_services(sample_engine: Engine) -> None:
    """ "Elders in Miles City need telehealth visits with doctors; the nearest hospital is two
    hours away." asked nothing at all (real data walk): neither word was a health stem."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    for text in (
        "Elders in Miles City need telehealth visits with doctors; the nearest hospital is two "
        "hours away.",
        "We need telehealth for rural elders",
        "Our families need a dentist who takes Medicaid",
    ):
        assert "healthcare" in asks(text), text


def test_help_with_groceries_asks_food_not_goods(sample_engine: Engine) -> None:
    """ "Kupuna need rides to the clinic and help with groceries" asked clothing and household
    goods beside food supply (real data walk, Hilo): groceries are near goods by meaning. An
    ask for goods read from words of food yields to food supply when the need asks food too
    (tests/engine/test_capabilities.py: coats beside groceries are still goods)."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    for text in (
        "Kupuna need rides to the clinic and help with groceries.",
        "help with groceries",
        "We need donations of groceries and hot meals for families",
    ):
        asked = asks(text)
        assert "food_supply" in asked and "goods" not in asked, (text, asked)


def test_a_broken_freezer_asks_equipment(sample_engine: Engine) -> None:
    """Both freezer needs of the real data walk (Billings) read "No specific kind of help was
    recognised"."""
    for text in (
        "Our food pantry serves 300 families a week, but our freezer broke and we need a new one",
        "Our pantry needs a new freezer",
    ):
        assert "equipment" in sample_engine.read_need(Need(text=text)).required, text


def test_things_no_stem_names_are_asked_as_equipment(sample_engine: Engine) -> None:
    """Real data walks: a drought need for "water tanks, seeds and advice" asked only advice;
    "air purifiers" in a heat wave read as energy alone; a generator after a storm asked
    nothing but disaster help."""
    for text in (
        "Farmers lost crops to drought and need water tanks, seeds and advice",
        "During heat waves our seniors need air purifiers",
        "We need a generator and water tanks after the storm",
        # asked nothing (helper walk, 2026-12-06)
        "Older residents in Coos Bay need smoke detectors installed in their homes",
        "Our neighbourhood needs smoke alarms and carbon monoxide detectors",
    ):
        assert "equipment" in sample_engine.read_need(Need(text=text)).required, text
    # "seed funding" asks money, not seeds
    asked = sample_engine.read_need(Need(text="Our tenants need seed funding for a co-op"))
    assert "equipment" not in asked.required and "funding" in asked.required


def test_a_cooling_or_warming_center_asks_space(sample_engine: Engine) -> None:
    """Heat-wave and winter needs asked no space for the centre they named (one read energy
    by meaning alone)."""
    for text in (
        "During heat waves our seniors need air purifiers and a cooling center",
        "We need a cooling centre and bottled water for the heat wave",
        "Our shelter needs a warming center for winter nights",
    ):
        assert "facilities" in sample_engine.read_need(Need(text=text)).required, text


def test_more_places_to_cool_or_warm_ask_space_and_no_heating(sample_engine: Engine) -> None:
    """A walk on real data: "a heating center" asked energy, "a cooling site" nothing, and "Our
    warming center needs blankets" asked energy by meaning (Carrier joined a shelter's
    coalition)."""
    for text in (
        "We need a heating center for winter nights",
        "We need a cooling site for seniors",
    ):
        asked = sample_engine.read_need(Need(text=text)).required
        assert "facilities" in asked and "energy" not in asked, (text, asked)
    for text in ("Our warming center needs blankets", "We want to open a warming center"):
        assert "energy" not in sample_engine.read_need(Need(text=text)).required, text
    # heating named by its own words still asks energy
    asked = sample_engine.read_need(
        Need(text="Our warming center needs insulation and a heat pump")
    )
    assert "energy" in asked.required


def test_figures_of_speech_are_not_things_and_named_things_are(sample_engine: Engine) -> None:
    """Real data walk: "plant the seeds of leadership" asked equipment; fans, water filters,
    refrigeration and a grant asked nothing."""
    asked = sample_engine.read_need(
        Need(text="Our youth program wants to plant the seeds of leadership in teens")
    ).required
    assert "equipment" not in asked, asked
    for text in (
        "Seniors need fans during heat waves",
        "Our families need water filters after the flood",
        "Our food co-op needs refrigeration",
    ):
        assert "equipment" in sample_engine.read_need(Need(text=text)).required, text
    assert (
        "funding"
        in sample_engine.read_need(Need(text="We need a grant for a tenant union")).required
    )


def test_medical_supplies_and_wheelchairs_are_equipment_not_goods_care_or_rides(
    sample_engine: Engine,
) -> None:
    """Real data walks: "medical supplies" asked clothing and household goods by meaning
    (Dollar General named for a free clinic), or health services alone; "We need wheelchairs"
    read as transport for people."""
    for text in (
        "Our free clinic needs medical supplies and volunteer nurses",
        "We need first aid kits and medical supplies for the shelter",
        "We need wheelchairs and medical equipment for seniors",
    ):
        asked = sample_engine.read_need(Need(text=text)).required
        assert "equipment" in asked, (text, asked)
        assert not {"goods", "distribution"} & set(asked), (text, asked)
    asked = sample_engine.read_need(Need(text="We need medical supplies for seniors")).required
    assert "healthcare" not in asked, asked
    van = sample_engine.read_need(Need(text="We need a wheelchair-accessible van for seniors"))
    assert "distribution" in van.required and "equipment" not in van.required, van.required


def test_english_classes_furnaces_and_a_playing_field_ask_what_they_are(
    sample_engine: Engine,
) -> None:
    """A walk of real needs: "Immigrant families in Providence need English classes" asked
    legal aid and no language; "replacing furnaces" after a flood no energy; "a field to play
    on" for a soccer league nothing, and its "equipment" clothing and household goods too."""
    english = "Immigrant families in Providence need English classes and help with job applications"
    asked = sample_engine.read_need(Need(text=english)).required
    assert "language" in asked and "legal_aid" not in asked, asked
    asylum = "Refugee families need help with their asylum cases"
    assert "legal_aid" in sample_engine.read_need(Need(text=asylum)).required
    flood = "After the flood, families need help cleaning out basements and replacing furnaces"
    assert "energy" in sample_engine.read_need(Need(text=flood)).required
    soccer = "We run a youth soccer league and need coaches, equipment and a field to play on"
    asked = sample_engine.read_need(Need(text=soccer)).required
    assert {"equipment", "facilities"} <= set(asked) and "goods" not in asked, asked
    # a trade trained for is no heating asked (T4's South Valley need)
    trades = "We're looking for pre-apprenticeships in construction and heating and cooling trades"
    assert "energy" not in sample_engine.read_need(Need(text=trades)).required


def test_a_second_walk_s_needs_read_what_they_ask(sample_engine: Engine) -> None:
    """A helper's walk of real data: "we need water and fans" lost "fans" (a short item named
    only by a word sure in asks); "beds and showers" for a homeless shelter, "bottled water" in
    a heat wave and wells "tested for uranium" asked nothing; "help paying heating bills"
    asked no money; "legal advice for renters" asked housing, and an apartment company joined
    the coalition for it."""
    for text, wanted in (
        ("Volunteers will staff the cooling center; we need water and fans", {"equipment"}),
        ("Our homeless shelter needs beds and showers", {"housing", "facilities"}),
        ("During heat waves our seniors need bottled water", {"food_supply"}),
        ("Families haul water and need their wells tested for uranium", {"environment"}),
        ("Older residents need help paying heating bills this winter", {"funding", "energy"}),
    ):
        asked = sample_engine.read_need(Need(text=text)).required
        assert wanted <= set(asked), (text, asked)
    renters = sample_engine.read_need(Need(text="We need legal advice for renters facing eviction"))
    assert "legal_aid" in renters.required and "housing" not in renters.required
    flowers = sample_engine.read_need(Need(text="Our garden club needs flower beds and seeds"))
    assert "housing" not in flowers.required, flowers.required
    # older residents are who is helped: no health care by the home care sense, unless care
    # is named
    bills = "Older residents need help paying heating bills and weatherizing their homes"
    assert "healthcare" not in sample_engine.read_need(Need(text=bills)).required
    for text in ("Seniors need caregivers at home", "Seniors need help with bathing"):
        assert "healthcare" in sample_engine.read_need(Need(text=text)).required, text


def test_where_the_help_goes_is_not_asked(sample_engine: Engine) -> None:
    """ "We need hygiene supplies for the shelter" asked housing and equipment, "Volunteers will
    staff the cooling center" space: the place the help is for, or where it works, is not what
    is asked (real data walk). Near it by meaning, it still is: beds for a shelter are
    housing; and "run a food rescue route" asks food (T4's Portland need)."""
    for text, where, wanted in (
        ("We need hygiene supplies for the shelter", "housing", "goods"),
        ("We need volunteers to staff the cooling center this summer", "facilities", "volunteers"),
        ("We need volunteers for the food pantry", "food_supply", "volunteers"),
        ("We need a connectivity solution for the building", "facilities", "technology"),
    ):
        asked = sample_engine.read_need(Need(text=text)).required
        assert where not in asked and wanted in asked, (text, asked)
    asked = sample_engine.read_need(Need(text="We need hygiene supplies for the shelter")).required
    assert "equipment" not in asked, asked
    assert "housing" in sample_engine.read_need(Need(text="We need beds for the shelter")).required
    rescue = "We want to run a food rescue route with a refrigerated van"
    assert "food_supply" in sample_engine.read_need(Need(text=rescue)).required


def test_the_words_naming_the_group_are_not_asked_for(sample_engine: Engine) -> None:
    """By meaning too: "Our food bank needs volunteers" asked food supply (real data walk)."""
    for text, own in (
        ("Our food bank needs volunteers and a forklift", "food_supply"),
        ("Our homeless shelter needs volunteers for night shifts", "housing"),
    ):
        asked = sample_engine.read_need(Need(text=text)).required
        assert own not in asked and "volunteers" in asked, (text, asked)


def test_a_group_named_with_its_place_asks_nothing_by_its_name_and_is_not_quoted(
    sample_engine: Engine,
) -> None:
    """Real data walk (Portland): "Our youth job programme in Portland, Oregon needs ..." was
    cut at the place's comma and asked public programmes by the group's name; with the cut
    mended, its cards still quoted the name for jobs ("asked: 'Our youth job programme in
    Portland, Oregon needs ...'")."""
    text = (
        "Our youth job programme in Portland, Oregon needs local employers to host summer "
        "interns and funding for stipends"
    )
    asked = sample_engine.read_need(Need(text=text)).required
    assert set(asked) == {"jobs", "funding"}, asked
    assert not any("programme" in quote for quote in asked.values()), asked
    # "The ..." names the group too; held in one clause with its place, the pantry's name had
    # hidden the volunteers it asks for, and asked food supply (second walk)
    pantry = (
        "The Eastside food pantry in Albuquerque, NM needs volunteers, a refrigerated van and "
        "help enrolling families in SNAP"
    )
    asked = sample_engine.read_need(Need(text=pantry)).required
    assert "volunteers" in asked and "food_supply" not in asked, asked
    assert asked["volunteers"] == "needs volunteers"


def test_help_to_reach_a_named_benefit_is_an_ask_for_public_programmes(
    sample_engine: Engine,
) -> None:
    """Real data walk (Albuquerque): "help enrolling people in SNAP" asked nothing, so no
    partner was credited with it and the page did not say it went unread. A cold snap is no
    benefit."""
    asked = asks_of(
        sample_engine,
        "Families can't get fresh food; we need a van for deliveries and help enrolling "
        "people in SNAP.",
        "Seniors lose their Medicaid coverage because nobody helps them renew it.",
        "A cold snap hit town and seniors need warm blankets.",
    )
    snap, medicaid, cold = asked
    assert {"public_programmes", "distribution"} <= snap
    assert "public_programmes" in medicaid
    assert "public_programmes" not in cold


def test_buying_from_diverse_suppliers_asks_no_logistics(sample_engine: Engine) -> None:
    """Real data walk: Intel's focus "supplier diversity: buying from minority-owned and
    women-owned small businesses ..." was read as asking distribution and logistics (and
    clothing and household goods), so every aligned card said "Does not cover: distribution and
    logistics". A supply chain still is."""
    focus = (
        "supplier diversity: buying from minority-owned and women-owned small businesses and "
        "social enterprises that hire people facing barriers to employment"
    )
    asked = sample_engine.read_need(Need(text=focus)).required
    assert "distribution" not in asked and "goods" not in asked, asked
    chain = "We need help with our supply chain and deliveries to rural stores"
    assert "distribution" in sample_engine.read_need(Need(text=chain)).required


def test_home_repair_asks_housing_not_health_care(sample_engine: Engine) -> None:
    """Real data walk (2026-12-06): "I want to find a home repair volunteer program" asked
    health services (by the home care sense) and no housing; repairing a home is neither."""

    def asks(text: str) -> dict[str, str]:
        return sample_engine.read_need(Need(text=text)).required

    for text in (
        "I want to find a home repair volunteer program",
        "We need volunteers for home repairs",
        "Low-income seniors in our neighborhood need home repairs: roofs, ramps and heating",
    ):
        assert "healthcare" not in asks(text), (text, asks(text))
    assert "housing" in asks("We need volunteers for home repairs")
    assert "housing" in capabilities_in("Habitat's home repair program fixes roofs")
    # care at home is still care
    assert "healthcare" in asks("Seniors need caregivers at home")
