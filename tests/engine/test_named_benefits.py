"""An ask naming a public benefit is covered only by those who name it (matcher.benefits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher import benefits
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings

PORTLAND = (45.52, -122.68)


def _org(
    i: str, name: str, sector: str, desc: str, offers: list[str], **kw: object
) -> Organisation:
    return Organisation.model_validate(
        {
            "id": i,
            "name": name,
            "sector": sector,
            "description": desc,
            "offers": offers,
            "country": "US",
            **kw,
        }
    )


pytestmark = pytest.mark.slow


@pytest.fixture()
def engine(tmp_path: Path, real_embedder: object) -> Iterator[Engine]:
    """Four profiles on the real model (which reads the asks, as a request does)."""
    # no relevance floor: every profile is shown, so each card can be read
    settings = Settings(data_dir=tmp_path / "var", relevance_floor=-1.0)
    eng = Engine.open(settings, embedder=real_embedder, load=False)  # type: ignore[arg-type]
    national = {"service_level": "national"}
    local = {"lat": PORTLAND[0], "lon": PORTLAND[1], "city": "Portland", "region": "OR"}
    eng.store.upsert_organisations(
        [
            _org(
                "fema",
                "Administration for Families",
                "government",
                "Helps hungry families in need get food assistance and public benefits.",
                ["public programme funding", "housing and shelter programmes"],
                **national,
            ),
            _org(
                "fns",
                "Food and Nutrition Service",
                "government",
                "Administers the food assistance programs for families in need.",
                ["public programme funding", "food supply programmes"],
                **national,
            ),
            _org(
                "outreach",
                "Portland Benefits Outreach",
                "nonprofit",
                "We help hungry families apply for SNAP and other benefits.",
                ["benefits enrolment help"],
                **local,
            ),
            _org(
                "snapon",
                "Snap-on Tools Foundation",
                "business",
                "Snap-on funds public programs that teach trades to young people.",
                ["public program grants"],
                **national,
            ),
        ]
    )
    eng.store.upsert_needs(
        [
            Need(
                id="snap-programme",
                kind="programme",
                requester_id="fns",
                title="Supplemental Nutrition Assistance Program",
                text="Supplemental Nutrition Assistance Program: food benefits for families",
            )
        ]
    )
    eng.build()
    yield eng
    eng.close()


def _covering(engine: Engine, text: str) -> dict[str, bool]:
    rec = engine.recommend(Need(text=text, city="Portland", region="OR"), limit=10)
    assert benefits.CAPABILITY in rec.required_capabilities
    seen = {m.id: m for ms in rec.by_sector.values() for m in ms}
    seen.update({m.id: m for m in rec.results})
    covered = {i: benefits.CAPABILITY in m.covers for i, m in seen.items()}
    # the coalition counts what its members' cards say
    for cap_key, ids in rec.coalition.covered.items():
        if cap_key == benefits.CAPABILITY:
            assert all(covered.get(i) for i in ids), (ids, covered)
    return covered


def test_only_those_naming_the_benefit_cover_help_to_reach_it(engine: Engine) -> None:
    """Real data walk (Albuquerque): every federal agency "covered" help enrolling people in
    SNAP with its offer 'public programme funding' (FEMA, the Community Living Administration).
    The agency running SNAP covers it (its programme names it), a group helping families apply
    for SNAP covers it; the disaster agency and Snap-on do not."""
    covered = _covering(engine, "Families go hungry; we need help enrolling people in SNAP.")
    assert covered.get("fns") is True
    assert covered.get("outreach") is True
    assert covered.get("fema") is False
    assert covered.get("snapon") is not True
    # an ask naming no benefit is covered by any offer of public programmes
    plain = _covering(engine, "Families go hungry; we need help applying for public programs.")
    assert plain.get("fema") is True


def test_benefits_named_in_profiles_and_asks() -> None:
    snap = benefits.BITS["snap"]
    assert benefits.named_in("We accept SNAP and EBT cards") == snap
    assert benefits.named_in("Snap-on Tools Foundation") == 0
    assert benefits.named_in("Supplemental Nutrition Assistance Program") == snap
    assert benefits.named_in("food stamps and Medicaid sign-up") == snap | benefits.BITS["medicaid"]
    assert benefits.asked_in({"public_programmes": "help enrolling people in snap"}) == snap
    assert benefits.asked_in({"public_programmes": "help with public programmes"}) == 0
    assert benefits.asked_in({"funding": "money for SNAP outreach"}) == 0
