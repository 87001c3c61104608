"""Feedback cannot poison training: a label on a recommendation made without a requester, and
anonymous feedback from the web page, are accepted and the next fit succeeds, reporting what it
skipped (issue 9, item 3)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import hdr, quiet_api_settings, seed
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine
from training.fit import FitOptions, run_fit
from training.history import labelled_pairs, store_partnerships
from training.partnership import Partnership
from training.ranker import build_queries


@pytest.fixture(scope="module")
def lab_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = seed(tmp_path_factory.mktemp("labels") / "var")
    orgs = [o for _pk, o in engine.store.organisations()]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    items = [
        Partnership(
            id=f"p{i:03d}-{j}",
            source_id=orgs[i].id,
            partner_id=orgs[(i * 7 + j * 13 + 1) % len(orgs)].id,
            started_at=start + timedelta(days=i),
            outcome="partnered",
        )
        for i in range(30)
        for j in range(3)
    ]
    store_partnerships(engine.store, items)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def lab_client(lab_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(lab_engine.settings, quiet_api_settings(), engine=lab_engine)
    with TestClient(app) as c:
        ring = KeyRing(lab_engine.store.db)
        yield c, {r: ring.create(f"labels {r}", r)[0] for r in ("reader", "analyst")}


def _wait(client: TestClient, key: str, job_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/v1/analyst/train/{job_id}", headers=hdr(key)).json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_feedback_without_requester_and_anonymous_feedback_do_not_break_fit(
    lab_client: tuple[TestClient, dict[str, str]], lab_engine: Engine
) -> None:
    c, keys = lab_client
    need = {"text": "Families are skipping meals; we need fresh food and volunteers"}
    rec = c.post("/v1/recommendations", json=need, headers=hdr(keys["reader"])).json()
    first, second = rec["results"][0]["id"], rec["results"][1]["id"]
    body = {"recommendation_id": rec["recommendation_id"], "outcome": "contacted"}
    r = c.post("/v1/feedback", json={**body, "organisation_id": first}, headers=hdr(keys["reader"]))
    assert r.status_code == 201, r.text
    # the page's feedback form, without a key
    r = c.post(
        "/feedback",
        data={**body, "organisation_id": second},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 201, r.text

    # the requester-less label has the need as its subject and becomes a query on its text
    pairs = labelled_pairs(lab_engine.store)
    fed = pairs[pairs["origin"] == "feedback"]
    assert list(fed["partner_id"]) == [first], "anonymous feedback is not a training label"
    assert fed["source_id"].iloc[0].startswith("need:")
    queries = build_queries(pairs, lab_engine)
    assert any(q.need.text == need["text"] and first in q.gains for q in queries)

    r = c.post(
        "/v1/analyst/train", json={"max_test": 6, "min_pairs": 1}, headers=hdr(keys["analyst"])
    )
    assert r.status_code == 202, r.text
    job = _wait(c, keys["analyst"], r.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["skipped_labels"] == {"anonymous feedback": 1}, job


def test_fit_skips_and_counts_labels_it_cannot_use(lab_engine: Engine) -> None:
    # a partnership from a source that is neither an organisation nor carries any text
    store_partnerships(
        lab_engine.store,
        [Partnership(id="ghost-1", source_id="ghost-source", partner_id="ghost-partner")],
    )
    result = run_fit(
        lab_engine.settings,
        FitOptions(max_test=6, min_pairs=1, history_model=False, out_version="v0099"),
    )
    assert result.version == "v0099"
    assert result.skipped["unknown source without text"] == 1, result.skipped
    assert result.manifest["pairs"]["skipped"] == result.skipped
    assert any("skipped" in n for n in result.notes), result.notes


def test_answered_introductions_enter_the_fit(lab_engine: Engine) -> None:
    """An accepted introduction is a positive, a declined one a negative of the asking
    organisation's query on the request's need; `train fit` counts them by origin."""
    from datetime import UTC as _UTC

    from matcher.introductions import Introductions
    from matcher.store.models import MembershipRow, PersonRow
    from training.fit import prepare

    db = lab_engine.store.db
    orgs = [o.id for _pk, o in lab_engine.store.organisations()]
    asking, yes, no = orgs[3], orgs[11], orgs[17]
    now = datetime.now(_UTC)
    with db.session() as s:
        for pid, org in (("person_asker00001", asking), ("person_asked00001", yes)):
            s.add(
                PersonRow(
                    id=pid,
                    email=f"{pid}@example.org",
                    name="",
                    password_hash="!",
                    email_verified=True,
                    created_at=now,
                )
            )
            s.flush()  # the person first: memberships refer to it
            s.add(MembershipRow(organisation_id=org, person_id=pid, role="admin", created_at=now))
        s.add(
            MembershipRow(
                organisation_id=no, person_id="person_asked00001", role="member", created_at=now
            )
        )
    intros = Introductions(db)
    need = "Weekend drivers with vans to deliver food parcels to housebound families"
    accepted = intros.request("person_asker00001", yes, "Hello", need_text=need).introduction
    declined = intros.request("person_asker00001", no, "Hello", need_text=need).introduction
    intros.accept(accepted.id, "person_asked00001")
    intros.decline(declined.id, "person_asked00001")

    split = {"by": "time", "test_share": 0.2, "seed": 0, "max_test": 6}
    data = prepare(lab_engine, split, feedback=True)
    pairs = data["pairs"]
    mine = pairs[pairs["origin"] == "introduction"]
    assert set(mine["ref"]) == {accepted.id, declined.id}
    query = next(q for q in data["queries"] if q.source_id == asking and q.need.text == need)
    assert query.gains == {yes: 0.8} and query.negatives == {no}

    result = run_fit(
        lab_engine.settings,
        FitOptions(max_test=6, min_pairs=1, history_model=False, out_version="v0098"),
    )
    assert result.manifest["pairs"]["by_origin"]["introduction"] == 2, result.manifest["pairs"]


def test_a_label_trains_on_the_need_as_the_api_was_asked_it(
    lab_client: tuple[TestClient, dict[str, str]], lab_engine: Engine
) -> None:
    """The stored recommendation (as api/records.py writes it) carries the need's place,
    radius, sectors and filters into the pairs and the training query of its `need:` label."""
    c, keys = lab_client
    asked = {
        "text": "Warm winter coats and a hall for a clothing swap for low-income families",
        "place": "Portland, OR",
        "lat": 45.52,
        "lon": -122.68,
        "radius_km": 150,
        "wanted_sectors": ["nonprofit", "community"],
        "filters": {"exclude_ids": ["org-00001"]},
    }
    r = c.post("/v1/recommendations", json=asked, headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["results"], rec
    chosen = rec["results"][0]["id"]
    body = {"recommendation_id": rec["recommendation_id"], "organisation_id": chosen}
    r = c.post("/v1/feedback", json={**body, "outcome": "partnered"}, headers=hdr(keys["reader"]))
    assert r.status_code == 201, r.text

    pairs = labelled_pairs(lab_engine.store)
    row = pairs[pairs["ref"] == f"{rec['recommendation_id']}:{chosen}"].iloc[0]
    assert (row["need_place"], row["need_city"], row["need_region"]) == (
        "Portland, OR",
        "Portland",
        "OR",
    )
    assert row["need_radius_km"] == 150 and row["need_sectors"] == "nonprofit|community"
    assert row["need_filters"] == '{"exclude_ids": ["org-00001"]}'
    query = next(q for q in build_queries(pairs, lab_engine) if q.source_id == row["source_id"])
    assert query.source_id.startswith("need:") and chosen in query.gains
    assert (query.need.city, query.need.region, query.need.radius_km) == ("Portland", "OR", 150)
    assert (query.need.lat, query.need.lon) == (45.52, -122.68)
    assert query.filters is not None and query.filters.exclude_ids == ["org-00001"]
