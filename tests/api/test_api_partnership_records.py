"""/v1/partnership-records over HTTP: the flow two organisations' members follow, and an
authorisation table over every route and role (no third party reads, changes or even sees a
record; the proposer cannot accept for the partner)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from accounts_support import Signed, browser, log_in, sign_up, unique_email, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_api_claims import claim, make_org

PLAN = {
    "title": "Saturday food distribution",
    "goals": [
        {
            "id": "meals",
            "description": "More families fed each week",
            "indicator": "meals served a week",
            "baseline": 120,
            "target": 300,
        }
    ],
    "milestones": [{"id": "van", "title": "Refrigerated van in service", "due": "2027-02-01"}],
}


def _member(app: FastAPI, client: TestClient, admin_key: str, name: str) -> tuple[str, Signed]:
    site = f"{name}-{uuid.uuid4().hex[:6]}.example"
    org = make_org(client, admin_key, f"https://{site}")
    person = sign_up(app, unique_email(site, name))
    verify(app, person.email)
    assert claim(person, org)["status"] == "approved"
    return org, person


@dataclass
class Pair:
    app: FastAPI
    pantry: str
    grocer: str
    ana: Signed  # pantry
    ben: Signed  # grocer
    cat: Signed  # signed in, in neither
    admin_key: str

    def propose(self) -> dict[str, Any]:
        body = {"organisation_id": self.pantry, "partner_id": self.grocer, "plan": PLAN}
        r = self.ana.client.post("/v1/partnership-records", json=body, headers=self.ana.headers())
        assert r.status_code == 201, r.text
        return dict(r.json())

    def active(self) -> dict[str, Any]:
        rec = self.propose()
        r = self.ben.client.post(
            f"/v1/partnership-records/{rec['id']}/accept", headers=self.ben.headers()
        )
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module")
def pair(app: FastAPI, client: TestClient, keys: dict[str, str]) -> Pair:
    pantry, ana = _member(app, client, keys["admin"], "pantry")
    grocer, ben = _member(app, client, keys["admin"], "grocer")
    cat = sign_up(app, unique_email("elsewhere.example", "cat"))
    return Pair(app, pantry, grocer, ana, ben, cat, keys["admin"])


def test_two_organisations_keep_a_record_together(pair: Pair) -> None:
    ana, ben = pair.ana, pair.ben
    rec = pair.propose()
    assert rec["status"] == "proposed" and rec["version"] == 1
    url = f"/v1/partnership-records/{rec['id']}"
    inbox = ben.client.get("/v1/partnership-records?status=proposed").json()["items"]
    assert rec["id"] in {r["id"] for r in inbox}  # the partner's members see the proposal
    r = ben.client.post(f"{url}/accept", headers=ben.headers())
    assert r.status_code == 200 and r.json()["status"] == "active" and r.headers["etag"] == '"2"'
    plan = {**PLAN, "goals": [{**PLAN["goals"][0], "target": 400}]}
    r = ben.client.patch(url, json={"plan": plan}, headers={**ben.headers(), "If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3, r.text
    stale = ana.client.patch(url, json={"plan": PLAN}, headers={**ana.headers(), "If-Match": '"2"'})
    assert stale.status_code == 412, stale.text
    blind = ana.client.patch(url, json={"plan": PLAN}, headers=ana.headers())
    assert blind.status_code == 428
    r = ana.client.post(
        f"{url}/check-ins",
        json={"progress": {"meals": 260}, "rating": 4, "note": "two\x07 vans"},
        headers=ana.headers(),
    )
    assert r.status_code == 201 and r.json()["note"] == "two vans", r.text
    got = ben.client.get(url).json()
    assert got["progress"] == [{"goal_id": "meals", "latest": 260.0, "share_done": 0.5}]
    r = ben.client.post(
        f"{url}/close",
        json={"result": "achieved", "learned": "start the van run earlier"},
        headers={**ben.headers(), "If-Match": '"3"'},
    )
    assert r.status_code == 200 and r.json()["outcome"]["result"] == "achieved", r.text
    changes = [v["change"] for v in ana.client.get(f"{url}/versions").json()["items"]]
    assert changes == ["proposed", "accepted", "edited", "closed"]


def test_bad_input_is_named(pair: Pair) -> None:
    ana = pair.ana
    cases = [
        ({"organisation_id": pair.pantry, "partner_id": pair.pantry, "plan": PLAN}, 422, "two"),
        ({"organisation_id": pair.pantry, "partner_id": "nowhere", "plan": PLAN}, 422, "nowhere"),
        ({"organisation_id": pair.grocer, "partner_id": pair.pantry, "plan": PLAN}, 403, "member"),
        (
            {
                "organisation_id": pair.pantry,
                "partner_id": pair.grocer,
                "plan": {**PLAN, "goals": []},
            },
            422,
            "goals",
        ),
        (
            {
                "organisation_id": pair.pantry,
                "partner_id": pair.grocer,
                "plan": {**PLAN, "goals": [{**PLAN["goals"][0], "target": 120}]},
            },
            422,
            "target must differ",
        ),
    ]
    for body, code, words in cases:
        r = ana.client.post("/v1/partnership-records", json=body, headers=ana.headers())
        assert r.status_code == code and words in r.text, (body, r.status_code, r.text)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: dict[str, Any] | None
    state: str  # the record's state before the call: proposed or active


ROUTES = {
    "read": Case("read", "GET", lambda r: f"/v1/partnership-records/{r['id']}", None, "active"),
    "versions": Case(
        "versions", "GET", lambda r: f"/v1/partnership-records/{r['id']}/versions", None, "active"
    ),
    "check-ins": Case(
        "check-ins", "GET", lambda r: f"/v1/partnership-records/{r['id']}/check-ins", None, "active"
    ),
    "check in": Case(
        "check in",
        "POST",
        lambda r: f"/v1/partnership-records/{r['id']}/check-ins",
        {"rating": 3},
        "active",
    ),
    "edit": Case(
        "edit", "PATCH", lambda r: f"/v1/partnership-records/{r['id']}", {"plan": PLAN}, "active"
    ),
    "accept": Case(
        "accept", "POST", lambda r: f"/v1/partnership-records/{r['id']}/accept", None, "proposed"
    ),
    "decline": Case(
        "decline", "POST", lambda r: f"/v1/partnership-records/{r['id']}/decline", None, "proposed"
    ),
    "close": Case(
        "close",
        "POST",
        lambda r: f"/v1/partnership-records/{r['id']}/close",
        {"result": "not_achieved"},
        "active",
    ),
}
# (route, who, expected): proposer = a member of the proposing organisation, partner = a
# member of the invited one, other = signed in but in neither, anonymous, admin = an admin API
# key without a person's session
TABLE: list[tuple[str, str, int]] = [
    *[(name, "anonymous", 401) for name in ROUTES],
    *[(name, "admin", 401) for name in ROUTES],
    *[(name, "other", 404) for name in ROUTES],
    ("read", "proposer", 200),
    ("read", "partner", 200),
    ("versions", "partner", 200),
    ("check-ins", "proposer", 200),
    ("check in", "proposer", 201),
    ("check in", "partner", 201),
    ("edit", "partner", 200),
    ("accept", "proposer", 403),
    ("accept", "partner", 200),
    ("decline", "proposer", 403),
    ("decline", "partner", 200),
    ("close", "proposer", 200),
    ("close", "partner", 200),
]


@pytest.mark.parametrize(("name", "who", "expected"), TABLE, ids=[f"{n}-{w}" for n, w, _ in TABLE])
def test_authorisation_table(pair: Pair, name: str, who: str, expected: int) -> None:
    case = ROUTES[name]
    # each case on a fresh pair of records: close the open one first (one open record per pair)
    for r in pair.ana.client.get("/v1/partnership-records").json()["items"]:
        url = f"/v1/partnership-records/{r['id']}"
        if r["status"] == "proposed":
            pair.ben.client.post(f"{url}/decline", headers=pair.ben.headers())
        elif r["status"] == "active":
            pair.ana.client.post(
                f"{url}/close", json={"result": "achieved"}, headers=pair.ana.headers()
            )
    rec = pair.propose() if case.state == "proposed" else pair.active()
    if who == "anonymous":
        c, headers = browser(pair.app), {}
    elif who == "admin":
        c, headers = browser(pair.app), hdr(pair.admin_key)
    else:
        person = {"proposer": pair.ana, "partner": pair.ben, "other": pair.cat}[who]
        signed = log_in(pair.app, person.email)
        c, headers = signed.client, signed.headers()
    if case.method == "PATCH":
        headers = {**headers, "If-Match": f'"{rec["version"]}"'}
    r = c.request(case.method, case.path(rec), headers=headers, json=case.body)
    assert r.status_code == expected, (name, who, r.status_code, r.text)
    if r.status_code >= 400:
        assert PLAN["title"] not in r.text and pair.grocer not in r.text  # nothing leaks


def test_table_covers_every_route(app: FastAPI) -> None:
    spec = app.openapi()
    routes = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if "partnership records" in op.get("tags", [])
    }
    listed = {("POST", "/v1/partnership-records"), ("GET", "/v1/partnership-records")}
    tabled = {
        ({"read": "GET", "versions": "GET", "check-ins": "GET", "edit": "PATCH"}.get(n, "POST"), p)
        for n, p in {
            "read": "/v1/partnership-records/{record_id}",
            "versions": "/v1/partnership-records/{record_id}/versions",
            "check-ins": "/v1/partnership-records/{record_id}/check-ins",
            "check in": "/v1/partnership-records/{record_id}/check-ins",
            "edit": "/v1/partnership-records/{record_id}",
            "accept": "/v1/partnership-records/{record_id}/accept",
            "decline": "/v1/partnership-records/{record_id}/decline",
            "close": "/v1/partnership-records/{record_id}/close",
        }.items()
    }
    assert routes == listed | tabled
    assert {n for n, _, _ in TABLE} == set(ROUTES)


def test_the_page_draws_each_goal_and_takes_forms(pair: Pair) -> None:
    """The partner accepts on the page, both check in through the form, the chart shows the
    baseline, the target and one dot per check-in in each side's colour; a third party gets
    'not found'; a form without the CSRF token is refused; the note is escaped."""
    import re

    from accounts_support import page_csrf

    rec = pair.propose()
    url = f"/partnerships/{rec['id']}"
    ben = log_in(pair.app, pair.ben.email)
    page = ben.client.get(url)
    assert page.status_code == 200 and "proposes this partnership record" in page.text
    refused = ben.client.post(f"{url}/accept", data={})
    assert refused.status_code == 403
    r = ben.client.post(f"{url}/accept", data={"csrf_token": page_csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == url
    ana = log_in(pair.app, pair.ana.email)
    for who, value in ((ana, "180"), (ben, "260")):
        form = who.client.get(url).text
        r = who.client.post(
            f"{url}/check-in",
            data={
                "csrf_token": page_csrf(form),
                "goal-meals": value,
                "rating": "4",
                "note": "<b>two vans</b>",
            },
        )
        assert r.status_code == 303, r.text
    html = ana.client.get(url).text
    chart = html.split('class="goal-chart"')[1].split("</svg>")[0]
    assert "baseline 120, target 300, latest 260" in chart
    assert re.findall(r'<circle [^>]*fill="(#[0-9a-f]+)"', chart) == ["#1f6feb", "#c2410c"]
    assert "<b>two vans</b>" not in html and "&lt;b&gt;two vans&lt;/b&gt;" in html
    bad = ana.client.post(
        f"{url}/check-in", data={"csrf_token": page_csrf(html), "goal-meals": "lots"}
    )
    assert bad.status_code == 422 and "progress.meals" in bad.text
    cat = log_in(pair.app, pair.cat.email)
    assert cat.client.get(url).status_code == 404
    listed = ana.client.get("/partnerships").text
    assert f'href="/partnerships/{rec["id"]}"' in listed
    names = [
        pair.ana.client.get(f"/v1/organisations/{i}", headers=pair.ana.headers()).json()["name"]
        for i in (pair.pantry, pair.grocer)
    ]
    assert f"{names[0]} with {names[1]}" in listed  # names, not ids
    assert "POST /v1" not in cat.client.get("/partnerships").text  # the empty page: no API talk
    r = ana.client.post(
        f"{url}/close",
        data={"csrf_token": page_csrf(html), "result": "achieved", "learned": "vans first"},
    )
    assert r.status_code == 303
    assert "vans first" in ana.client.get(url).text
