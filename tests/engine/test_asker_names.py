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
        ("We need volunteers at the clinic", []),  # no name
        ("Nike sponsors our league; we need coaches", []),  # not the one asking
    ],
)
def test_the_names_a_need_gives_its_own_organisation(text: str, names: list[str]) -> None:
    assert asker_names(text) == names


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
    assert "ticker-NKE" not in _shown(rec)
    assert {"ticker-LULU", "league"} <= _shown(rec)
    assert rec.named_askers == ["NIKE, Inc."]
    top = {t.id for t in engine.top(Need(text=f"We at Nike want to support {SPORTS}."), limit=10)}
    assert "ticker-NKE" not in top and "league" in top
    # named otherwise, it is a partner like any other
    other = engine.recommend(Need(text=f"Our league needs {SPORTS}, as Nike gives."), limit=10)
    assert "ticker-NKE" in _shown(other) and other.named_askers == []
