"""Which parts of a need ask for something and which only tell the problem."""

from __future__ import annotations

from matcher import capabilities, evidence
from matcher.telling import telling_clauses

HONOLULU = (
    "Parents in Honolulu wait a year or more for a spot in infant and toddler care, and some "
    "have had to quit their jobs. We want to open a small licensed child care center and need "
    "start-up funding, trained caregivers, and help getting through licensing."
)


def test_the_sentences_that_ask_nothing_only_tell_the_problem() -> None:
    parts = evidence.clauses(HONOLULU)
    told = dict(zip(parts, telling_clauses(HONOLULU, parts), strict=True))
    assert told["some have had to quit their jobs"] is True
    assert told["need start-up funding"] is False
    assert told["help getting through licensing"] is False


def test_every_clause_may_ask_when_no_sentence_or_every_sentence_asks() -> None:
    one = "Hartford shelters turn people away; we need overflow beds and donated coats."
    none_ask = "Our pantry runs out of food by Wednesday. The line grows every month."
    all_ask = "We need volunteers. We also want a van for deliveries."
    for text in (one, none_ask, all_ask):
        parts = evidence.clauses(text)
        assert telling_clauses(text, parts) == [False] * len(parts), text


def test_the_problem_a_need_tells_is_not_asked_for() -> None:
    """T4's Honolulu need asked jobs from "some have had to quit their jobs" (the problem),
    so its cards said "Does not cover: jobs" and its coalition had a gap no one asked about.
    Montpelier's renters who "dread the next storm" asked housing the same way."""
    asked = capabilities.infer_required(HONOLULU)
    assert "jobs" not in asked and {"funding", "regulatory", "child_care"} <= set(asked)
    montpelier = (
        "Last summer's flood left downtown Montpelier, Vermont under several feet of water, "
        "and shop owners and renters dread the next storm. We want to flood-proof the most "
        "exposed buildings, restore eroded riverbanks upstream, and train a neighborhood team "
        "for early warnings and cleanup."
    )
    asked = capabilities.infer_required(montpelier)
    assert "housing" not in asked and "environment" in asked
