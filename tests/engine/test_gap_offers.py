"""matcher.gap_offers: help no partner found offers is a gap only when no organisation the
filters allow offers it; otherwise the answer names the one closest to the need that does.

Walking the page on real data, a Missoula shelter's coalition said "No partner found offers
food supply" while Missoula's food bank, 3 km away, offers exactly that: the coalition draws on
each role's first candidates by overall fit only."""

from __future__ import annotations

import numpy as np
import pytest

import matcher.coalition_stage as coalition_stage
import matcher.engine as engine_module
from matcher.domain import Filters, Need, Organisation, Recommendation, Sector
from matcher.engine import Engine
from matcher.geo import haversine_km
from tests.engine.conftest import PORTLAND

ASKS = (
    "Our food bank needs refrigerated vans, job training for volunteers, grant funding and "
    "research to evaluate outcomes"
)


def _need() -> Need:
    return Need(
        text=ASKS, city="Portland", region="Oregon", country="US", lat=PORTLAND[0], lon=PORTLAND[1]
    )


def _offerers(engine: Engine, cap: str, filters: Filters | None) -> set[str]:
    """Ids of the organisations the filters allow that offer `cap` (every row read)."""
    cat = engine.catalog
    allowed = cat.mask(filters or Filters()) & cat.alive_
    cols = engine._score_columns()
    rows = np.flatnonzero(allowed)
    cols.fill(rows)
    return {cat.profile(int(p)).org.id for p in rows if cap in cols.offers_at(int(p))}


def _check(engine: Engine, rec: Recommendation, filters: Filters | None) -> None:
    co = rec.coalition
    for cap in rec.gaps:
        assert not _offerers(engine, cap, filters), cap  # truly no one offers it
    for cap, o in co.offered_elsewhere.items():
        assert cap in rec.required_capabilities and cap not in rec.gaps
        assert not co.covered.get(cap)
        assert o.id in _offerers(engine, cap, filters), (cap, o.name)
        assert o.name == engine.catalog.profile(engine.catalog.position_of_id(o.id)).org.name
    assert rec.gaps == co.gaps
    # help no member offers is a gap, named, or offered by a partner the sector lists show
    shown = {c for ms in rec.by_sector.values() for m in ms for c in m.covers}
    for cap in rec.required_capabilities:
        if not co.covered.get(cap):
            assert cap in co.gaps or cap in co.offered_elsewhere or cap in shown, cap


def test_help_offered_beyond_the_partners_found_is_named_not_called_a_gap(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coalition_stage, "COALITION_POOL", 1)  # the pool misses most offerers
    monkeypatch.setattr(engine_module, "PER_SECTOR", 1)  # and so do the lists
    rec = engine.recommend(_need())
    assert rec.coalition.offered_elsewhere  # fails on the code that called them gaps
    _check(engine, rec, None)
    for o in rec.coalition.offered_elsewhere.values():  # every profile here has a point
        org = engine.catalog.profile(engine.catalog.position_of_id(o.id)).org
        km = haversine_km(PORTLAND[0], PORTLAND[1], org.lat, org.lon)  # type: ignore[arg-type]
        assert o.distance_km == pytest.approx(km, abs=0.1)


