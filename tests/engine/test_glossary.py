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


def test_the_acronyms_of_the_work_are_glossed() -> None:
    """helper-75's walk (2026-12-06): "youth STEM programs" for Otis drew three life-science
    companies by stem cells."""
    assert expand("We want youth STEM programs") == (
        "We want youth STEM (science and technology education) programs"
    )
    assert expand("stem cell research and a stem of roses") == (
        "stem cell research and a stem of roses"
    )


@pytest.mark.slow
def test_stem_glossed_is_further_from_stem_cells(real_embedder: object) -> None:
    """By the model itself: glossed, "youth STEM programs" is nearer a science club than a stem
    cell company by more than as written (0.12 against 0.04 of cosine when measured)."""
    club = "After-school science, coding and robotics clubs for middle school students."
    cells = "Stem cell lines, antibodies and reagents for life science research."
    need = "We want to support youth STEM programs in Farmington"
    vecs = real_embedder.encode([need, expand(need), club, cells])  # type: ignore[attr-defined]
    plain, glossed, to_club, to_cells = vecs[0], vecs[1], vecs[2], vecs[3]
    assert float(glossed @ to_club) > float(glossed @ to_cells)
    assert float(glossed @ to_club) - float(glossed @ to_cells) > float(plain @ to_club) - float(
        plain @ to_cells
    )
