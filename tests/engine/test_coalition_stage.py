"""The coalition stage leaves out a member that would join beyond the roles covering nothing
asked and meeting no part of the need the page can name: FEMA joined a Las Cruces food pantry's
coalition for a broken freezer, on closeness to a part below the relevance floor (real data)."""

from __future__ import annotations

import numpy as np

from matcher.coalition_stage import coalition
from matcher.domain import Match
from matcher.engine import Engine
from matcher.score import Scored

FLOOR = 0.2


def _pools(engine: Engine) -> tuple[dict[str, list[Scored]], dict[str, int]]:
    cat = engine.catalog
    ids = ("fb-pdx", "groc-pdx", "bank-pdx", "city-pdx")
    pos = {k: cat.position_of_id(k) for k in ids}
    assert all(p is not None for p in pos.values())

    def scored(key: str, score: float, offers: dict[str, str]) -> Scored:
        p = pos[key]
        assert p is not None
        return Scored(p, score, {}, None, dict(offers), {}, offers=dict(offers))

    per_role = {
        "nonprofit": [scored("fb-pdx", 0.9, {"food_supply": "food parcels"})],
        "business": [
            scored("groc-pdx", 0.8, {"food_supply": "groceries"}),
            scored("bank-pdx", 0.7, {"funding": "small loans"}),
        ],
        "government": [scored("city-pdx", 0.6, {"food_supply": "meal programmes"})],
    }
    return per_role, {k: int(v) for k, v in pos.items() if v is not None}


def _make(s: Scored) -> Match:
    return Match(id=str(s.position), name="x", sector="x", score=s.score, components={}, reasons=[])


def test_a_member_covering_nothing_and_meeting_no_part_is_left_out(engine: Engine) -> None:
    per_role, pos = _pools(engine)
    bank = engine.catalog.vectors[pos["bank-pdx"]]
    others = [engine.catalog.vectors[pos[k]] for k in ("fb-pdx", "groc-pdx", "city-pdx")]

    def made(scale: float) -> tuple[set[int], dict[str, str]]:
        clause_vecs = (scale * bank)[None, :].astype(np.float32)
        # the bank meets the one part best: only it can lift it
        assert all(float(v @ clause_vecs[0]) < scale for v in others)
        c = coalition(
            engine.catalog,
            per_role,
            {"food_supply": "food"},
            (3, 5),
            _make,
            clause_vecs,
            ["a part of the need"],
            FLOOR,
            aspect_weight=2.0,
            alternative_margin=0.0,
        )
        return {int(m.id) for m in c.members}, c.joins_for

    members, joins = made(0.15)  # the bank meets the part below the floor
    assert pos["bank-pdx"] not in members, members  # the code before took it in, unnamed
    assert members == {pos["fb-pdx"], pos["groc-pdx"], pos["city-pdx"]}
    members, joins = made(0.6)  # above the floor: it joins, for that part
    assert pos["bank-pdx"] in members
    assert joins == {"bank-pdx": "a part of the need"}


def test_a_member_joining_for_a_benefit_is_said_to_join_for_it() -> None:
    """Real data walk ("help enrolling families in SNAP, WIC and LIHEAP"): the Administration
    for Children and Families "joins the coalition for" the whole sentence; it joined for the
    LIHEAP no member before it covers, which it now names."""
    from matcher import benefits
    from matcher.coalition import Member
    from matcher.coalition_stage import _benefits_added

    bits = [benefits.BITS[k] for k in ("snap", "wic", "liheap")]
    split = {bit: benefits.key_of(bit) for bit in bits}
    snap, wic, heat = (split[b] for b in bits)
    fns = Member("fns", "government", 0.9, frozenset({"public_programmes", snap, wic}))
    acf = Member("acf", "government", 0.8, frozenset({"public_programmes", snap, heat}))
    late = Member("late", "nonprofit", 0.7, frozenset({"public_programmes", heat}))
    assert _benefits_added([fns, acf, late], split, {"fns"}) == {"acf": "LIHEAP"}
    both = Member("both", "government", 0.8, frozenset({wic, heat}))
    assert _benefits_added([both], split, set()) == {"both": "WIC and LIHEAP"}
    assert _benefits_added([fns, acf], {}, {"fns"}) == {}
