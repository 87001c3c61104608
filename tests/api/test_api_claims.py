"""Organisation claims: by e-mail domain (once confirmed) or by an admin's approval; members;
and an authorisation table over every account route."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from accounts_support import Signed, browser, log_in, outbox_token, sign_up, unique_email, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.accounts.domains import domain_matches


def make_org(client: TestClient, admin_key: str, website: str | None) -> str:
    body = {
        "name": f"Harbour Co-op {uuid.uuid4().hex[:6]}",
        "sector": "business",
        "description": "Cold storage and delivery vans for food banks.",
    }
    if website is not None:
        body["website"] = website
    r = client.post("/v1/organisations", json=body, headers=hdr(admin_key))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def claim(person: Signed, org_id: str) -> dict[str, object]:
    r = person.client.post(f"/v1/organisations/{org_id}/claims", headers=person.headers())
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize(
    ("domain", "website", "match"),
    [
        ("harbour.example", "https://www.harbour.example/about", True),
        ("harbour.example", "harbour.example", True),
        ("mail.harbour.example", "http://harbour.example", True),
        ("city.gov", "https://parks.city.gov", False),
        ("example.org", "https://www.food-bank.example.org", False),
        ("harbour.example", "https://harbour.example.evil.test", False),
        ("evilharbour.example", "https://harbour.example", False),
        ("gmail.com", "https://gmail.com", False),
        ("wixsite.com", "https://harbour.wixsite.com/coop", False),
        ("harbour.example", None, False),
        ("harbour.example", "not a url", False),
    ],
)
def test_domain_matching(domain: str, website: str | None, match: bool) -> None:
    assert domain_matches(domain, website) is match


def test_matching_domain_is_approved_once_the_email_is_confirmed(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    site = f"harbour-{uuid.uuid4().hex[:6]}.example"
    org = make_org(client, keys["admin"], f"https://www.{site}/")
    ana = sign_up(app, unique_email(site))
    first = claim(ana, org)
    assert first["status"] == "pending" and first["domain_match"] is True
    assert first["person_id"] == ana.person_id
    # a second claim while one is pending is a conflict
    r = ana.client.post(f"/v1/organisations/{org}/claims", headers=ana.headers())
    assert r.status_code == 409 and "pending" in r.json()["detail"], r.text
    verify(app, ana.email)
    me = ana.client.get("/v1/me").json()
    assert me["email_verified"] is True
    assert [(m["organisation_id"], m["role"]) for m in me["memberships"]] == [(org, "admin")]
    assert me["claims"][0]["status"] == "approved" and me["claims"][0]["method"] == "domain"

    # a second confirmed person at the domain is approved at once, as a member
    ben = sign_up(app, unique_email(site, "ben"))
    verify(app, ben.email)
    second = claim(ben, org)
    assert second["status"] == "approved" and second["method"] == "domain"
    members = ana.client.get(f"/v1/organisations/{org}/members").json()
    assert [(m["email"], m["role"]) for m in members] == [
        (ana.email, "admin"),
        (ben.email, "member"),
    ]
    # claiming again once a member is a conflict
    r = ben.client.post(f"/v1/organisations/{org}/claims", headers=ben.headers())
    assert r.status_code == 409 and "already a member" in r.json()["detail"]


def test_other_domain_waits_for_an_admin(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    org = make_org(client, keys["admin"], "https://harbour-admin.example")
    cy = sign_up(app, unique_email("elsewhere.example", "cy"))
    verify(app, cy.email)
    pending = claim(cy, org)
    assert pending["status"] == "pending" and pending["domain_match"] is False
    r = cy.client.get(f"/v1/organisations/{org}/members")
    assert r.status_code == 403  # not a member yet
    listed = client.get("/v1/claims?status=pending", headers=hdr(keys["admin"]))
    assert listed.status_code == 200 and pending["id"] in {c["id"] for c in listed.json()}
    r = client.post(f"/v1/claims/{pending['id']}/approve", headers=hdr(keys["editor"]))
    assert r.status_code == 403  # an editor key is not an admin
    r = client.post(f"/v1/claims/{pending['id']}/approve", headers=hdr(keys["admin"]))
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert r.json()["method"] == "admin"
    again = client.post(f"/v1/claims/{pending['id']}/approve", headers=hdr(keys["admin"]))
    assert again.status_code == 409
    members = cy.client.get(f"/v1/organisations/{org}/members")
    assert members.status_code == 200 and members.json()[0]["person_id"] == cy.person_id


def test_rejected_and_withdrawn_claims(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    org = make_org(client, keys["admin"], None)
    dee = sign_up(app)
    first = claim(dee, org)
    r = client.post(f"/v1/claims/{first['id']}/reject", headers=hdr(keys["admin"]))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    second = claim(dee, org)  # may ask again after a rejection
    r = dee.client.delete(f"/v1/claims/{second['id']}", headers=dee.headers())
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert dee.client.get("/v1/me").json()["memberships"] == []


def test_a_person_cannot_claim_for_another(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    org = make_org(client, keys["admin"], None)
    ana, eve = sign_up(app), sign_up(app)
    ana_claim = claim(ana, org)
    # the claim is always the caller's: a person id in the body is refused or ignored
    r = eve.client.post(
        f"/v1/organisations/{org}/claims",
        json={"person_id": ana.person_id},
        headers=eve.headers(),
    )
    assert r.status_code == 201 and r.json()["person_id"] == eve.person_id, r.text
    # eve cannot withdraw, approve or see ana's claim
    assert (
        eve.client.delete(f"/v1/claims/{ana_claim['id']}", headers=eve.headers()).status_code == 404
    )
    assert (
        eve.client.post(f"/v1/claims/{ana_claim['id']}/approve", headers=eve.headers()).status_code
        == 401
    )
    assert ana_claim["id"] not in {c["id"] for c in eve.client.get("/v1/me").json()["claims"]}
    assert ana.client.get("/v1/me").json()["claims"][0]["status"] == "pending"


def test_claims_of_unknown_unpublished_or_inactive_organisations(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    fay = sign_up(app)
    r = fay.client.post("/v1/organisations/no-such-org/claims", headers=fay.headers())
    assert r.status_code == 404, r.text
    hidden = make_org(client, keys["admin"], None)
    patch = client.patch(
        f"/v1/organisations/{hidden}",
        json={"published": False},
        headers=hdr(keys["admin"], **{"If-Match": '"1"'}),
    )
    assert patch.status_code == 200, patch.text
    r = fay.client.post(f"/v1/organisations/{hidden}/claims", headers=fay.headers())
    assert r.status_code == 404, r.text


def test_claim_from_the_profile_page(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    from accounts_support import page_csrf

    org = make_org(client, keys["admin"], None)
    gus = sign_up(app)
    page = gus.client.get(f"/organisations/{org}")
    assert "This is my organisation" in page.text
    token = page_csrf(page.text)
    assert gus.client.post(f"/organisations/{org}/claim", data={}).status_code == 403
    r = gus.client.post(f"/organisations/{org}/claim", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    account = gus.client.get("/account").text
    assert org in account and "waiting for an administrator" in account
    anon = browser(app).post(f"/organisations/{org}/claim", data={})
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")


# the authorisation table ----------------------------------------------------------------------
@dataclass
class World:
    org: str  # claimed: `member` belongs to it
    claimant_email: str  # a third person with pending claims
    member_email: str
    other_email: str
    admin_key: str
    app: FastAPI
    client: TestClient

    def claim_on_org(self) -> str:
        """A new person's pending claim on `org` (another domain: it waits for an admin)."""
        who = sign_up(self.app, unique_email("newcomer.example", "newcomer"))
        return str(claim(who, self.org)["id"])

    def new_member(self) -> str:
        """A new person made a member of `org` by the key admin; their person id."""
        who = sign_up(self.app, unique_email("joiner.example", "joiner"))
        made = claim(who, self.org)
        r = self.client.post(f"/v1/claims/{made['id']}/approve", headers=hdr(self.admin_key))
        assert r.status_code == 200, r.text
        return who.person_id

    def pending_claim(self) -> str:
        org = make_org(self.client, self.admin_key, None)
        who = log_in(self.app, self.claimant_email)
        return str(claim(who, org)["id"])


