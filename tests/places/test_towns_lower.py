"""Towns written in lower case are offered, never read (matcher.places.towns_lower):
helper-75's walk (2026-12-06), "seniors in casper wy need rides" searched every state."""

from __future__ import annotations

import pytest

from matcher.places.towns_lower import towns_in_lower_case

CT_WY = {"CT", "WY"}.__contains__  # a catalog of Connecticut's and Wyoming's organisations


@pytest.mark.parametrize(
    ("text", "towns"),
    [
        ("seniors in casper wy need rides", ["Casper, WY"]),
        ("seniors in casper need rides", ["Casper, WY"]),
        ("help families in hartford with rent", ["Hartford, CT"]),
        ("youth in new london need mentors", ["New London, CT"]),
        # words that are no town, or towns of one ZIP code only
        ("we are in need of food", []),
        ("our work in time of crisis", []),
        ("help in home repairs", []),
        ("families in rural areas", []),
    ],
)
def test_towns_of_the_states_held(text: str, towns: list[str]) -> None:
    assert towns_in_lower_case(text, CT_WY) == towns


def test_a_town_of_several_states_is_offered_in_each_the_largest_first() -> None:
    found = towns_in_lower_case("young people in new haven need jobs")
    assert found[0] == "New Haven, CT" and len(found) == 3
    # a state written after it decides ("ma"); "or" is an English word, no state: each Salem
    # of two ZIP codes or more is offered, the largest first
    assert towns_in_lower_case("families in salem ma need food") == ["Salem, MA"]
    salems = towns_in_lower_case("families in salem or portland need food")
    assert salems == ["Salem, OR", "Salem, MA"]
