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
    assert len(town_choices("Help us outside of Portland", {"OR", "ME"}.__contains__)) == 2


def test_the_state_the_text_names_decides() -> None:
    text = "Families across New Mexico need rides; our office in Espanola is small."
    assert town_read(text) == "Espanola, NM"
    assert town_read("Our clinic in Taos New Mexico needs nurses") == "Taos, NM"


@pytest.mark.parametrize(
    "text",
    [
        "Classes in Spanish and English",  # English is a town in Indiana
        "We meet in May",
        "Volunteers in Home Depot aprons",  # a name of something else, not a town alone
        "Donations from Home Depot and Walmart",
        "Our pantry in albuquerque",  # lower case is not read
        "Families across Oregon need rides",  # a state: read as such, not here
    ],
)
def test_words_that_are_no_town_alone_are_not_read(text: str) -> None:
    assert towns_named(text) == [] and town_read(text, NM_OR) is None