@pytest.fixture(scope="module")
def world(app: FastAPI, client: TestClient, keys: dict[str, str]) -> World:
    site = f"table-{uuid.uuid4().hex[:6]}.example"
    org = make_org(client, keys["admin"], f"https://{site}")
    member = sign_up(app, unique_email(site, "member"))
    verify(app, member.email)
    assert claim(member, org)["status"] == "approved"
    other = sign_up(app, unique_email("other.example", "other"))
    claimant = sign_up(app, unique_email("claimant.example", "claimant"))
    return World(org, claimant.email, member.email, other.email, keys["admin"], app, client)


ROLES = ("anonymous", "other", "member", "admin")


def _as(world: World, role: str) -> tuple[TestClient, dict[str, str]]:
    if role == "anonymous":
        return browser(world.app), {}
    if role == "admin":
        return browser(world.app), hdr(world.admin_key)
    who = log_in(world.app, world.other_email if role == "other" else world.member_email)
    return who.client, who.headers()


Route = tuple[str, Callable[[World], str], dict[str, object] | None]
ORG_MEMBERS: Route = ("GET", lambda w: f"/v1/organisations/{w.org}/members", None)
ORG_CLAIM: Route = ("POST", lambda w: f"/v1/organisations/{w.org}/claims", None)
ME: Route = ("GET", lambda w: "/v1/me", None)
RESEND: Route = ("POST", lambda w: "/v1/me/email-verification", None)
LOGOUT: Route = ("DELETE", lambda w: "/v1/session", None)
CLAIMS: Route = ("GET", lambda w: "/v1/claims?status=pending", None)
APPROVE: Route = ("POST", lambda w: f"/v1/claims/{w.pending_claim()}/approve", None)
REJECT: Route = ("POST", lambda w: f"/v1/claims/{w.pending_claim()}/reject", None)
WITHDRAW: Route = ("DELETE", lambda w: f"/v1/claims/{w.pending_claim()}", None)
ORG_CLAIMS: Route = ("GET", lambda w: f"/v1/organisations/{w.org}/claims", None)
ORG_APPROVE: Route = (
    "POST",
    lambda w: f"/v1/organisations/{w.org}/claims/{w.claim_on_org()}/approve",
    None,
)
ORG_REJECT: Route = (
    "POST",
    lambda w: f"/v1/organisations/{w.org}/claims/{w.claim_on_org()}/reject",
    None,
)
SET_ROLE: Route = (
    "PATCH",
    lambda w: f"/v1/organisations/{w.org}/members/{w.new_member()}",
    {"role": "admin"},
)
REMOVE: Route = ("DELETE", lambda w: f"/v1/organisations/{w.org}/members/{w.new_member()}", None)

