"""An organisation the need names as the one asking is not suggested to itself, and the answer
says so (matcher.asker_names). Real data walk (2026-12-06): "We at Nike want to support youth
sports programmes in Portland" listed NIKE, Inc. first; "I run Intel's community giving in Rio
Rancho" put Intel Corporation in the coalition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.asker_names import asker_names, same_organisation
from matcher.domain import Need, Organisation, Recommendation
from matcher.engine import Engine
from matcher.settings import Settings

SPORTS = "youth sports programmes with equipment and employee volunteers"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("We at Nike want to support youth sports programmes.", ["Nike"]),
        ("I run Intel's community giving in Rio Rancho.", ["Intel"]),
        ("I work for Roadrunner Food Bank and we need a van.", ["Roadrunner Food Bank"]),
        (
            "On behalf of the Albuquerque Community Foundation, we seek",
            ["Albuquerque Community Foundation"],
        ),
        ("Our company, Western Digital, wants to donate laptops.", ["Western Digital"]),
        ("We at Procter & Gamble want to help", ["Procter & Gamble"]),
        # helper-73's walk: a full stop after the name, other first-person forms
        ("I work for Nike. We want youth sports nonprofits.", ["Nike"]),
        ("We at Nike Inc want to fund", ["Nike Inc"]),
        ("My company is Nike and we want", ["Nike"]),
        ("As Nike's community impact manager, I want", ["Nike"]),
        ("Nike wants to fund youth sports", ["Nike"]),
        ("We need volunteers at the clinic", []),  # no name
        ("Nike sponsors our league; we need coaches", []),  # not the one asking
    ],
)
def test_the_names_a_need_gives_its_own_organisation(text: str, names: list[str]) -> None:
    assert asker_names(text) == names


def test_the_organisation_is_the_one_name_equal_or_starting_with_it_and_its_foundation() -> None:
    """helper-73's walk: "I run PNM's community giving" (PNM Resources, Inc.), "We at Lowe's"
    (Lowe's Companies, Inc.), and the Intel Foundation first for Intel."""
    from matcher.asker_names import askers_among

    stored = ["PNM Resources, Inc.", "PNM Resources Foundation", "Pnmac Holdings"]
    assert askers_among("PNM", stored) == ([0], [1])
    assert askers_among("Lowe", ["Lowe's Companies, Inc.", "Lowell Food Pantry"]) == ([0], [])
    assert askers_among("Intel", ["Intel Corporation", "Intel Foundation"]) == ([0], [1])
    # only the foundation is held
    assert askers_among("PNM", ["PNM RESOURCES FOUNDATION INC", "Pnmac Holdings"]) == ([], [0])
    # several could be: none
    habitats = ["Habitat for Humanity of Taos", "Habitat for Humanity of Santa Fe"]
    assert askers_among("Habitat for Humanity", habitats) == ([], [])


def test_a_stored_name_is_the_one_named_whatever_its_legal_form() -> None:
    assert same_organisation("NIKE, Inc.", "Nike")
    assert same_organisation("Intel Corporation", "Intel")
    assert not same_organisation("Intel Foundation", "Intel")
    assert not same_organisation("Nike Lake Cleanup", "Nike")


def _org(i: str, name: str, sector: str) -> Organisation:
    return Organisation(
        id=i,
        name=name,
        sector=sector,
        description=f"{name}: {SPORTS}.",
        country="US",
        service_level="national",
    )


@pytest.fixture()
def engine(tmp_path: Path, hashing_embedder: object) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)  # every card shown
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]
    eng.store.upsert_organisations(
        [
            _org("ticker-NKE", "NIKE, Inc.", "business"),
            _org("nike-fdn", "Nike Foundation", "nonprofit"),
            _org("ticker-LULU", "Lululemon Athletica Inc.", "business"),
            _org("league", "Portland Youth Sports League", "nonprofit"),
            _org("parks", "Parks and Recreation Office", "government"),
        ]
    )
    eng.build()
    yield eng
    eng.close()


def _shown(rec: Recommendation) -> set[str]:
    ids = {m.id for m in rec.results} | {m.id for m in rec.coalition.members}
    return ids | {m.id for ms in rec.by_sector.values() for m in ms}


def test_the_company_asking_is_not_its_own_partner(engine: Engine) -> None:
    rec = engine.recommend(Need(text=f"We at Nike want to support {SPORTS}."), limit=10)
    assert "ticker-NKE" not in _shown(rec) and "nike-fdn" not in _shown(rec)
    assert {"ticker-LULU", "league"} <= _shown(rec)
    assert rec.named_askers == ["NIKE, Inc.", "Nike Foundation"]
    # a full stop after the name (helper-73's walk: NIKE was suggested to itself at 0.96)
    stop = engine.recommend(Need(text=f"I work for Nike. We want {SPORTS}."), limit=10)
    assert "ticker-NKE" not in _shown(stop) and stop.named_askers
    top = {t.id for t in engine.top(Need(text=f"We at Nike want to support {SPORTS}."), limit=10)}
    assert "ticker-NKE" not in top and "league" in top
    # named otherwise, it is a partner like any other
    other = engine.recommend(Need(text=f"Our league needs {SPORTS}, as Nike gives."), limit=10)
    assert {"ticker-NKE", "nike-fdn"} <= _shown(other) and other.named_askers == []
