"""A partner whose name says it serves one group of people (veterans, tribes) fits a need that
names none of them less well (matcher.populations). The Veterans Affairs Department came among
the first five federal partners for youth sports, a domestic violence shelter and an eviction
defence clinic (helper-74's walk and the T4 lists, 2026-12-06)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher import populations
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings


@pytest.mark.parametrize(
    ("name", "groups"),
    [
        ("Veterans Affairs Department", ["veterans"]),
        ("American Legion Post 12", ["veterans"]),
        ("Indian Health Service", ["native"]),
        ("Native American Youth and Family Center", ["native"]),
        # the armed services' own bodies serve no one group: floods are the Corps' work
        ("Army Corps of Engineers", []),
        ("Housing and Urban Development Department", []),
    ],
)
def test_a_name_says_whom_it_serves(name: str, groups: list[str]) -> None:
    assert populations.of_name(name) == sum(populations.BITS[g] for g in groups)


@pytest.mark.parametrize(
    ("name", "government", "military"),
    [
        # T4's lists: the Defense Intelligence Agency for youth jobs and a girls' coding club
        ("Defense Intelligence Agency", True, True),
        ("Air Force Department", True, True),
        ("Engineers Corps", True, False),  # the Corps of Engineers: floods are its work
        ("Army Corps of Engineers", True, False),
        # of government bodies only
        ("Salvation Army", False, False),
        ("Environmental Defense Fund", False, False),
    ],
)
def test_the_armed_services_bodies_serve_the_military(
    name: str, government: bool, military: bool
) -> None:
    assert bool(populations.of_name(name, government)) is military


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Homeless veterans need housing", ["veterans"]),
        ("We help vets and service members find jobs", ["veterans"]),
        ("Navajo families need clean water", ["native"]),
        ("Our clinic on the Wind River reservation needs nurses", ["native"]),
        ("Youth sports leagues in Portland need coaches", []),
    ],
)
def test_a_need_names_whom_it_is_for(text: str, groups: list[str]) -> None:
    assert populations.of_need(text) == sum(populations.BITS[g] for g in groups)


@pytest.fixture()
def engine(tmp_path: Path, hashing_embedder: object) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)
    eng = Engine.open(settings, embedder=hashing_embedder, load=False)  # type: ignore[arg-type]
    text = "Emergency shelter beds, rent help and housing counseling for families."

    def agency(i: str, name: str) -> Organisation:
        return Organisation(
            id=i,
            name=name,
            sector="government",
            description=text,
            country="US",
            service_level="national",
        )

    eng.store.upsert_organisations(
        [agency("vets", "Veterans Housing Office"), agency("all", "Housing Office")]
    )
    eng.build()
    yield eng
    eng.close()


def test_a_partner_for_people_the_need_does_not_name_loses_the_penalty(engine: Engine) -> None:
    """The two offices differ by "Veterans" in the name only: asked by families, the office
    for veterans scores the penalty below what the other scores asked by veterans, with the
    same components, and its card says why."""
    families = engine.recommend(Need(text="Families facing eviction need shelter beds"), limit=5)
    veterans = engine.recommend(Need(text="Veterans facing eviction need shelter beds"), limit=5)
    by_families = {m.id: m for m in families.by_sector["government"]}
    by_veterans = {m.id: m for m in veterans.by_sector["government"]}
    assert [m.id for m in families.by_sector["government"]] == ["all", "vets"]
    assert [m.id for m in veterans.by_sector["government"]] == ["vets", "all"]
    # the mirror images: the same components, and the penalty between their scores
    vets, other = by_families["vets"], by_veterans["all"]
    assert vets.components == other.components
    assert vets.score == pytest.approx(other.score - populations.POPULATION_PENALTY, abs=1e-3)
    said = " ".join(vets.reasons)
    assert "Its name says it serves veterans and the military, whom the need does not name" in said
    # nothing is said or taken off where the need names them, nor of an office for everyone
    assert by_veterans["vets"].score == pytest.approx(by_families["all"].score, abs=1e-3)
    for m in (by_veterans["vets"], by_veterans["all"], by_families["all"]):
        assert "whom the need does not name" not in " ".join(m.reasons)