# (route, role, expected status). `other` is signed in but not a member of the organisation;
# `member` belongs to it; `admin` is an admin API key without a person's session.
TABLE: list[tuple[str, Route, str, int]] = [
    ("members", ORG_MEMBERS, "anonymous", 401),
    ("members", ORG_MEMBERS, "other", 403),
    ("members", ORG_MEMBERS, "member", 200),
    ("members", ORG_MEMBERS, "admin", 200),
    ("claim org", ORG_CLAIM, "anonymous", 401),
    ("claim org", ORG_CLAIM, "member", 409),
    ("claim org", ORG_CLAIM, "admin", 401),
    ("me", ME, "anonymous", 401),
    ("me", ME, "other", 200),
    ("me", ME, "member", 200),
    ("me", ME, "admin", 401),
    ("resend", RESEND, "anonymous", 401),
    ("resend", RESEND, "other", 202),
    ("resend", RESEND, "member", 202),
    ("resend", RESEND, "admin", 401),
    ("logout", LOGOUT, "anonymous", 401),
    ("logout", LOGOUT, "other", 204),
    ("logout", LOGOUT, "admin", 401),
    ("claims", CLAIMS, "anonymous", 401),
    ("claims", CLAIMS, "other", 401),
    ("claims", CLAIMS, "member", 401),
    ("claims", CLAIMS, "admin", 200),
    ("approve", APPROVE, "anonymous", 401),
    ("approve", APPROVE, "other", 401),
    ("approve", APPROVE, "member", 401),
    ("approve", APPROVE, "admin", 200),
    ("reject", REJECT, "anonymous", 401),
    ("reject", REJECT, "other", 401),
    ("reject", REJECT, "member", 401),
    ("reject", REJECT, "admin", 200),
    ("withdraw another's claim", WITHDRAW, "anonymous", 401),
    ("withdraw another's claim", WITHDRAW, "other", 404),
    ("withdraw another's claim", WITHDRAW, "member", 404),
    ("withdraw another's claim", WITHDRAW, "admin", 401),
    # an organisation's admins (`member` is the first member of `org`, so its admin)
    *[
        (name, route, role, code)
        for name, route, ok in (
            ("org claims", ORG_CLAIMS, 200),
            ("org approve", ORG_APPROVE, 200),
            ("org reject", ORG_REJECT, 200),
            ("set role", SET_ROLE, 200),
            ("remove member", REMOVE, 204),
        )
        for role, code in (("anonymous", 401), ("other", 404), ("member", ok), ("admin", 401))
    ],
]


