"""What the group itself gives is not read as asked (helper's walk, 2026-12-06): a company's
community-giving lead wrote "We want to fund STEM ... and find places where our engineers can
volunteer", and the answer read funding and volunteers as asked, so community foundations came
first: funders for a funder."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.capabilities import infer_required
from matcher.group_gives import given_by_group
from matcher.meaning import CapabilityMeaning
from tests.engine.test_capability_meaning import DIM, _encode


@pytest.mark.parametrize(
    ("text", "given"),
    [
        ("We want to fund STEM and robotics programmes", {"funding"}),
        ("we would like to sponsor nonprofits that plant trees", {"funding"}),
        ("Our company will donate to salmon habitat groups", {"funding"}),
        ("find places where our engineers can volunteer", {"volunteers"}),
        ("with employee volunteer days", {"volunteers"}),
        ("We need funding for a van", set()),
        ("We want funding and a grant writer", set()),
        ("we need someone to fund our van", set()),
        ("Our food bank needs volunteers", set()),
        ("Volunteers want to help but we lack a coordinator", set()),
        # helper-73's walk (2026-12-06): the company named beside "we", goods it donates
        ("We at Intel want to fund STEM and robotics programmes", {"funding"}),
        ("wants to donate surplus food to pantries", {"funding", "food_supply"}),
        ("Kroger wants to donate surplus food", {"funding", "food_supply"}),
        ("We want to provide hot meals but need a kitchen", {"food_supply"}),
        ("need volunteers who will provide rides", set()),
        ("We need grocers willing to donate fresh food", set()),
        # helper-74's walk: organisations or programmes the group will support or invest in
        ("we want to support financial literacy nonprofits", {"funding"}),
        ("We want to invest in STEM programs for girls", {"funding"}),
        ("we want to support families facing eviction", set()),
        ("Our pantry needs support from local businesses", set()),
        ("we need partners who support our programs", set()),
        # the group gives as it is, or its writer leads its giving (real data walk, 2026-12-06:
        # "I manage PNM Resources Foundation grants" asked funding)
        ("Our foundation makes grants to food banks", {"funding"}),
        ("We award small grants for youth mentoring", {"funding"}),
        ("I manage PNM Resources Foundation grants for energy assistance", {"funding"}),
        ("I run the Intel Foundation grants in Rio Rancho", {"funding"}),
        ("I lead community giving at Wells Fargo", {"funding"}),
        ("I oversee our company grants for clean water", {"funding"}),
        ("I manage grants for our food pantry", set()),  # a grant manager seeking them
        ("We need someone who gives grants for a van", set()),
        ("Local banks make grants and we need one", set()),
        # helper-75's walk: "I manage corporate giving at Synchrony ... We fund workforce
        # development" asked funding, and a fund covered it
        ("We fund workforce development and small business programs", {"funding"}),
        ("Our foundation sponsors youth robotics teams", {"funding"}),
        ("We need someone to fund our van", set()),
    ],
)
def test_what_the_group_says_it_gives(text: str, given: set[str]) -> None:
    assert given_by_group(text) == given


def test_what_the_group_gives_is_not_asked() -> None:
    giving = (
        "I manage community giving for a chip maker in Rio Rancho. We want to fund STEM "
        "programs for girls and find places where our engineers can volunteer."
    )
    asked = infer_required(giving)
    assert "funding" not in asked and "volunteers" not in asked, asked
    # a group asking them still asks them
    assert {"funding", "volunteers"} <= set(infer_required("We need funding and volunteers."))


def test_reading_by_meaning_leaves_out_what_the_group_gives() -> None:
    """`CapabilityMeaning.asks`: "fund" is a word sure in asks, so it was asked however far
    the clause is by meaning; said by the group as what it gives, it is not."""
    meaning = CapabilityMeaning(_encode)
    parts = ["We want to fund STEM programs", "we need grant funding for a van"]
    vecs = np.zeros((len(parts), DIM), np.float32)
    assert "funding" not in meaning.asks(parts[:1], vecs[:1])
    assert meaning.asks(parts, vecs).get("funding") == "we need grant funding for a van"


def test_the_money_the_group_gives_is_no_topic() -> None:
    """helper-74's walk (2026-12-06): "Microsoft's philanthropy team wants to fund broadband
    access for tribal communities" put community foundations first (shared term: fund):
    funders for a funder. The verb of money given is left out of the topic; money asked
    stays."""
    from matcher.domain import Need
    from matcher.group_gives import without_money_given
    from matcher.need_reading import topic_text

    text = "Our team wants to fund broadband access for tribal communities"
    assert without_money_given(text) == "Our team wants to broadband access for tribal communities"
    assert "fund" not in topic_text(Need(text=text)).split()
    for asked in ("We need funding for a van", "we need someone to fund our van"):
        assert without_money_given(asked) == asked
        assert topic_text(Need(text=asked)) == asked


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "Our foundation makes grants to food banks in Portland",
            "Our foundation to food banks in Portland",
        ),
        ("I oversee our company grants for clean water", "I oversee our for clean water"),
        ("I manage grants for our food pantry", "I manage grants for our food pantry"),
    ],
)
def test_the_money_the_group_gives_as_it_is_or_leads_is_no_topic(text: str, topic: str) -> None:
    from matcher.group_gives import without_money_given

    assert without_money_given(text) == topic
