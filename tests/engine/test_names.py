"""matcher.names: a name written in capitals is shown in title case, acronyms kept; any other
name as it is (real IRS data reads "GREAT FALLS COMMUNITY FOOD BANK INC")."""

from __future__ import annotations

import pytest

from matcher.names import readable_name


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("GREAT FALLS COMMUNITY FOOD BANK INC", "Great Falls Community Food Bank Inc"),
        ("YMCA OF HONOLULU", "YMCA of Honolulu"),
        ("BIG BROTHERS SISTERS NW MONTANA", "Big Brothers Sisters NW Montana"),
        ("O'BRIEN FAMILY FOUNDATION", "O'Brien Family Foundation"),
        ("CHILDREN'S HOSPITAL", "Children's Hospital"),
        ("HABITAT FOR HUMANITY - MAUI", "Habitat for Humanity - Maui"),
        ("4-H CLUB OF TETON COUNTY", "4-H Club of Teton County"),
        ("ST VINCENT DE PAUL SOCIETY", "St Vincent de Paul Society"),
        ("THE ARC OF MONTANA", "The ARC of Montana"),
        ("(FRIENDS OF THE LIBRARY)", "(Friends of the Library)"),
        # the re-walk on real data: Hawaiian "Nā", Spanish "casa", "Aids", "Mc", "LTD"
        ("NA PALI COAST OHANA", "Na Pali Coast Ohana"),
        ("LA CASA INC", "La Casa Inc"),
        ("GUIDE DOGS OF HAWAII ADAPTIVE AIDS", "Guide Dogs of Hawaii Adaptive Aids"),
        ("RONALD MCDONALD HOUSE CHARITIES", "Ronald McDonald House Charities"),
        ("REEL FATHERS LTD", "Reel Fathers Ltd"),
        ("AOAO KAANAPALI SHORES", "AOAO Kaanapali Shores"),
    ],
)
def test_a_name_in_capitals_is_shown_in_title_case(stored: str, shown: str) -> None:
    assert readable_name(stored) == shown


@pytest.mark.parametrize(
    "name", ["Great Falls Fish Inc", "FLATHEADinc", "Wells Fargo & Company", "NAMI", "", "3M"]
)
def test_any_other_name_is_left_as_it_is(name: str) -> None:
    assert readable_name(name) == name  # one word in capitals: an acronym as likely as not


def test_words_with_digits_stay_as_written() -> None:
    assert readable_name("3M FOUNDATION OF 21ST CENTURY") == "3M Foundation of 21ST Century"
