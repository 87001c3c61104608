"""/v1/saved-needs and /v1/alerts: save, list, run again, delete; alerts for the owner only;
the page's "Save this need" form; "run again" keeps the filters. Authorisation as a table."""

from __future__ import annotations

import re

import pytest
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.recids import in_flight_wait_seconds
from api.records import Records
from matcher.alerts import AlertWorker
from matcher.domain import Need
from matcher.engine import Engine
from matcher.notify.outbox import Outbox
from tests.support_resolver import fake_resolver

TEXT = "Our food bank needs a refrigerated van to deliver fresh groceries to elderly people."
ORG = {
    "name": "Cold Chain Grocers",
    "sector": "business",
    "description": TEXT
    + " We run refrigerated vans and deliver fresh groceries to elderly people.",
    "city": "Leeds",
    "country": "GB",
}


def _save(client: TestClient, key: str, **extra: object) -> dict[str, object]:
    body = {"text": TEXT, "limit": 3, **extra}
    r = client.post("/v1/saved-needs", json=body, headers=hdr(key))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/saved-needs/{r.json()['id']}"
    return dict(r.json())


@pytest.fixture(scope="module")
def saved(client: TestClient, keys: dict[str, str]) -> dict[str, object]:
    return _save(client, keys["editor"], notify_to="group@example.org")


