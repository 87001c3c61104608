"""Answered introductions become labelled pairs for `matcher train fit`: accepted positive,
declined negative, a request alone left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from intro_world import World, add_org, make_world

from matcher.store import Store
from tests.support_databases import database_for
from training.history import labelled_pairs

NEED = "Weekend van drivers for food parcel deliveries."


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with database_for("sqlite", tmp_path) as db:
        yield make_world(db)


def test_answered_introductions_are_labels(world: World) -> None:
    w = world
    d = add_org(w.db, f"{w.a}-d", "Fourth Org")
    yes = w.intros.request(w.a_member, w.b, "Hi", need_text=NEED).introduction
    no = w.intros.request(w.a_member, w.c, "Hi", need_text="Park space for a market.")
    open_ = w.intros.request(w.a_member, d, "Hi", need_text=NEED).introduction
    w.intros.accept(yes.id, w.b_member)
    w.intros.decline(no.introduction.id, w.c_admin)

    pairs = labelled_pairs(Store(w.db))
    mine = pairs[pairs["origin"] == "introduction"]
    got = {
        (r.source_id, r.partner_id, r.label, r.weight, r.outcome, r.text) for r in mine.itertuples()
    }
    assert got == {
        (w.a, w.b, 1, 0.8, "accepted", NEED),
        (w.a, w.c, 0, 1.0, "declined", "Park space for a market."),
    }
    assert open_.id not in set(pairs["ref"])  # a request alone is no label
    assert mine["timestamp"].notna().all()
    without = labelled_pairs(Store(w.db), include_introductions=False)
    assert "introduction" not in set(without["origin"])