def test_help_only_a_partner_beyond_the_lists_offers_is_named(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coalition draws on each role's first ten candidates, the sector lists show five: the
    page said "other partners found do (more partners by sector)" with none of them offering
    it (real data walk). One partner a sector here: what only the others offer is named."""
    monkeypatch.setattr(engine_module, "PER_SECTOR", 1)
    rec = engine.recommend(_need(), coalition_size=(1, 1))  # one member covers little
    assert all(len(ms) == 1 for ms in rec.by_sector.values())
    _check(engine, rec, None)  # the code before failed it: "volunteers" offered by no one shown
    assert rec.coalition.offered_elsewhere


def test_an_offerer_the_filters_exclude_is_never_named(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coalition_stage, "COALITION_POOL", 1)
    only = Filters(sectors=[Sector.nonprofit, Sector.government])
    rec = engine.recommend(_need(), filters=only)
    _check(engine, rec, only)
    named = {o.sector for o in rec.coalition.offered_elsewhere.values()}
    assert named <= {"nonprofit", "government"}


def test_with_every_candidate_in_the_pool_nothing_is_offered_elsewhere(engine: Engine) -> None:
    """The small corpus fits in the pools: what they miss, no one offers (a need without a
    point: a placed need's coalition leaves out the candidates beyond its reach)."""
    rec = engine.recommend(Need(text=ASKS))
    _check(engine, rec, None)
    assert rec.coalition.offered_elsewhere == {}  # _check alone passes whatever is named


def test_help_only_a_candidate_beyond_reach_offers_is_never_a_gap(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a Portland need the coalition leaves out Seattle's job centre (234 km), the only
    one offering jobs. The coalition's own gaps (of its pools) called jobs a gap; the page
    shows it among the partners by sector, and with no sector lists it is named."""
    rec = engine.recommend(_need())
    _check(engine, rec, None)
    assert "jobs" not in rec.gaps and "jobs" not in rec.coalition.offered_elsewhere
    assert any("jobs" in m.covers for m in rec.by_sector["government"])
    monkeypatch.setattr(engine_module, "PER_SECTOR", 0)  # no sector lists
    rec = engine.recommend(_need())
    _check(engine, rec, None)
    named = rec.coalition.offered_elsewhere.get("jobs")
    assert named is not None and named.id == "jobs-sea", rec.coalition.offered_elsewhere
    assert named.distance_km == pytest.approx(233.9, abs=1)


def test_of_offerers_matching_the_need_alike_the_nearest_is_named(engine: Engine) -> None:
    """Two food banks with the same words, one in Portland and one in Seattle: a Seattle need
    is pointed to Seattle's, a Portland need to one in Portland (a national body would be near
    everywhere; these two are not)."""
    from matcher.gap_offers import offered_elsewhere
    from tests.engine.conftest import SEATTLE

    cat = engine.catalog
    cols = engine._score_columns()
    allowed = cat.alive_.copy()
    cols.fill(np.flatnonzero(allowed))
    alike = lambda rows: np.full(rows.size, 0.5, np.float32)  # noqa: E731 - same meaning for all
    for (lat, lon), city in ((SEATTLE, "Seattle"), (PORTLAND, "Portland")):
        need = Need(text="hungry families need food", lat=lat, lon=lon)
        got = offered_elsewhere(cat, cols, ["food_supply"], allowed, alike, need, 50.0)
        named = got["food_supply"]
        org = cat.profile(cat.position_of_id(named.id)).org
        assert org.city == city and named.distance_km is not None and named.distance_km < 1


def test_the_organisation_named_is_the_closest_to_the_words_that_ask_the_help(
    engine: Engine,
) -> None:
    """For a Missoula shelter's "a partner to provide hot meals" the closest organisation to
    the whole need was a house for families of sick children; the words that ask the help now
    choose (real data walk). Here the whole need favours one food bank, the ask the other."""
    from matcher.gap_offers import ask_closeness, offered_elsewhere

    cat = engine.catalog
    cols = engine._score_columns()
    allowed = cat.alive_.copy()
    cols.fill(np.flatnonzero(allowed))
    pdx, sea = cat.position_of_id("fb-pdx"), cat.position_of_id("fb-sea")
    assert pdx is not None and sea is not None
    whole = lambda rows: np.where(rows == pdx, 0.9, 0.5).astype(np.float32)  # noqa: E731
    parts = ["We run a shelter", "hot meals for our guests"]
    clause_vecs = np.stack(
        [cat.vectors[pdx] * 0 + 1 / np.sqrt(cat.vectors.shape[1]), cat.vectors[sea]]
    )
    by_ask = ask_closeness(cat, ["food_supply"], {"food_supply": "hot meals"}, parts, clause_vecs)
    assert set(by_ask) == {"food_supply"}
    np.testing.assert_allclose(
        by_ask["food_supply"](np.array([sea])),
        [float(cat.vectors[sea] @ cat.vectors[sea])],
        atol=1e-5,
    )
    need = Need(text="shelter", lat=None, lon=None)
    named = offered_elsewhere(cat, cols, ["food_supply"], allowed, whole, need, 50.0)
    assert named["food_supply"].id == "fb-pdx"  # by the whole need
    named = offered_elsewhere(
        cat, cols, ["food_supply"], allowed, whole, need, 50.0, asked_closeness=by_ask
    )
    assert named["food_supply"].id == "fb-sea"  # by the words that ask it


def test_an_organisation_within_reach_is_named_before_a_closer_match_far_away(
    engine: Engine,
) -> None:
    """A Great Falls clinic asking volunteer dentists was pointed to a hospital auxiliary
    1,655 km away, closer by meaning than any Montana body offering volunteers (real data
    walk). Here Seattle's food bank matches a need far better than Portland's: for a Portland
    need Portland's, within reach (200 km at a 50 km scale), is named; for a Boise need, where
    neither is (540 and 650 km), the better match is."""
    from matcher.gap_offers import offered_elsewhere

    cat = engine.catalog
    cols = engine._score_columns()
    allowed = np.zeros_like(cat.alive_)
    pdx, sea = cat.position_of_id("fb-pdx"), cat.position_of_id("fb-sea")
    assert pdx is not None and sea is not None
    allowed[[pdx, sea]] = True
    cols.fill(np.flatnonzero(allowed))
    seattle_better = lambda rows: np.where(rows == sea, 0.9, 0.3).astype(np.float32)  # noqa: E731
    need = Need(text="hungry families need food", lat=PORTLAND[0], lon=PORTLAND[1])
    got = offered_elsewhere(cat, cols, ["food_supply"], allowed, seattle_better, need, 50.0)
    assert got["food_supply"].id == "fb-pdx"  # the code before named Seattle's (0.45 > 0.29)
    boise = Need(text="hungry families need food", lat=43.62, lon=-116.2)
    got = offered_elsewhere(cat, cols, ["food_supply"], allowed, seattle_better, boise, 50.0)
    assert got["food_supply"].id == "fb-sea"  # neither within reach: by fit


HUNGRY_AND_JOBLESS = (
    "Hungry families need groceries, hot meals and food parcels from a food bank, and job "
    "training and apprenticeships"
)


def _job_club() -> Organisation:
    return Organisation.model_validate(
        {
            "id": "jobclub-pdx",
            "name": "Lents Job Club",
            "sector": "nonprofit",
            "description": "Neighbourhood club where residents meet on Tuesdays.",
            "lat": PORTLAND[0] + 0.01,
            "lon": PORTLAND[1],
            "city": "Portland",
            "region": "Oregon",
            "country": "US",
            "offers": ["job training"],
        }
    )


def test_help_only_far_partners_listed_offer_names_one_near(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real-data walk (2026-12-04): a Providence eviction need's legal aid was left to a
    federal office "among the partners by sector below" while Rhode Island Legal Services, 1 km
    away, offers it. Here Seattle's job centre (234 km, beyond reach) is the one partner listed
    offering job training, and a Portland job club offers it too: it is named as nearer."""
    engine.store.upsert_organisations([_job_club()])
    engine.build()
    monkeypatch.setattr(coalition_stage, "COALITION_POOL", 1)
    monkeypatch.setattr(engine_module, "PER_SECTOR", 1)
    need = _need().model_copy(update={"text": HUNGRY_AND_JOBLESS})
    rec = engine.recommend(need, coalition_size=(1, 1))  # one member: the food bank
    co = rec.coalition
    shown = [m for ms in rec.by_sector.values() for m in ms]
    assert [m.id for m in shown if "jobs" in m.covers] == ["jobs-sea"], shown
    assert not co.covered.get("jobs")
    nearer = co.offered_nearer.get("jobs")
    assert nearer is not None and nearer.id == "jobclub-pdx", co.offered_nearer  # fails before
    assert nearer.distance_km is not None and nearer.distance_km < 5
    _check(engine, rec, None)
    for cap, o in co.offered_nearer.items():  # each: no member offers it, the offerer does
        assert not co.covered.get(cap) and o.id in _offerers(engine, cap, None)


def test_nothing_is_named_nearer_when_a_partner_listed_near_offers_it(engine: Engine) -> None:
    """With every partner listed (the small corpus fits), the Portland job club is shown and
    near: nothing is named nearer; and a need without a place has nothing near or far."""
    engine.store.upsert_organisations([_job_club()])
    engine.build()
    need = _need().model_copy(update={"text": HUNGRY_AND_JOBLESS})
    rec = engine.recommend(need)
    assert any(m.id == "jobclub-pdx" for ms in rec.by_sector.values() for m in ms)
    assert "jobs" not in rec.coalition.offered_nearer
    unplaced = engine.recommend(Need(text=need.text))
    assert unplaced.coalition.offered_nearer == {}