@pytest.mark.parametrize(
    ("name", "route", "role", "expected"), TABLE, ids=[f"{n}-{r}" for n, _, r, _ in TABLE]
)
def test_authorisation_table(
    world: World, name: str, route: Route, role: str, expected: int
) -> None:
    method, path, body = route
    url = path(world)
    c, headers = _as(world, role)
    r = c.request(method, url, headers=headers, json=body)
    assert r.status_code == expected, (name, role, r.status_code, r.text)
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert world.member_email not in r.text  # no member's e-mail in a refusal


def test_table_covers_every_account_route(app: FastAPI) -> None:
    spec = app.openapi()
    person_routes = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if "accounts" in op.get("tags", [])
    }
    # reached anonymously by design (sign-up, log-in, link tokens): tested in test_api_accounts
    open_routes = {
        ("POST", "/v1/people"),
        ("POST", "/v1/session"),
        ("POST", "/v1/email-verifications"),
        ("POST", "/v1/password-resets"),
        ("POST", "/v1/password-resets/confirm"),
    }
    tabled = {
        ("GET", "/v1/organisations/{org_id}/members"),
        ("POST", "/v1/organisations/{org_id}/claims"),
        ("GET", "/v1/me"),
        ("POST", "/v1/me/email-verification"),
        ("DELETE", "/v1/session"),
        ("GET", "/v1/claims"),
        ("POST", "/v1/claims/{claim_id}/approve"),
        ("POST", "/v1/claims/{claim_id}/reject"),
        ("DELETE", "/v1/claims/{claim_id}"),
        ("GET", "/v1/organisations/{org_id}/claims"),
        ("POST", "/v1/organisations/{org_id}/claims/{claim_id}/{decision}"),
        ("PATCH", "/v1/organisations/{org_id}/members/{person_id}"),
        ("DELETE", "/v1/organisations/{org_id}/members/{person_id}"),
        ("POST", "/v1/me/organisations"),
        ("PATCH", "/v1/me/organisations/{org_id}"),
    }
    assert person_routes == open_routes | tabled
    assert {name for name, *_ in TABLE} >= {
        "members",
        "claim org",
        "me",
        "approve",
        "withdraw another's claim",
    }


def test_verification_link_is_single_use(app: FastAPI, client: TestClient) -> None:
    me = sign_up(app)
    token = outbox_token(app, me.email, "verify")
    assert browser(app).get(f"/verify?token={token}").status_code == 200
    again = browser(app).get(f"/verify?token={token}")
    assert again.status_code == 404 and "already used" in again.text


def test_an_organisation_admin_decides_claims_and_removes_members_on_the_account_page(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    from accounts_support import page_csrf

    site = f"page-admin-{uuid.uuid4().hex[:6]}.example"
    org = make_org(client, keys["admin"], f"https://{site}")
    boss = sign_up(app, unique_email(site, "boss"))
    verify(app, boss.email)
    assert claim(boss, org)["status"] == "approved"  # first member: admin
    newcomer = sign_up(app, unique_email("elsewhere.example", "newcomer"))
    pending = claim(newcomer, org)
    page = boss.client.get("/account").text
    name = client.get(f"/v1/organisations/{org}", headers=hdr(keys["admin"])).json()["name"]
    # by its name, not its id (a real data walk read "ein-363540471: pending")
    assert f"People of {name}" in page and f"/claims/{pending['id']}/approve" in page
    claims = newcomer.client.get("/account").text.split('<ul class="claims">')[1].split("</ul>")[0]
    assert f'<a href="/organisations/{org}">{name}</a>: pending' in claims
    r = boss.client.post(
        f"/account/organisations/{org}/claims/{pending['id']}/approve",
        data={"csrf_token": page_csrf(page)},
    )
    assert r.status_code == 303
    members = {
        m["person_id"]: m["role"]
        for m in boss.client.get(f"/v1/organisations/{org}/members").json()
    }
    assert members[newcomer.person_id] == "member"
    page = boss.client.get("/account").text
    assert "Claims waiting for you" not in page
    no_token = boss.client.post(f"/account/organisations/{org}/members/{newcomer.person_id}/remove")
    assert no_token.status_code == 403
    r = boss.client.post(
        f"/account/organisations/{org}/members/{newcomer.person_id}/remove",
        data={"csrf_token": page_csrf(page)},
    )
    assert r.status_code == 303
    assert newcomer.person_id not in {
        m["person_id"] for m in boss.client.get(f"/v1/organisations/{org}/members").json()
    }
    # a plain member sees no management section; removing someone else is refused
    outsider_page = newcomer.client.get("/account").text
    assert "People of" not in outsider_page
    r = newcomer.client.post(
        f"/account/organisations/{org}/members/{boss.person_id}/remove",
        data={"csrf_token": page_csrf(outsider_page)},
    )
    assert r.status_code == 404
