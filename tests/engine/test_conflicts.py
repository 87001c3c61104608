"""Businesses whose trade works against the need are never suggested for it, and the answer
says so (matcher.conflicts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.conflicts import conflicts_of
from matcher.domain import Need, Organisation, Recommendation
from matcher.engine import Engine
from matcher.settings import Settings

SMOKE = "Wildfire smoke is harming kids with asthma; we need air purifiers and a clinic partner."


def _org(i: str, sector: str, desc: str, focus: list[str]) -> Organisation:
    return Organisation(
        id=i,
        name=i.replace("-", " ").title(),
        sector=sector,
        description=desc,
        focus_areas=focus,
        country="US",
        service_level="national",
    )


@pytest.fixture()
def engine(tmp_path: Path, hashing_embedder: object) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)  # every card shown
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]
    eng.store.upsert_organisations(
        [
            # the words of the need, so that only the rule can keep it out
            _org("smoke-co", "business", "Smoke-free products for asthma and smoke.", ["Tobacco"]),
            _org("air-co", "business", "Air purifiers and filters for smoke and asthma.", []),
            _org(
                "brew-co", "business", "Beer for kids' asthma and smoke.", ["beverages - brewers"]
            ),
            # a nonprofit working on tobacco is no tobacco company
            _org("quit-now", "nonprofit", "Helps kids with asthma avoid smoke.", ["tobacco"]),
            _org("road-co", "business", "Road repair and paving.", ["construction"]),
        ]
    )
    eng.build()
    yield eng
    eng.close()


def _shown(rec: Recommendation) -> set[str]:
    ids = {m.id for m in rec.results} | {m.id for m in rec.coalition.members}
    return ids | {m.id for ms in rec.by_sector.values() for m in ms}


def test_a_tobacco_company_is_not_suggested_for_children_s_asthma(engine: Engine) -> None:
    """Real data walk (Medford, 2026-12-06): Philip Morris International and Altria were the
    first two businesses for children's asthma from wildfire smoke."""
    rec = engine.recommend(Need(text=SMOKE), limit=10)
    shown = _shown(rec)
    assert "smoke-co" not in shown and "brew-co" not in shown  # shown on the code before
    assert {"air-co", "quit-now"} <= shown
    assert rec.withheld == [
        "tobacco companies, for a need about health, fire safety or young people",
        "alcohol makers, for a need about addiction, recovery or young people",
    ]
    top = {t.id for t in engine.top(Need(text=SMOKE), limit=10)}
    assert "smoke-co" not in top and "air-co" in top


def test_a_need_the_trade_does_not_work_against_keeps_it(engine: Engine) -> None:
    rec = engine.recommend(
        Need(text="Our theatre festival needs smoke machines and road repair."), limit=10
    )
    assert "smoke-co" in _shown(rec)
    assert rec.withheld == []


def test_a_tobacco_company_is_not_suggested_for_smoke_detectors(engine: Engine) -> None:
    """Real data walk (2026-12-06): Philip Morris International and Altria were the first two
    businesses for "Older residents in Coos Bay need smoke detectors installed" ("smoke-free
    products", "smokeable"). Smoking materials are the leading cause of home fire deaths."""
    rec = engine.recommend(Need(text="Our town needs smoke detectors and road repair."), limit=10)
    assert "smoke-co" not in _shown(rec)
    assert rec.withheld == [
        "tobacco companies, for a need about health, fire safety or young people"
    ]


@pytest.mark.parametrize(
    ("text", "asked", "labels"),
    [
        ("Kids with asthma need a clinic", (), ["tobacco", "alcohol", "gambling"]),
        ("Our clinic needs nurses", (), ["tobacco"]),
        ("Help adults quit smoking", (), ["tobacco"]),
        ("Our town needs smoke detectors", (), ["tobacco"]),
        ("Fire safety visits for older residents", (), ["tobacco"]),
        ("Our theatre needs a smoke machine", (), []),
        ("Seniors stuck inside on smoke days need air purifiers", (), ["tobacco"]),
        ("Wildfire smoke keeps our residents indoors; we need rides out", (), ["tobacco"]),
        ("Volunteers to restore river health and soil health", (), []),
        ("Cleanup of hazardous substances at the old mill", (), []),
        ("Our substance use recovery group needs a room", (), ["alcohol", "gambling"]),
        ("We need a partner", ("healthcare",), ["tobacco"]),
        ("A sober living house needs beds", (), ["alcohol", "gambling"]),
        ("Problem gambling support group needs a room", (), ["gambling"]),
        ("After the wildfire, our recovery needs volunteers", (), []),  # no addiction
        ("Seniors need clean drinking water", (), []),
    ],
)
def test_which_needs_a_trade_works_against(
    text: str, asked: tuple[str, ...], labels: list[str]
) -> None:
    found = [c.label.split()[0] for c in conflicts_of(text, asked)]
    assert found == labels


def test_only_the_trades_a_ranking_held_are_said(engine: Engine) -> None:
    """A youth need was told of tobacco, alcohol and casinos alike (helper walk): the answer
    now names only the trades whose businesses a ranking held above the relevance floor."""
    engine.settings.relevance_floor = 0.99  # nothing is close enough to be ranked
    try:
        rec = engine.recommend(Need(text=SMOKE), limit=10)
    finally:
        engine.settings.relevance_floor = -1.0
    assert "smoke-co" not in _shown(rec)
    assert rec.withheld == []


def test_a_business_written_later_is_left_out_too(engine: Engine) -> None:
    """The trades' rows are a mask the catalog keeps while no row is written: a company added
    after a first request is left out of the next."""
    assert "smoke-co" not in _shown(engine.recommend(Need(text=SMOKE), limit=10))
    engine.create_organisation(
        _org("vape-co", "business", "Vapes for kids with asthma and smoke.", ["tobacco"])
    )
    shown = _shown(engine.recommend(Need(text=SMOKE), limit=10))
    assert "vape-co" not in shown and "air-co" in shown
