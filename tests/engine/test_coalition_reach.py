"""A coalition for a placed need draws on the partners within reach of it when a role has any:
a Santa Fe school joined a Hilo after-school coalition (real data walk)."""

from __future__ import annotations

import pytest

from matcher.coalition_stage import within_reach
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.score import Scored
from tests.engine.conftest import PORTLAND


def _scored(engine: Engine, org_id: str, km: float | None) -> Scored:
    pos = engine.catalog.position_of_id(org_id)
    assert pos is not None
    return Scored(pos, 0.5, {}, km, {}, {})


def test_only_candidates_within_reach_when_a_role_has_any(engine: Engine) -> None:
    engine.create_organisation(
        Organisation(
            id="wa-state",
            name="Washington Food Coalition",
            sector="nonprofit",
            description="Statewide food bank network.",
            region="WA",
            country="US",
            lat=47.04,
            lon=-122.9,
            service_level="state",
        )
    )
    pdx, sea = _scored(engine, "fb-pdx", 0.0), _scored(engine, "fb-sea", 233.0)
    state = _scored(engine, "wa-state", 170.0)
    far_state = _scored(engine, "wa-state", 400.0)
    unknown = _scored(engine, "fb-sea", None)
    cat = engine.catalog
    assert within_reach(cat, [sea, pdx], 200.0, "OR") == [pdx]
    assert within_reach(cat, [sea], 200.0, "OR") == [sea]  # none near: all of them
    assert within_reach(cat, [sea, pdx], None, "OR") == [sea, pdx]  # no point: no reach
    assert within_reach(cat, [far_state, pdx], 200.0, "WA") == [far_state, pdx]  # its state
    assert within_reach(cat, [far_state, pdx], 200.0, "OR") == [pdx]
    assert within_reach(cat, [state, unknown, sea], 200.0, "OR") == [state, unknown]


def test_a_placed_needs_coalition_leaves_out_a_far_partner(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seattle's food bank (234 km) joined a Portland need's coalition beside Portland's; the
    academic role, with no one near, keeps its Seattle lab."""
    import matcher.coalition_stage as stage

    need = Need(text="hungry families need food parcels", lat=PORTLAND[0], lon=PORTLAND[1])
    rec = engine.recommend(need)
    names = {m.id: m.distance_km for m in rec.coalition.members}
    assert "fb-pdx" in names and "fb-sea" not in names, names
    assert names.get("uni-sea") == pytest.approx(233.9, abs=1)  # its role has no one near
    monkeypatch.setattr(stage, "within_reach", lambda catalog, ss, reach, region: ss)
    unlimited = {m.id for m in engine.recommend(need).coalition.members}
    assert "fb-sea" in unlimited  # the code before
