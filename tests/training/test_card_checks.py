from matcher.domain import Match, Need
from training.benchmarks.card_checks import (
    CardProblem,
    card_problems,
    count_by_kind,
    not_covered_phrases,
    place_words,
    unreadable,
)

NEED = Need(text="We need groceries for the food pantry", city="Great Falls", region="MT")


def card(reasons: list[str], covers: list[str] | None = None) -> Match:
    return Match(
        id="x",
        name="X",
        sector="nonprofit",
        score=0.5,
        components={"fit": 0.5},
        reasons=reasons,
        covers=covers or [],
    )


def kinds(m: Match, need: Need = NEED) -> list[str]:
    return [p.kind for p in card_problems(m, need)]


def test_clean_card_has_no_problems() -> None:
    m = card(
        [
            "Its profile closely matches the need (shared terms: groceries, pantry).",
            "Covers 'food' with its offer 'food boxes'.",
            "Does not cover: 'volunteers'.",
            "Based in the same region (MT).",
        ],
        covers=["food"],
    )
    assert card_problems(m, NEED) == []


def test_contradiction_between_reasons() -> None:
    m = card(
        [
            "Its profile partly matches the need.",
            "Covers 'volunteers' with its offer 'volunteer drivers'.",
            "Does not cover: 'food'; 'Volunteers'.",
        ]
    )
    problems = card_problems(m, NEED)
    assert [p.kind for p in problems] == ["contradiction"]
    assert "volunteers" in problems[0].detail


def test_contradiction_between_covers_and_not_covered() -> None:
    m = card(["Does not cover: 'transport'."], covers=["transport"])
    assert kinds(m) == ["contradiction"]


def test_contradiction_reported_once_per_capability() -> None:
    m = card(
        ["Covers 'transport' with its offer 'vans'.", "Does not cover: 'transport'."],
        covers=["transport"],
    )
    assert kinds(m) == ["contradiction"]


def test_unreadable_offers() -> None:
    long = "a" * 81
    many = " ".join(["word"] * 13)
    shouted = "PROVIDE FOOD AND SHELTER"
    for offer in (long, many, shouted):
        m = card([f"Covers 'food' with its offer '{offer}'."], covers=["food"])
        assert kinds(m) == ["unreadable_offer"], offer
    assert unreadable("food boxes for seniors") is None
    assert unreadable("USDA food") is None  # an acronym in a short phrase is fine
    assert unreadable("x" * 80) is None


def test_shared_terms_stop_words_and_places() -> None:
    m = card(["Its profile matches the need (shared terms: since, focus, groceries, falls)."])
    problems = card_problems(m, NEED)
    assert CardProblem("shared_stop_word", "since") in problems
    assert CardProblem("shared_stop_word", "focus") in problems
    assert CardProblem("shared_place_name", "falls") in problems  # the need's city
    assert all(p.detail != "groceries" for p in problems)
    m = card(["Its profile matches the need (shared terms: montana, oregon, mexico)."])
    assert kinds(m) == ["shared_place_name"] * 3


def test_place_words() -> None:
    words = place_words("Great Falls", "MT")
    assert {"great", "falls", "montana", "oregon", "dakota"} <= words
    assert "new" not in words and "north" not in words


def test_count_by_kind_counts_cards_not_problems() -> None:
    counts = count_by_kind(
        [
            [CardProblem("shared_stop_word", "a"), CardProblem("shared_stop_word", "b")],
            [],
            [CardProblem("contradiction", "x"), CardProblem("unreadable_offer", "y")],
        ]
    )
    assert counts == {
        "cards": 3,
        "any": 2,
        "contradiction": 1,
        "unreadable_offer": 1,
        "shared_stop_word": 1,
        "shared_place_name": 0,
    }


def test_the_engines_card_format_is_read() -> None:
    """Cards as matcher.score.reasons_for writes them: capabilities named on both sides."""
    clean = card(
        [
            "Its profile closely matches the need (shared terms: food, pantry).",
            "Covers food supply (asked: 'regular donations of groceries') with its offer "
            "'food parcels'.",
            "Covers volunteers (asked: 'volunteers for Saturdays'): its profile is about this.",
            "Does not cover: funding, legal aid.",
        ],
        ["food_supply", "volunteers"],
    )
    assert kinds(clean) == []
    assert not_covered_phrases(clean.reasons) == ["funding", "legal aid"]
    both = card(
        [
            "Covers funding (asked: 'money') with its offer 'grants'.",
            "Does not cover: funding.",
        ],
        ["funding"],
    )
    assert kinds(both) == ["contradiction"]
    shouted = card(
        ["Covers housing (asked: 'homes') with its offer 'EMERGENCY HOUSING REPAIRS'."],
        ["housing"],
    )
    assert kinds(shouted) == ["unreadable_offer"]
