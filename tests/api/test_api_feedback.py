"""POST /v1/feedback stores outcomes tied to a served recommendation; analysts export them."""

from __future__ import annotations

from typing import Any

from api_support import hdr
from fastapi.testclient import TestClient


def _recommendation(client: TestClient, key: str) -> dict[str, Any]:
    r = client.post(
        "/v1/recommendations",
        json={"text": "After-school tutoring and laptops for teenagers", "limit": 5},
        headers=hdr(key),
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_feedback_is_stored_and_exported(client: TestClient, keys: dict[str, str]) -> None:
    rec = _recommendation(client, keys["reader"])
    org_id = rec["results"][0]["id"]
    body = {
        "recommendation_id": rec["recommendation_id"],
        "organisation_id": org_id,
        "outcome": "contacted",
        "note": "Phoned them",
    }
    r = client.post("/v1/feedback", json=body, headers=hdr(keys["reader"]))
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "contacted" and r.json()["id"] >= 1
    export = client.get(
        "/v1/feedback?outcome=contacted&page_size=200", headers=hdr(keys["analyst"])
    )
    assert export.status_code == 200
    assert any(
        f["recommendation_id"] == rec["recommendation_id"] and f["organisation_id"] == org_id
        for f in export.json()["items"]
    )
    assert client.get("/v1/feedback", headers=hdr(keys["reader"])).status_code == 403
    assert client.get("/v1/feedback").status_code == 401


def test_feedback_must_match_a_served_recommendation(
    client: TestClient, keys: dict[str, str]
) -> None:
    rec = _recommendation(client, keys["reader"])
    # every organisation the answer shows may be marked: the overall list, the sector lists
    # and the coalition (an outsider taken from outside the overall list alone was in a
    # sector list once the ranking changed, and its mark was rightly taken)
    shown = {m["id"] for m in rec["results"]} | {m["id"] for m in rec["coalition"]["members"]}
    shown |= {m["id"] for ms in rec["by_sector"].values() for m in ms}
    outsider = next(
        o["id"]
        for o in client.get("/v1/organisations?page_size=200").json()["items"]
        if o["id"] not in shown
    )
    body = {
        "recommendation_id": rec["recommendation_id"],
        "organisation_id": outsider,
        "outcome": "not_relevant",
    }
    r = client.post("/v1/feedback", json=body, headers=hdr(keys["reader"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "organisation_id"
    r = client.post(
        "/v1/feedback",
        json={**body, "recommendation_id": "rec_missing"},
        headers=hdr(keys["reader"]),
    )
    assert r.status_code == 404
    r = client.post(
        "/v1/feedback", json={**body, "outcome": "loved_it"}, headers=hdr(keys["reader"])
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    assert client.post("/v1/feedback", json=body).status_code == 401


def test_page_feedback_form_without_key(client: TestClient, keys: dict[str, str]) -> None:
    rec = _recommendation(client, keys["reader"])
    form = {
        "recommendation_id": rec["recommendation_id"],
        "organisation_id": rec["results"][0]["id"],
        "outcome": "not_relevant",
    }
    r = client.post("/feedback", data=form, headers={"Accept": "application/json"})
    assert r.status_code == 201
    # no key and not signed in: stored, and the page is told it will not count
    assert r.json() == {
        "ok": True,
        "outcome": "not_relevant",
        "counted": False,
        "unconfirmed": False,
    }
    r = client.post("/feedback", data=form)
    assert r.status_code == 201 and "Thank you" in r.text
    r = client.post(
        "/feedback",
        data={**form, "recommendation_id": "rec_nope"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 404
