"""Place words in a need's text; geocoding organisations on write."""

from __future__ import annotations

from matcher import places
from matcher.domain import Organisation
from matcher.places.locate import locate


def test_place_words_of_the_needs_own_place_and_its_state() -> None:
    dover = places.resolve("Dover, DE")
    text = "Flooding keeps damaging homes in Dover, Delaware near the Kent County line"
    words = [w.text for w in places.place_words(text, dover)]
    assert "Dover, Delaware" in words or ("Dover" in words and "Delaware" in words)
    assert any("Kent County" in w for w in words)
    assert "Flooding" not in " ".join(words)
    assert "dover" not in places.topic_text(text, dover).lower()
    assert "flooding keeps damaging homes" in places.topic_text(text, dover).lower()


def test_other_towns_of_the_state_and_name_state_pairs() -> None:
    ri = places.resolve("Providence, RI")
    text = "Childcare for working parents in Pawtucket and Central Falls"
    assert [w.text for w in places.place_words(text, ri)] == ["Pawtucket", "Central Falls"]
    # without a place: "<Name>, <state>" still counts, common words do not
    assert [w.text for w in places.place_words("Help families in Dover, DE with food")] == [
        "Dover, DE"
    ]
    assert places.place_words("We need food and warm coats") == []


def _org(**kw: object) -> Organisation:
    return Organisation.model_validate(
        {"id": "o", "name": "N", "sector": "nonprofit", "description": "d", **kw}
    )


def test_locate_zip_first_then_city() -> None:
    by_zip = locate(_org(postcode="02903-1234", city="Somewhere", region="Rhode Island"))
    assert by_zip.warning is None
    assert (by_zip.org.region, by_zip.org.country) == ("RI", "US")
    assert by_zip.org.lat == places.resolve("02903").lat
    lost_zero = locate(_org(postcode="2903", region="RI", country="US"))
    assert lost_zero.org.lat == places.resolve("02903").lat and lost_zero.org.city == "Providence"
    by_city = locate(_org(city="Great Falls", region="MT", country="USA"))
    assert by_city.org.country == "US" and by_city.org.lat == places.resolve("Great Falls, MT").lat


def test_locate_keeps_given_points_and_warns_when_nothing_geocodes() -> None:
    given = locate(_org(lat=1.0, lon=2.0, region="rhode island", postcode="02903"))
    assert (given.org.lat, given.org.lon, given.org.region) == (1.0, 2.0, "RI")
    bad = locate(_org(postcode="00000", city="Nowhereville", region="RI", country="US"))
    assert bad.org.lat is None
    assert bad.warning and "00000" in bad.warning and "Nowhereville" in bad.warning
    # no country and no US state: a 5-digit postcode is not taken for a US ZIP
    abroad = locate(_org(postcode="10115", city="Berlin"))
    assert abroad.org.lat is None and abroad.warning is None
    assert locate(_org(city="Berlin", country="Germany")).org.lat is not None


def test_a_state_before_the_next_sentence_still_names_the_place() -> None:
    """ "Our program is in Salem, OR. We need mentors": the next sentence's "We" was read as
    part of the state ("OR. We"), so no place was named (its comma not held, the page not
    told where the group is)."""
    from matcher.places.words import hold_place_commas, places_named

    for text, named in [
        ("Our program is in Salem, OR. We need mentors", "Salem, OR"),
        ("Our program is in Salem, Oregon. We need mentors", "Salem, Oregon"),
        ("We work in Washington, D.C. and need funding", "Washington, D.C."),
        ("Youth in Gallup, NM need jobs", "Gallup, NM"),
        ("Women entrepreneurs in Española, NM need microloans", "Española, NM"),  # accented
    ]:
        assert places_named(text) == [named], text
        assert hold_place_commas(text).count(",") == text.count(",") - 1, text
    # the sentence's full stop is kept: the topic still has two sentences
    assert places.topic_text("Our program is in Salem, OR. We need mentors").endswith(
        ". We need mentors"
    )


def test_a_town_and_its_state_code_without_the_comma_name_the_place() -> None:
    """Real data walk (2026-12-06): "Our reentry program in Salem OR needs mentors" named no
    place, so the page searched every state. The code counts in capitals, after a town of
    that state, and not in text all in capitals ("SALEM OR PORTLAND": a choice of towns)."""
    from matcher.places.words import hold_place_commas, places_named

    for text, named in [
        ("Our reentry program in Salem OR needs mentors", ["Salem, OR"]),
        ("Food for Las Cruces NM families", ["Las Cruces, NM"]),
        ("Youth in Eugene OR. We need jobs", ["Eugene, OR"]),  # before a full stop
        ("Meals in Albuquerque, NM and Santa Fe NM", ["Albuquerque, NM", "Santa Fe, NM"]),
        ("We need help OR we close", []),  # no town before it
        ("Call ABC NM now", []),  # no town of New Mexico
        ("FOOD FOR FAMILIES IN SALEM OR PORTLAND", []),
        ("Kids in Salem or Portland need coats", []),  # "or" in lower case
        ("Salem ORGANIZERS need space", []),
    ]:
        assert places_named(text) == named, text
    assert places.topic_text("Our reentry program in Salem OR needs mentors") == (
        "Our reentry program in needs mentors"
    )
    # no comma to hold: the text is cut as before
    assert hold_place_commas("Salem OR needs mentors, drivers") == "Salem OR needs mentors, drivers"


def test_the_places_a_text_names_once_each() -> None:
    from matcher.places.words import places_named

    assert places_named("Salem, OR helps Salem, Oregon and Portland, OR") == [
        "Salem, OR",
        "Portland, OR",
    ]
    assert places_named("Acme, Inc needs funding; salem, or portland") == []
    assert places_named("Salem, or Portland, need") == []  # "or" is no state


def test_a_state_s_name_before_city_or_county_is_a_town_or_county() -> None:
    """ "Youth in Kansas City need jobs" was read in Kansas (Kansas City, KS, not Missouri's far
    larger one), and its topic kept "City"; "Delaware County" named Delaware (second review,
    2026-12-06)."""
    from matcher.places.towns import town_choices, town_read
    from matcher.places.words import states_named

    kansas_city = "Youth in Kansas City need jobs"
    assert states_named(kansas_city) == frozenset()
    assert town_read(kansas_city) == "Kansas City, MO"
    assert [w.text for w in places.place_words(kansas_city)] == ["Kansas City"]
    assert places.topic_text(kansas_city) == "Youth in need jobs"
    assert town_read("Families in Oregon City need rent help") == "Oregon City, OR"
    delaware = "Seniors in Delaware County need rides"
    assert states_named(delaware) == frozenset() and "Delaware County, PA" in town_choices(delaware)
    # the state itself is still read
    assert states_named("Kansas farmers need grain storage") == {"KS"}
    assert states_named("Students in Carson City, Nevada need tutors") == {"NV"}


def test_the_newspapers_abbreviations_of_states_are_read() -> None:
    """helper-75's walk: "Our shelter in Cheyenne, Wyo needs beds" named no place."""
    from matcher.places.words import places_named

    assert places_named("Our shelter in Cheyenne, Wyo. needs beds") == ["Cheyenne, Wyo"]
    assert places.resolve("Cheyenne, Wyo").label == "Cheyenne, WY"
    assert places.resolve("Hartford, Conn.").label == "Hartford, CT"
    assert places_named("Salem, Ore. youth need jobs") == ["Salem, Ore"]
