"""A town a need names without its state ("Our rural clinic in Taos needs nurses") is read
where only one state has a town of that name, or only one of the states the data holds does
(real data walk, 2026-12-06: "In Medford" and "Espanola" without "NM" searched every state)."""

from __future__ import annotations

import pytest

from matcher.places.towns import town_choices, town_read, towns_named

NM_OR = {"NM", "OR"}.__contains__  # a catalog of New Mexico's and Oregon's organisations


def test_a_town_only_one_state_has_is_read() -> None:
    assert town_read("Our rural clinic in Taos needs nurses.") == "Taos, NM"
    assert town_read("Our clinic in Taos. We need nurses") == "Taos, NM"  # the sentence ends
    assert town_read("We work in Santa Fe County with seniors") == "Santa Fe County, NM"
    assert town_choices("Our rural clinic in Taos needs nurses.") == []


def test_a_town_of_several_states_is_asked_about_unless_the_data_holds_one() -> None:
    text = "In Medford we need a van for food deliveries."  # "In" opening the sentence too
    assert town_read(text) is None
    choices = town_choices(text)
    assert "Medford, OR" in choices and "Medford, MA" in choices and len(choices) <= 5
    # the states the data holds decide: Oregon's Medford in a catalog of NM and OR
    assert town_read(text, NM_OR) == "Medford, OR" and town_choices(text, NM_OR) == []
    espanola = "Our office near Espanola needs a freezer."  # Española, NM and Espanola, WA
    assert town_read(espanola) is None and town_read(espanola, NM_OR) == "Espanola, NM"
    # data held in several of the states: asked about
    assert town_choices("Our library in Hillsboro needs laptops", NM_OR) == [
        "Hillsboro, OR",
        "Hillsboro, NM",
    ]
    # one far larger than the others is the one meant: the capital beside a village
    assert town_read("Our pantry in Salem needs a truck", NM_OR) == "Salem, OR"
    assert town_read("Help us outside of Portland") == "Portland, OR"  # not Maine's


def test_a_famous_city_elsewhere_is_not_swapped_for_a_village_the_data_holds() -> None:
    """helper-72's walk (2026-12-06): "We run a homeless shelter in Phoenix" on New Mexico's
    and Oregon's data read Phoenix, OR; Columbus, Las Vegas and Ontario likewise."""
    assert town_read("We run a homeless shelter in Phoenix and need cots", NM_OR) == "Phoenix, AZ"
    assert town_read("Our shelter in Las Vegas needs hygiene kits", NM_OR) == "Las Vegas, NV"
    # larger elsewhere, though not by far: asked, the largest first
    columbus = town_choices("Our pantry in Columbus needs volunteers", NM_OR)
    assert columbus[0] == "Columbus, OH" and "Columbus, NM" in columbus
    assert town_read("Our pantry in Columbus needs volunteers", NM_OR) is None


def test_a_town_opening_the_sentence_or_before_a_possessive_is_read() -> None:
    """helper-72's walk: "Gallup families need help repairing roofs", "The Dalles library
    wants ...", "in Portland's Lents neighborhood" and "east of Roswell" searched every state."""
    assert town_read("Gallup families need help repairing roofs", NM_OR) == "Gallup, NM"
    assert town_read("The Dalles library wants a coding club", NM_OR) == "The Dalles, OR"
    assert town_read("Santa Fe youth orchestra needs instruments", NM_OR) == "Santa Fe, NM"
    assert town_read("Our shelter in Portland's Lents neighborhood", NM_OR) == "Portland, OR"
    assert town_read("Rural families east of Roswell need water", NM_OR) == "Roswell, NM"
    # the town as written, accents kept
    assert town_read("Our senior center in Española needs a van", NM_OR) == "Española, NM"
    # a name opening a sentence that is not a town's people or body is not read
    assert town_read("Hope Lutheran Church needs volunteers", NM_OR) is None
    assert town_read("Reserve officers need training", NM_OR) is None


def test_the_state_the_text_names_decides() -> None:
    text = "Families across New Mexico need rides; our office in Espanola is small."
    assert town_read(text) == "Espanola, NM"
    assert town_read("Our clinic in Taos New Mexico needs nurses") == "Taos, NM"


@pytest.mark.parametrize(
    "text",
    [
        "Classes in Spanish and English",  # English is a town in Indiana
        "We meet in May",
        "We keep food in Reserve for emergencies",  # Reserve, NM (helper-72's walk)
        "Volunteers in Home Depot aprons",  # a name of something else, not a town alone
        "Donations from Home Depot and Walmart",
        "Our pantry in albuquerque",  # lower case is not read
        "Families across Oregon need rides",  # a state: read as such, not here
    ],
)
def test_words_that_are_no_town_alone_are_not_read(text: str) -> None:
    assert towns_named(text) == [] and town_read(text, NM_OR) is None
