"""matcher.language: a need mostly in words the model does not know is flagged, an English one
(with its local names and the model's few missing English words) is not."""

from __future__ import annotations

import pytest

from matcher.language import Vocabulary
from matcher.settings import Settings


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    got = Vocabulary.of_model(Settings().resolved_model_path())
    assert got is not None  # the packaged model ships its vocab.txt
    return got


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("asdf qwer zxcv", ["asdf", "qwer", "zxcv"]),
        (
            "Necesitamos un banco de alimentos para las familias que no tienen comida",
            ["necesitamos", "alimentos", "familias", "tienen", "comida"],
        ),
        (
            "Nous avons besoin de bénévoles pour la banque alimentaire",
            ["nous", "besoin", "benevoles", "banque", "alimentaire"],
        ),
    ],
)
def test_a_need_mostly_in_unknown_words_is_flagged(
    vocab: Vocabulary, text: str, unknown: list[str]
) -> None:
    assert vocab.mostly_unknown(text) == unknown


@pytest.mark.parametrize(
    "text",
    [
        "Our food bank needs refrigerated vans and volunteers for Saturday distributions",
        "Kūpuna need rides to dialysis",  # a Hawaiian word and a word the model lacks: half
        "telehealth for rural elders; broadband hotspots and chromebooks",
        "banco de alimentos",  # two words, one unknown: not most
        "Qwerty",  # one word: a name, not a language
    ],
)
def test_english_with_local_and_rare_words_is_not(vocab: Vocabulary, text: str) -> None:
    assert vocab.mostly_unknown(text) == []


@pytest.mark.parametrize(
    ("text", "shown"), [("!!!", ["!!!"]), ("12345 12345", ["12345"]), ("a b", ["a", "b"])]
)
def test_a_need_without_words_is_flagged(vocab: Vocabulary, text: str, shown: list[str]) -> None:
    assert vocab.mostly_unknown(text) == shown


def test_a_model_without_a_vocabulary_file_checks_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert Vocabulary.of_model(tmp_path) is None


def test_the_recommendation_names_the_words_it_could_not_read(engine) -> None:  # type: ignore[no-untyped-def]
    from matcher.domain import Need

    assert engine.recommend(Need(text="asdf qwer zxcv")).unread_words == ["asdf", "qwer", "zxcv"]
    assert engine.recommend(Need(text="Families need fresh food and volunteers")).unread_words == []


@pytest.mark.parametrize(
    ("text", "few"),
    [
        ("help", True),
        ("asdf", True),
        ("food bank", True),
        ("We need a van", True),  # "need" and "van": two words of three letters or more
        ("Our pantry needs a refrigerated van", False),
    ],
)
def test_a_need_of_a_word_or_two_says_too_little(text: str, few: bool) -> None:
    """helper-75's walk (2026-12-06): "help" and "asdf" got a full coalition at 0.90."""
    from matcher.language import few_words

    assert few_words(text) is few
