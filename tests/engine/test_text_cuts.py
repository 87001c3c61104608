"""`matcher.text_cuts`: cutting spans out of a need's text, as each reader of the topic does."""

from __future__ import annotations

import pytest

from matcher.text_cuts import cut_spans, tidy_after_cuts

TEXT = "We at Nike want to fund youth sports in Portland"


def _span(word: str) -> tuple[int, int]:
    start = TEXT.index(word)
    return start, start + len(word)


def test_nothing_to_cut_leaves_the_text_itself() -> None:
    spaced = "food  bank ,  Dover"
    assert cut_spans(spaced, []) is spaced


def test_spans_in_any_order_are_cut_and_the_rest_joined_by_single_spaces() -> None:
    spans = [_span("in Portland"), _span("We at Nike"), _span("fund")]
    assert cut_spans(TEXT, spans) == "want to youth sports"


@pytest.mark.parametrize(
    "spans",
    [
        [_span("We at Nike"), _span("at Nike want")],  # overlapping
        [_span("We at Nike want"), _span("Nike")],  # one inside another
        [_span("Nike"), _span("We at Nike want")],  # the same, found in the other order
    ],
)
def test_overlapping_spans_are_cut_as_their_union(spans: list[tuple[int, int]]) -> None:
    assert cut_spans(TEXT, spans) == "to fund youth sports in Portland"


def test_a_cut_leaves_no_empty_comma_nor_space_before_a_stop() -> None:
    text = "Our company, Intel, wants a partner ."
    assert tidy_after_cuts(cut_spans(text, [_span_in(text, "Intel")])) == (
        "Our company, wants a partner."
    )


def _span_in(text: str, word: str) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)
