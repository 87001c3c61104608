"""One rule for "within reach of a need" (`matcher.reach`), read alike by the coalition and by
the organisation named for help no partner shown offers. Before, the two stages kept their own
copies: the coalition compared the need's region as written ('Washington' is not 'WA'),
and the naming stage left statewide bodies of the need's own state out of reach."""

from __future__ import annotations

import numpy as np

from matcher.coalition_stage import within_reach as coalition_within_reach
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.gap_offers import offered_elsewhere
from matcher.reach import nearest_within_reach, reach_km, serves_everywhere, within_reach
from matcher.score import Scored

VANCOUVER_WA = (45.63, -122.67)


def _add_spokane_statewide(engine: Engine, region: str) -> int:
    engine.create_organisation(
        Organisation(
            id="wa-food-network",
            name="Washington Food Network",
            sector="nonprofit",
            description="A statewide network of food banks delivering food to families.",
            offers=["food_supply"],
            region=region,
            country="US",
            lat=47.66,
            lon=-117.43,
            service_level="state",
        )
    )
    pos = engine.catalog.position_of_id("wa-food-network")
    assert pos is not None
    return pos


def test_the_mask_reads_the_need_state_by_code_or_name(engine: Engine) -> None:
    spokane = _add_spokane_statewide(engine, "Washington")
    pdx, sea = engine.catalog.position_of_id("fb-pdx"), engine.catalog.position_of_id("fb-sea")
    assert pdx is not None and sea is not None
    cat = engine.catalog
    rows = np.array([spokane, pdx, sea])
    km = np.array([440.0, 12.0, np.nan])
    for region in ("WA", "wa", "Washington"):
        assert serves_everywhere(cat, rows, region).tolist() == [True, False, False]
        assert within_reach(cat, rows, km, 200.0, region).tolist() == [True, True, True]
    assert within_reach(cat, rows, km, 200.0, "OR").tolist() == [False, True, True]
    assert within_reach(cat, rows, km, None, "OR").tolist() == [True, True, True]
    assert within_reach(cat, rows, km, 200.0, "Nowhere").tolist() == [False, True, True]
    assert reach_km(Need(text="food", lat=1.0, lon=2.0), 50.0) == 200.0
    assert reach_km(Need(text="food"), 50.0) is None


def test_the_coalition_keeps_a_statewide_body_of_the_need_state_however_spelled(
    engine: Engine,
) -> None:
    spokane = _add_spokane_statewide(engine, "Washington")
    pdx = engine.catalog.position_of_id("fb-pdx")
    assert pdx is not None
    state, near = Scored(spokane, 0.5, {}, 440.0, {}, {}), Scored(pdx, 0.5, {}, 12.0, {}, {})
    for region in ("WA", "Washington"):  # the code before: 'WASHINGTON' is not 'WA'
        got = coalition_within_reach(engine.catalog, [state, near], 200.0, region)
        assert got == [state, near], region
    assert coalition_within_reach(engine.catalog, [state, near], 200.0, "OR") == [near]


def test_a_statewide_body_of_the_need_state_may_be_named_for_help(engine: Engine) -> None:
    """For a Vancouver, WA need, the state's food network 440 km away is named when it matches
    the need far better than Portland's food bank across the river; the code before counted it
    out of reach, and far, and named Portland's."""
    spokane = _add_spokane_statewide(engine, "WA")
    cat = engine.catalog
    pdx = cat.position_of_id("fb-pdx")
    assert pdx is not None
    allowed = np.zeros_like(cat.alive_)
    allowed[[pdx, spokane]] = True
    cols = engine._score_columns()
    cols.fill(np.flatnonzero(allowed))
    network_better = lambda rows: np.where(rows == spokane, 0.9, 0.4).astype(np.float32)  # noqa: E731
    lat, lon = VANCOUVER_WA
    in_wa = Need(text="families need food", lat=lat, lon=lon, region="WA")
    got = offered_elsewhere(cat, cols, ["food_supply"], allowed, network_better, in_wa, 50.0)
    assert got["food_supply"].id == "wa-food-network"
    # the same place said to be in Oregon: the network is a far local body, Portland's is named
    in_or = Need(text="families need food", lat=lat, lon=lon, region="OR")
    got = offered_elsewhere(cat, cols, ["food_supply"], allowed, network_better, in_or, 50.0)
    assert got["food_supply"].id == "fb-pdx"


def test_with_none_within_reach_the_nearest_ring_is_preferred_not_everyone(
    engine: Engine,
) -> None:
    """A Fargo senior center's coalition took meal programmes 1,935 and 1,993 km away over one
    207 km away: none was within 200 km, so every candidate counted as near (a walk on real
    data). The nearest wider ring that holds any is preferred now; all only when none does."""
    pdx, sea = engine.catalog.position_of_id("fb-pdx"), engine.catalog.position_of_id("fb-sea")
    assert pdx is not None and sea is not None
    cat = engine.catalog
    rows = np.array([pdx, sea])
    assert nearest_within_reach(cat, rows, np.array([207.0, 1935.0]), 200.0, "ND").tolist() == [
        True,
        False,
    ]
    assert nearest_within_reach(cat, rows, np.array([700.0, 1935.0]), 200.0, "ND").tolist() == [
        True,
        False,
    ]
    assert nearest_within_reach(cat, rows, np.array([1200.0, 1935.0]), 200.0, "ND").tolist() == [
        True,
        True,
    ]
    assert nearest_within_reach(cat, rows, np.array([12.0, 1935.0]), None, "ND").tolist() == [
        True,
        True,
    ]
    far, nearer = Scored(sea, 0.9, {}, 1935.0, {}, {}), Scored(pdx, 0.5, {}, 207.0, {}, {})
    assert coalition_within_reach(cat, [far, nearer], 200.0, "ND") == [nearer]
