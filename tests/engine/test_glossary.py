"""Benefit acronyms glossed before a need is embedded (matcher.glossary): the model does not
know "SNAP" or "WIC" (real data walk, Albuquerque)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.domain import Need
from matcher.engine import Engine
from matcher.glossary import expand, unexpand
from matcher.need_reading import query_text, reasons_need


def test_an_acronym_in_capitals_is_glossed_once_and_the_gloss_comes_out_again() -> None:
    text = "We help families apply for WIC and SNAP benefits; GED classes too."
    glossed = expand(text)
    assert glossed == (
        "We help families apply for WIC (nutrition for mothers and young children) and SNAP "
        "(food stamps) benefits; GED (high school equivalency) classes too."
    )
    assert unexpand(glossed) == text
    assert expand(glossed) == glossed  # a glossed acronym is not glossed again
    # other words, and an acronym the writer explained already
    for kept in ("Snap Inc. and a cold snap", "SNAPshot", "SNAP (CalFresh) outreach"):
        assert expand(kept) == kept and unexpand(kept) == kept
    assert "," not in "".join(expand(a) for a in ("SNAP", "WIC", "TANF", "LIHEAP", "CHIP"))


@pytest.mark.slow
def test_a_need_naming_a_benefit_is_read_with_its_gloss_and_explained_as_written(
    sample_engine: Engine,
) -> None:
    need = Need(text="We help families apply for WIC and SNAP benefits")
    assert "food stamps" in query_text(need)
    read = sample_engine.read_need(need)
    glossed = sample_engine.embed_query(query_text(need))
    plain = sample_engine.embed_query(need.text)
    assert np.allclose(read.query, glossed) and not np.allclose(read.query, plain)
    assert reasons_need(need, query_text(need)).text == need.text
    rec = sample_engine.recommend(need, limit=5)
    assert "public_programmes" in rec.required_capabilities
    for match in rec.results:
        for reason in match.reasons:
            assert "stamps" not in reason and "mothers" not in reason, reason