def test_saved_need_keeps_need_filters_and_snapshot(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = _save(client, keys["reader"], filters={"country": "GB"}, wanted_sectors=["business"])
    assert body["need"]["text"] == TEXT  # type: ignore[index]
    assert body["filters"] == {"country": "GB", "region": None, "sizes": [], "exclude_ids": []}
    snap = body["snapshot"]
    assert isinstance(snap, list) and 0 < len(snap) <= 3
    assert all(set(e) == {"id", "score", "relevance"} for e in snap)
    listed = client.get("/v1/saved-needs", headers=hdr(keys["reader"])).json()
    assert body["id"] in [i["id"] for i in listed["items"]]
    # run again on today's data: the saved filters apply, and the result has a permalink
    r = client.post(f"/v1/saved-needs/{body['id']}/run", headers=hdr(keys["reader"]))
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["results"] and {m["sector"] for m in rec["results"]} == {"business"}
    assert {m["country"] for m in rec["results"]} == {"GB"}
    page = client.get(f"/r/{rec['recommendation_id']}")
    assert page.status_code == 200 and "Run again on today's data" in page.text


def test_bad_input_is_named(client: TestClient, keys: dict[str, str]) -> None:
    for body, field in (
        ({"text": TEXT, "notify_to": "not an address"}, "notify_to"),
        ({}, "text"),
        ({"text": TEXT, "recommendation_id": "rec_00"}, "recommendation_id"),
    ):
        r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
        assert r.status_code == 422, (body, r.text)
        assert field in r.text
    r = client.post(
        "/v1/saved-needs", json={"recommendation_id": "rec_0abc"}, headers=hdr(keys["editor"])
    )
    assert r.status_code == 404


def test_alert_for_a_new_matching_organisation_reaches_the_owner_only(
    client: TestClient, keys: dict[str, str], engine: Engine, saved: dict[str, object]
) -> None:
    worker = AlertWorker(engine)
    worker.run_once()
    before = client.get("/v1/alerts", headers=hdr(keys["editor"])).json()["total"]
    r = client.post("/v1/organisations", json=ORG, headers=hdr(keys["editor2"]))
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    report = worker.run_once()
    assert saved["id"] in [a.saved_need_id for a in report.alerts]
    mine = client.get("/v1/alerts", headers=hdr(keys["editor"])).json()
    assert mine["total"] == before + 1
    alert = next(a for a in mine["items"] if a["saved_need_id"] == saved["id"])
    assert new_id in alert["organisation_ids"]
    assert alert["notification_key"] == f"saved-need:{saved['id']}:{alert['day']}"
    assert Outbox(engine.store.db).get(alert["notification_key"]).recipient == "group@example.org"
    theirs = client.get("/v1/alerts", headers=hdr(keys["editor2"])).json()
    assert saved["id"] not in [a["saved_need_id"] for a in theirs["items"]]
    filtered = client.get(
        "/v1/alerts", params={"saved_need_id": saved["id"]}, headers=hdr(keys["editor2"])
    ).json()
    assert filtered["total"] == 0


# (method, path template, caller, expected status): caller "owner" saved it, "other" did not
AUTH_TABLE = [
    ("get", "/v1/saved-needs/{id}", "owner", 200),
    ("get", "/v1/saved-needs/{id}", "other", 404),
    ("get", "/v1/saved-needs/{id}", "admin", 404),
    ("get", "/v1/saved-needs/{id}", None, 401),
    ("post", "/v1/saved-needs/{id}/run", "owner", 200),
    ("post", "/v1/saved-needs/{id}/run", "other", 404),
    ("post", "/v1/saved-needs/{id}/run", None, 401),
    ("delete", "/v1/saved-needs/{id}", "other", 404),
    ("delete", "/v1/saved-needs/{id}", None, 401),
    ("get", "/v1/saved-needs", None, 401),
    ("get", "/v1/alerts", None, 401),
    ("post", "/v1/saved-needs", None, 401),
    ("post", "/v1/saved-needs/{id}/webhook-secret", "other", 404),
    ("post", "/v1/saved-needs/{id}/webhook-secret", "admin", 404),
    ("post", "/v1/saved-needs/{id}/webhook-secret", None, 401),
]


@pytest.mark.parametrize(("method", "path", "caller", "expected"), AUTH_TABLE)
def test_authorisation(
    client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    caller: str | None,
    expected: int,
) -> None:
    sid = _save(client, keys["editor"])["id"]
    key = {"owner": keys["editor"], "other": keys["editor2"], "admin": keys["admin"]}.get(
        caller or ""
    )
    kwargs: dict[str, object] = {"headers": hdr(key) if key else {}}
    if method == "post" and path == "/v1/saved-needs":
        kwargs["json"] = {"text": TEXT}
    r = getattr(client, method)(path.format(id=sid), **kwargs)
    assert r.status_code == expected, r.text
    # the saved need is still there for its owner unless the owner deleted it
    still = client.get(f"/v1/saved-needs/{sid}", headers=hdr(keys["editor"]))
    assert still.status_code == 200
    others = client.get("/v1/saved-needs", headers=hdr(keys["editor2"])).json()["items"]
    assert sid not in [i["id"] for i in others]


def test_owner_deletes(client: TestClient, keys: dict[str, str]) -> None:
    sid = _save(client, keys["editor"])["id"]
    assert client.delete(f"/v1/saved-needs/{sid}", headers=hdr(keys["editor"])).status_code == 204
    assert client.get(f"/v1/saved-needs/{sid}", headers=hdr(keys["editor"])).status_code == 404


def _rec_id(html: str) -> str:
    found = re.search(r'class="permalink" href="/r/([^"]+)"', html)
    assert found, "no permalink on the result page"
    return found.group(1)


def test_page_saves_the_shown_need(client: TestClient, keys: dict[str, str]) -> None:
    html = client.post("/", data={"text": TEXT, "sectors": ["nonprofit"]}).text
    assert "Save this need" in html
    rec_id = _rec_id(html)
    bad = client.post(f"/r/{rec_id}/save", data={"api_key": "pm_nope_nope"})
    assert bad.status_code == 401
    r = client.post(
        f"/r/{rec_id}/save", data={"api_key": keys["reader"], "notify_to": "me@example.org"}
    )
    assert r.status_code == 201, r.text
    sid = re.search(r"<code>(sn_[0-9a-f]+)</code>", r.text)
    assert sid
    got = client.get(f"/v1/saved-needs/{sid.group(1)}", headers=hdr(keys["reader"])).json()
    assert got["need"]["text"] == TEXT and got["need"]["wanted_sectors"] == ["nonprofit"]
    assert got["notify_to"] == "me@example.org"


def test_run_again_keeps_the_filters(client: TestClient, keys: dict[str, str], app: object) -> None:
    body = {"text": TEXT, "filters": {"country": "GB"}, "limit": 5}
    rec = client.post("/v1/recommendations", json=body, headers=hdr(keys["reader"])).json()
    r = client.post(f"/r/{rec['recommendation_id']}/again", follow_redirects=False)
    assert r.status_code == 303
    new_id = r.headers["location"].rsplit("/", 1)[-1]
    records: Records = app.state.api.records  # type: ignore[attr-defined]
    again = records.get_recommendation(new_id)
    assert again.need["filters"]["country"] == "GB"
    assert again.recommendation is not None and again.recommendation.results
    assert {m.country for m in again.recommendation.results} == {"GB"}


def test_a_need_may_be_saved_from_a_recommendation_another_worker_just_served(
    client: TestClient,
    keys: dict[str, str],
    engine: Engine,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Still in another process's record queue: the save waits for its write (bounded). Both
    "workers" have a 1 s flush window, so the write surely comes after the request."""
    flush = 0.5
    records: Records = app.state.api.records
    monkeypatch.setattr(records, "in_flight_seconds", in_flight_wait_seconds(flush))
    other_worker = Records(engine.store.db, {"flush_seconds": flush})
    other_worker.start()
    try:
        rec = engine.recommend(Need(text=TEXT), limit=3)
        rec_id = other_worker.save_recommendation(rec, api_key_id=None)
        body = {"recommendation_id": rec_id}
        r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
        assert r.status_code == 201, r.text
        assert r.json()["need"]["text"] == TEXT
    finally:
        other_worker.stop()


HOOK = "https://hooks.example.org/alerts/T0KEN"


def test_a_webhook_url_gets_its_signing_secret_once_and_the_owner_replaces_it(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Returned in the create response only (no-store); never on GET or in the list; POST
    .../webhook-secret gives a new one, once; an e-mail address has none (422 naming
    notify_to)."""
    fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    r = client.post(
        "/v1/saved-needs", json={"text": TEXT, "notify_to": HOOK}, headers=hdr(keys["editor"])
    )
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    secret = body["webhook_secret"]
    assert isinstance(secret, str) and secret.startswith("whsec_") and len(secret) > 40
    sid = body["id"]
    got = client.get(f"/v1/saved-needs/{sid}", headers=hdr(keys["editor"]))
    assert "webhook_secret" not in got.json() and secret not in got.text
    listed = client.get("/v1/saved-needs", headers=hdr(keys["editor"]))
    assert secret not in listed.text
    rotated = client.post(f"/v1/saved-needs/{sid}/webhook-secret", headers=hdr(keys["editor"]))
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.json()
    assert new["saved_need_id"] == sid and new["webhook_secret"].startswith("whsec_")
    assert new["webhook_secret"] != secret
    mailed = _save(client, keys["editor"], notify_to="group@example.org")
    assert mailed["webhook_secret"] is None
    r = client.post(f"/v1/saved-needs/{mailed['id']}/webhook-secret", headers=hdr(keys["editor"]))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["notify_to"]


def test_the_page_shows_a_webhooks_secret_once(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    rec_id = _rec_id(client.post("/", data={"text": TEXT}).text)
    r = client.post(f"/r/{rec_id}/save", data={"api_key": keys["reader"], "notify_to": HOOK})
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    shown = re.search(r'<code class="secret">(whsec_[A-Za-z0-9_-]+)</code>', r.text)
    assert shown and "not shown again" in r.text
    sid = re.search(r"<code>(sn_[0-9a-f]+)</code>", r.text)
    assert sid
    assert f"is sent to {HOOK}" in r.text  # whole where it was just typed
    got = client.get(f"/v1/saved-needs/{sid.group(1)}", headers=hdr(keys["reader"]))
    assert got.json()["notify_to"] == "https://hooks.example.org/…"  # masked where read back
    assert shown.group(1) not in got.text
    mailed = client.post(
        f"/r/{rec_id}/save", data={"api_key": keys["reader"], "notify_to": "me@example.org"}
    )
    assert mailed.status_code == 201 and 'class="secret"' not in mailed.text


TOKEN_HOOK = "https://hooks.example.org/services/T0AAA/B0BBB/s3cr3tT0k3n?token=q9Wz"


def test_a_webhook_url_is_whole_when_created_and_masked_when_read_back(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook URL often carries its token in the path or query (Slack, Zapier): GET and
    the list show its host and last 4 characters only; the create response, to the owner who
    just typed it, shows it whole; an e-mail address is shown as it is."""
    fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    created = _save(client, keys["editor"], notify_to=TOKEN_HOOK)
    assert created["notify_to"] == TOKEN_HOOK
    sid = created["id"]
    got = client.get(f"/v1/saved-needs/{sid}", headers=hdr(keys["editor"]))
    assert got.status_code == 200, got.text
    assert got.json()["notify_to"] == "https://hooks.example.org/…q9Wz"
    listed = client.get("/v1/saved-needs?page_size=100", headers=hdr(keys["editor"]))
    assert listed.status_code == 200, listed.text
    (item,) = [i for i in listed.json()["items"] if i["id"] == sid]
    assert item["notify_to"] == "https://hooks.example.org/…q9Wz"
    for text in (got.text, listed.text):
        assert "s3cr3t" not in text and "/services/" not in text
    mailed = _save(client, keys["editor"], notify_to="group@example.org")
    got = client.get(f"/v1/saved-needs/{mailed['id']}", headers=hdr(keys["editor"]))
    assert got.json()["notify_to"] == "group@example.org"
