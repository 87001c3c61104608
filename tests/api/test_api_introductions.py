"""/v1/introductions and the introduction pages over HTTP: the main flow, an authorisation
table over every route (no contact detail before consent, no one reads another organisation's
inbox or thread), the rate limit and the bad inputs, with clear problem details."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from accounts_support import Signed, browser, page_csrf, sign_up
from api_support import hdr, sample_needs
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from api.recids import in_flight_wait_seconds
from api.records import Records
from matcher.domain import utcnow
from matcher.engine import Engine
from matcher.introductions import Introductions
from matcher.store.models import MembershipRow, OrganisationRow

NEED = "Cold storage for 2 tonnes of donated food every week."


def new_org(app: FastAPI, label: str, *, active: bool = True, published: bool = True) -> str:
    """An organisation with a contact only its partners may see once they are introduced."""
    org_id = f"{label}-{uuid.uuid4().hex[:8]}"
    with app.state.api.db.session() as s:
        s.add(
            OrganisationRow(
                id=org_id,
                name=f"{label.capitalize()} Org {org_id[-4:]}",
                sector="business",
                description="Vans and cold storage.",
                focus_areas=[],
                offers=[],
                needs=[],
                contact=f"secret-contact-of-{org_id}",
                website=f"https://{org_id}.example",
                published=published,
                active=active,
                updated_at=utcnow(),
                text_hash="x",
                version=1,
            )
        )
    return org_id


def join(app: FastAPI, org_id: str, person_id: str, role: str = "member") -> None:
    with app.state.api.db.session() as s:
        s.add(
            MembershipRow(
                organisation_id=org_id, person_id=person_id, role=role, created_at=utcnow()
            )
        )


def intros(app: FastAPI) -> Introductions:
    service: Introductions = app.state.api.introductions
    return service


@dataclass
class People:
    asker: Signed  # member of the asking organisation
    asker_admin: Signed
    asked: Signed  # member of the asked organisation
    asked_admin: Signed
    other: Signed  # member of a third organisation

    def all(self) -> list[Signed]:
        return [self.asker, self.asker_admin, self.asked, self.asked_admin, self.other]


@dataclass
class Pair:
    x: str  # asking
    y: str  # asked


@pytest.fixture(scope="module")
def people(app: FastAPI, client: TestClient) -> People:
    crowd = People(*(sign_up(app) for _ in range(5)))
    join(app, new_org(app, "third"), crowd.other.person_id, "admin")
    return crowd


def new_pair(app: FastAPI, p: People) -> Pair:
    """Two new organisations; the four people of the pair belong to these only (so each asks
    for its one organisation without naming it)."""
    x, y = new_org(app, "asking"), new_org(app, "asked")
    four = [p.asker.person_id, p.asker_admin.person_id, p.asked.person_id, p.asked_admin.person_id]
    with app.state.api.db.session() as s:
        s.execute(delete(MembershipRow).where(MembershipRow.person_id.in_(four)))
    join(app, x, p.asker_admin.person_id, "admin")
    join(app, x, p.asker.person_id)
    join(app, y, p.asked_admin.person_id, "admin")
    join(app, y, p.asked.person_id)
    return Pair(x, y)


def post(who: Signed, url: str, body: dict[str, Any] | None = None) -> Any:
    return who.client.post(url, json=body, headers=who.headers())


def test_flow_over_the_api(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    r = post(
        people.asker,
        "/v1/introductions",
        {"to_organisation_id": p.y, "message": "Can we talk?\x1b", "need_text": NEED},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "requested" and made["side"] == "outgoing"
    assert made["message"] == "Can we talk?" and made["contact"] is None
    assert made["actions"] == ["withdraw"]
    assert r.headers["cache-control"] == "no-store"
    intro_id = made["id"]

    inbox = people.asked.client.get("/v1/introductions?box=incoming").json()
    assert [i["id"] for i in inbox["items"]][:1] == [intro_id]
    assert inbox["items"][0]["actions"] == ["accept", "decline"]
    assert people.asker.email not in str(inbox) and f"secret-contact-of-{p.x}" not in str(inbox)
    outbox = people.asker_admin.client.get("/v1/introductions?box=outgoing").json()
    assert intro_id in [i["id"] for i in outbox["items"]]
    assert f"secret-contact-of-{p.y}" not in str(outbox)

    r = post(people.asked, f"/v1/introductions/{intro_id}/accept")
    assert r.status_code == 200, r.text
    contact = r.json()["contact"]
    assert contact["contact"] == f"secret-contact-of-{p.x}"
    assert contact["person_email"] == people.asker.email
    seen = people.asker.client.get(f"/v1/introductions/{intro_id}").json()
    assert seen["status"] == "accepted"
    assert seen["contact"]["contact"] == f"secret-contact-of-{p.y}"
    assert seen["contact"]["person_email"] == people.asked.email

    r = post(people.asker, f"/v1/introductions/{intro_id}/messages", {"body": "Hello <b>you</b>"})
    assert r.status_code == 201 and r.json()["mine"] is True
    thread = people.asked_admin.client.get(f"/v1/introductions/{intro_id}/messages").json()
    assert [(m["body"], m["mine"]) for m in thread] == [("Hello <b>you</b>", False)]

    events = people.asked_admin.client.get(f"/v1/introductions/{intro_id}/events").json()
    assert [(e["kind"], e["actor_organisation_id"], e["actor_person_id"]) for e in events] == [
        ("requested", p.x, None),
        ("accepted", p.y, people.asked.person_id),
    ]

    # the page escapes the message and shows the contact details
    page = people.asked.client.get(f"/introductions/{intro_id}")
    assert page.status_code == 200
    assert "Hello &lt;b&gt;you&lt;/b&gt;" in page.text and "<b>you</b>" not in page.text
    assert f"secret-contact-of-{p.x}" in page.text and people.asker.email in page.text


def test_decline_over_the_api_hides_the_decliner(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    made = post(
        people.asker,
        "/v1/introductions",
        {"to_organisation_id": p.y, "message": "Hi", "need_text": NEED},
    )
    assert made.status_code == 201, made.text
    made = made.json()
    r = post(people.asked, f"/v1/introductions/{made['id']}/decline")
    assert r.status_code == 200 and r.json()["status"] == "declined"
    for who in (people.asker, people.asker_admin):
        seen = who.client.get(f"/v1/introductions/{made['id']}").text
        events = who.client.get(f"/v1/introductions/{made['id']}/events").text
        for text in (seen, events):
            assert people.asked.person_id not in text and people.asked.email not in text
    log = people.asker_admin.client.get(f"/v1/introductions/{made['id']}/events").json()
    assert log[-1]["kind"] == "declined" and log[-1]["actor_organisation_id"] == p.y
    assert log[-1]["actor_person_id"] is None and log[-1]["actor_name"] is None
    assert people.other.client.get(f"/v1/introductions/{made['id']}").status_code == 404


# the authorisation table ----------------------------------------------------------------------
# roles: anonymous; api-admin (an admin API key, no person); other (member of a third
# organisation); asker / asker-admin (member / admin of the asking organisation); asked /
# asked-admin (of the asked organisation); asked-no-csrf (asked, without the CSRF header).
# state: the introduction's state before the call ("none": no introduction yet).
Route = tuple[str, Callable[[str, Pair], str], Callable[[Pair], dict[str, Any]] | None]
CREATE: Route = (
    "POST",
    lambda i, p: "/v1/introductions",
    lambda p: {"to_organisation_id": p.y, "message": "Hello", "need_text": NEED},
)
INCOMING: Route = ("GET", lambda i, p: "/v1/introductions?box=incoming", None)
OUTGOING: Route = ("GET", lambda i, p: "/v1/introductions?box=outgoing", None)
GET: Route = ("GET", lambda i, p: f"/v1/introductions/{i}", None)
ACCEPT: Route = ("POST", lambda i, p: f"/v1/introductions/{i}/accept", None)
DECLINE: Route = ("POST", lambda i, p: f"/v1/introductions/{i}/decline", None)
WITHDRAW: Route = ("POST", lambda i, p: f"/v1/introductions/{i}/withdraw", None)
MESSAGES: Route = ("GET", lambda i, p: f"/v1/introductions/{i}/messages", None)
WRITE: Route = ("POST", lambda i, p: f"/v1/introductions/{i}/messages", lambda p: {"body": "Hi"})
EVENTS: Route = ("GET", lambda i, p: f"/v1/introductions/{i}/events", None)

TABLE: list[tuple[str, Route, str, str, int]] = [
    ("create", CREATE, "none", "anonymous", 401),
    ("create", CREATE, "none", "api-admin", 401),
    ("create", CREATE, "none", "other", 201),
    ("create", CREATE, "none", "asker", 201),
    ("create", CREATE, "none", "asked", 422),  # its own organisation
    ("create", CREATE, "none", "asker-no-csrf", 403),
    ("incoming", INCOMING, "requested", "anonymous", 401),
    ("incoming", INCOMING, "requested", "api-admin", 401),
    ("incoming", INCOMING, "requested", "other", 200),
    ("incoming", INCOMING, "requested", "asker", 200),
    ("incoming", INCOMING, "requested", "asked", 200),
    ("outgoing", OUTGOING, "requested", "other", 200),
    ("outgoing", OUTGOING, "requested", "asker", 200),
    ("outgoing", OUTGOING, "requested", "asked", 200),
    ("get", GET, "requested", "anonymous", 401),
    ("get", GET, "requested", "api-admin", 401),
    ("get", GET, "requested", "other", 404),
    ("get", GET, "requested", "asker", 200),
    ("get", GET, "requested", "asked", 200),
    ("get", GET, "accepted", "other", 404),
    ("get", GET, "accepted", "asker", 200),
    ("get", GET, "declined", "other", 404),
    ("get", GET, "declined", "asker", 200),
    ("accept", ACCEPT, "requested", "anonymous", 401),
    ("accept", ACCEPT, "requested", "api-admin", 401),
    ("accept", ACCEPT, "requested", "other", 404),
    ("accept", ACCEPT, "requested", "asker", 403),
    ("accept", ACCEPT, "requested", "asked-no-csrf", 403),
    ("accept", ACCEPT, "requested", "asked", 200),
    ("accept", ACCEPT, "requested", "asked-admin", 200),
    ("accept", ACCEPT, "declined", "asked", 409),
    ("decline", DECLINE, "requested", "anonymous", 401),
    ("decline", DECLINE, "requested", "other", 404),
    ("decline", DECLINE, "requested", "asker", 403),
    ("decline", DECLINE, "requested", "asked", 200),
    ("decline", DECLINE, "accepted", "asked", 409),
    ("withdraw", WITHDRAW, "requested", "anonymous", 401),
    ("withdraw", WITHDRAW, "requested", "other", 404),
    ("withdraw", WITHDRAW, "requested", "asked", 403),
    ("withdraw", WITHDRAW, "requested", "asker", 200),
    ("withdraw", WITHDRAW, "accepted", "asker", 409),
    ("messages", MESSAGES, "accepted", "anonymous", 401),
    ("messages", MESSAGES, "accepted", "api-admin", 401),
    ("messages", MESSAGES, "accepted", "other", 404),
    ("messages", MESSAGES, "accepted", "asker", 200),
    ("messages", MESSAGES, "accepted", "asked", 200),
    ("messages", MESSAGES, "requested", "asker", 409),
    ("messages", MESSAGES, "requested", "other", 404),
    ("write", WRITE, "accepted", "anonymous", 401),
    ("write", WRITE, "accepted", "other", 404),
    ("write", WRITE, "accepted", "asker-no-csrf", 403),
    ("write", WRITE, "accepted", "asker", 201),
    ("write", WRITE, "accepted", "asked", 201),
    ("write", WRITE, "requested", "asker", 409),
    ("write", WRITE, "declined", "asked", 409),
    ("events", EVENTS, "requested", "anonymous", 401),
    ("events", EVENTS, "requested", "api-admin", 401),
    ("events", EVENTS, "requested", "other", 404),
    ("events", EVENTS, "requested", "asker", 403),
    ("events", EVENTS, "requested", "asked", 403),
    ("events", EVENTS, "requested", "asker-admin", 200),
    ("events", EVENTS, "declined", "asker-admin", 200),
    ("events", EVENTS, "requested", "asked-admin", 200),
]


def _caller(
    app: FastAPI, people: People, role: str, admin_key: str
) -> tuple[TestClient, dict[str, str]]:
    if role == "anonymous":
        return browser(app), {}
    if role == "api-admin":
        return browser(app), hdr(admin_key)
    name = role.removesuffix("-no-csrf").replace("-", "_")
    who: Signed = getattr(people, name)
    return who.client, ({} if role.endswith("-no-csrf") else who.headers())


def _prepare(app: FastAPI, people: People, state: str) -> tuple[str, Pair]:
    pair = new_pair(app, people)
    if state == "none":
        return "intro_000000000000", pair
    service = intros(app)
    made = service.request(people.asker.person_id, pair.y, "Hello", need_text=NEED)
    intro_id = made.introduction.id
    if state == "accepted":
        service.accept(intro_id, people.asked.person_id)
    elif state == "declined":
        service.decline(intro_id, people.asked.person_id)
    return intro_id, pair


@pytest.mark.parametrize(
    ("name", "route", "state", "role", "expected"),
    TABLE,
    ids=[f"{n}-{s}-{r}" for n, _, s, r, _ in TABLE],
)
def test_authorisation_table(
    app: FastAPI,
    people: People,
    keys: dict[str, str],
    name: str,
    route: Route,
    state: str,
    role: str,
    expected: int,
) -> None:
    intro_id, pair = _prepare(app, people, state)
    method, path, body = route
    c, headers = _caller(app, people, role, keys["admin"])
    r = c.request(method, path(intro_id, pair), headers=headers, json=body(pair) if body else None)
    assert r.status_code == expected, (name, state, role, r.status_code, r.text)
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
    now_accepted = state == "accepted" or (name == "accept" and r.status_code == 200)
    consented = now_accepted and role in ("asker", "asked", "asker-admin", "asked-admin")
    secrets = [f"secret-contact-of-{pair.x}", f"secret-contact-of-{pair.y}"]
    secrets += [people.asker.email, people.asked.email]
    if not consented:  # no contact detail before consent, nor to anyone else
        for secret in secrets:
            assert secret not in r.text, (name, state, role, secret)
    if role in ("other", "anonymous", "api-admin") and r.status_code < 400:
        assert intro_id not in r.text  # not in another organisation's inbox either
    if name in ("incoming", "outgoing") and role in ("asker", "asked"):
        listed = intro_id in r.text
        assert listed == ((name == "incoming") == (role == "asked")), (name, role)


def test_table_covers_every_introduction_route(app: FastAPI) -> None:
    spec = app.openapi()
    routes = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if "introductions" in op.get("tags", [])
    }
    templates = {
        "create": ("POST", "/v1/introductions"),
        "incoming": ("GET", "/v1/introductions"),
        "get": ("GET", "/v1/introductions/{intro_id}"),
        "accept": ("POST", "/v1/introductions/{intro_id}/accept"),
        "decline": ("POST", "/v1/introductions/{intro_id}/decline"),
        "withdraw": ("POST", "/v1/introductions/{intro_id}/withdraw"),
        "messages": ("GET", "/v1/introductions/{intro_id}/messages"),
        "write": ("POST", "/v1/introductions/{intro_id}/messages"),
        "events": ("GET", "/v1/introductions/{intro_id}/events"),
    }
    assert routes == set(templates.values())
    assert {name for name, *_ in TABLE} >= set(templates)


# bad input ---------------------------------------------------------------------------------
def _ask(who: Signed, to: str, **extra: Any) -> Any:
    body = {"to_organisation_id": to, "message": "Hello", "need_text": NEED, **extra}
    return post(who, "/v1/introductions", body)


@contextmanager
def per_day(app: FastAPI, n: int) -> Iterator[None]:
    service = intros(app)
    saved = service.settings
    service.settings = replace(saved, per_day=n)
    try:
        yield
    finally:
        service.settings = saved


def test_bad_requests_get_clear_problems(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    cases = [
        (_ask(people.asker, p.x), 422, "cannot ask itself"),
        (_ask(people.asker, "no-such-org"), 404, "no organisation 'no-such-org'"),
        (_ask(people.asker, new_org(app, "closed", active=False)), 422, "is inactive"),
        (_ask(people.asker, p.y, need_text=""), 422, "name the need"),
        (_ask(people.asker, p.y, message="x" * 2001), 422, "at most 2000"),
        (_ask(people.asker, p.y, recommendation_id="rec_nope"), 404, "no recommendation"),
        (_ask(people.asker, p.y, from_organisation_id=p.y), 403, "not a member"),
    ]
    for r, status, words in cases:
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert words in r.json()["detail"], r.json()
    loner = sign_up(app)
    r = _ask(loner, p.y)
    assert r.status_code == 403 and "join your organisation" in r.json()["detail"]
    bad = _ask(people.asker, p.y, message="x" * 2001).json()
    assert bad["errors"][0]["field"] == "message"

    first = _ask(people.asker, p.y)
    assert first.status_code == 201
    dupe = _ask(people.asker_admin, p.y)
    assert dupe.status_code == 409 and "waiting for an answer" in dupe.json()["detail"]
    back = _ask(people.asked, p.x)
    assert back.status_code == 409 and "accept that request instead" in back.json()["detail"]
    post(people.asked, f"/v1/introductions/{first.json()['id']}/decline")
    again = _ask(people.asker, p.y)
    assert again.status_code == 409 and "may ask again from" in again.json()["detail"]


def test_rate_limit_per_organisation(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    targets = [new_org(app, "target") for _ in range(3)]
    with per_day(app, 2):
        assert _ask(people.asker, targets[0]).status_code == 201
        assert _ask(people.asker_admin, targets[1]).status_code == 201
        r = _ask(people.asker, targets[2])
        assert r.status_code == 429, r.text
        assert "2 introduction requests in the last 24 hours" in r.json()["detail"]
        assert 86000 < int(r.headers["retry-after"]) <= 86400
        assert _ask(people.other, targets[2]).status_code == 201  # another organisation
    assert p.x  # the pair's organisation had the budget


def test_bad_messages(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    made = _ask(people.asker, p.y).json()
    early = post(people.asker, f"/v1/introductions/{made['id']}/messages", {"body": "Hi"})
    assert early.status_code == 409 and "opens once it is accepted" in early.json()["detail"]
    post(people.asked, f"/v1/introductions/{made['id']}/accept")
    url = f"/v1/introductions/{made['id']}/messages"
    assert post(people.asker, url, {"body": "x" * 2001}).status_code == 422
    assert post(people.asker, url, {"body": "\x07\x1b"}).status_code == 422
    assert post(people.asker, url, {"body": "nul\x00"}).status_code == 422
    assert post(people.asker, url, {"body": "Hi", "extra": 1}).status_code == 422
    ok = post(people.asker, url, {"body": "line one\r\nline two\x0c"})
    assert ok.status_code == 201 and ok.json()["body"] == "line one\nline two"


# the pages ---------------------------------------------------------------------------------
def test_an_organiser_with_no_organisation_is_shown_a_way_forward(
    app: FastAPI, people: People
) -> None:
    """An organiser whose group has no profile reached a dead end ("first claim your
    organisation's profile"): the page now says how to claim or be added, and names the
    organisation asked with its public website to contact meanwhile, never its private
    contact. A member of an organisation sees whom it asks."""
    p = new_pair(app, people)
    organiser = sign_up(app)
    page = organiser.client.get(f"/introductions/new?to={p.y}")
    assert page.status_code == 200
    assert 'name="message"' not in page.text  # no form to send: it would be refused
    assert "/account" in page.text and 'href="/groups/new?next=' in page.text
    assert f'href="https://{p.y}.example"' in page.text and f"/organisations/{p.y}" in page.text
    assert f"secret-contact-of-{p.y}" not in page.text
    with app.state.api.db.session() as s:  # no website: where it is, to find it
        s.add(
            OrganisationRow(
                id=f"nosite-{p.y}",
                name="No Site Pantry",
                sector="nonprofit",
                description="Food.",
                focus_areas=[],
                offers=[],
                needs=[],
                city="Honolulu",
                region="HI",
                postcode="96816",
                published=True,
                active=True,
                updated_at=utcnow(),
                text_hash="x",
                version=1,
            )
        )
    nosite = organiser.client.get(f"/introductions/new?to=nosite-{p.y}").text
    assert "lists no website" in nosite and "Honolulu, HI, 96816" in nosite
    hidden = new_org(app, "hidden", published=False)
    assert hidden not in organiser.client.get(f"/introductions/new?to={hidden}").text
    member = people.asker.client.get(f"/introductions/new?to={p.y}")
    assert 'name="message"' in member.text and f"/organisations/{p.y}" in member.text


def test_the_way_to_the_administrator_is_given_when_the_service_says_it(
    app: FastAPI, people: People
) -> None:
    """Real data walk (2026-12-04): "ask the administrator of this service to add it" gave an
    organiser no way to reach one. `MATCHER_API_CONTACT` (an e-mail or web address) is linked
    there; a value that is neither is not shown."""
    p = new_pair(app, people)
    organiser = sign_up(app)
    state = app.state.api
    before = state.api
    try:
        for contact, href in (
            ("help@partners.example.org", "mailto:help@partners.example.org"),
            ("https://partners.example.org/contact", "https://partners.example.org/contact"),
            ("javascript:alert(1)", None),
            ("", None),
        ):
            state.api = before.model_copy(update={"contact": contact})
            page = organiser.client.get(f"/introductions/new?to={p.y}").text
            shown = re.findall(r'class="operator-contact" href="([^"]+)"', page)
            assert shown == ([href] if href else []), contact
    finally:
        state.api = before


def test_pages_ask_accept_and_write(app: FastAPI, people: People) -> None:
    p = new_pair(app, people)
    form = people.asker.client.get(f"/introductions/new?to={p.y}")
    assert form.status_code == 200 and 'name="message"' in form.text
    token = page_csrf(form.text)
    data = {"to_organisation_id": p.y, "message": "<script>x</script>", "need_text": NEED}
    assert people.asker.client.post("/introductions", data=data).status_code == 403  # no token
    r = people.asker.client.post("/introductions", data={**data, "csrf_token": token})
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    intro_id = where.rsplit("/", 1)[1]
    again = people.asker.client.post("/introductions", data={**data, "csrf_token": token})
    assert again.status_code == 409 and "waiting for an answer" in again.text

    inbox = people.asked.client.get("/introductions")
    assert intro_id in inbox.text
    page = people.asked.client.get(where)
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>x</script>" not in page.text
    assert f"secret-contact-of-{p.x}" not in page.text and people.asker.email not in page.text
    assert people.other.client.get(where).status_code == 404
    assert intro_id not in people.other.client.get("/introductions").text
    anon = browser(app).get(where)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")

    token = page_csrf(page.text)
    r = people.asked.client.post(f"{where}/accept", data={"csrf_token": token})
    assert r.status_code == 303
    page = people.asked.client.get(where)
    assert f"secret-contact-of-{p.x}" in page.text and people.asker.email in page.text
    r = people.asked.client.post(
        f"{where}/messages", data={"csrf_token": token, "body": "See you <Thursday>"}
    )
    assert r.status_code == 303
    mine = people.asker.client.get(where).text
    assert "See you &lt;Thursday&gt;" in mine
    assert f"secret-contact-of-{p.y}" in mine and people.asked.email in mine
    # another organisation's member cannot post into the thread through the page either
    other_token = page_csrf(people.other.client.get("/introductions").text)
    r = people.other.client.post(f"{where}/messages", data={"csrf_token": other_token, "body": "x"})
    assert r.status_code == 404


def test_an_accepted_introduction_starts_a_partnership_record(app: FastAPI, people: People) -> None:
    """The accepted introduction's page offers a partnership record; its form proposes one
    for the asker's organisation, linked to the introduction; the asked side accepts it. A
    record naming an introduction that is not accepted, or between other organisations, is
    refused."""
    from accounts_support import page_csrf

    p = new_pair(app, people)
    made = post(
        people.asker,
        "/v1/introductions",
        {"to_organisation_id": p.y, "message": "Hi", "need_text": NEED},
    )
    assert made.status_code == 201, made.text
    intro_id = made.json()["id"]
    plan = {
        "title": "t",
        "goals": [{"id": "g", "description": "d", "indicator": "i", "baseline": 0, "target": 1}],
    }
    early = post(
        people.asker,
        "/v1/partnership-records",
        {"organisation_id": p.x, "partner_id": p.y, "introduction_id": intro_id, "plan": plan},
    )
    assert early.status_code == 422 and "not an accepted introduction" in early.text
    assert (
        "Keep a partnership record"
        not in people.asker.client.get(f"/introductions/{intro_id}").text
    )
    post(people.asked, f"/v1/introductions/{intro_id}/accept")
    page = people.asker.client.get(f"/introductions/{intro_id}").text
    assert "Keep a partnership record" in page
    r = people.asker.client.post(
        "/partnerships/new",
        data={
            "csrf_token": page_csrf(page),
            "introduction_id": intro_id,
            "organisation_id": p.x,
            "partner_id": p.y,
            "title": "Winter coats drive",
            "goal": "Every child has a coat",
            "indicator": "coats handed out",
            "baseline": "0",
            "target": "250",
            "role": "collects and sorts coats",
        },
    )
    assert r.status_code == 303, r.text
    record_url = r.headers["location"]
    rec = people.asked.client.get(
        "/v1" + record_url.replace("/partnerships", "/partnership-records")
    )
    body = rec.json()
    assert body["introduction_id"] == intro_id and body["status"] == "proposed"
    assert body["plan"]["roles"] == {p.x: "collects and sorts coats"}
    accepted = post(people.asked, f"/v1/partnership-records/{body['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    other = new_pair(app, people)
    wrong = post(
        people.asker,
        "/v1/partnership-records",
        {
            "organisation_id": other.x,
            "partner_id": other.y,
            "introduction_id": intro_id,
            "plan": plan,
        },
    )
    assert wrong.status_code == 422 and "introduction_id" in wrong.text


def test_an_introduction_may_name_a_recommendation_another_worker_just_served(
    app: FastAPI, engine: Engine, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recommendation is still in another process's record queue (a second uvicorn worker):
    the API and the page wait for its write (bounded, api.recids) instead of answering 404.
    Both "workers" have a 0.5 s flush window, so the write surely comes after the request."""
    flush = 0.5
    records: Records = app.state.api.records
    monkeypatch.setattr(records, "in_flight_seconds", in_flight_wait_seconds(flush))
    p = new_pair(app, people)
    served = engine.recommend(sample_needs(1)[0], limit=3)
    rec = served.model_copy(update={"results": [served.results[0].model_copy(update={"id": p.y})]})
    other_worker = Records(app.state.api.db, {"flush_seconds": flush})
    other_worker.start()
    try:
        rec_id = other_worker.save_recommendation(rec, api_key_id=None)
        r = _ask(people.asker, p.y, recommendation_id=rec_id, need_text="")
        assert r.status_code == 201, r.text
        assert r.json()["need_text"] == served.need.text

        p = new_pair(app, people)  # the page: a new pair, a new recommendation
        rec = served.model_copy(
            update={"results": [served.results[0].model_copy(update={"id": p.y})]}
        )
        rec_id = other_worker.save_recommendation(rec, api_key_id=None)
        token = page_csrf(people.asker.client.get(f"/introductions/new?to={p.y}").text)
        data = {"to_organisation_id": p.y, "message": "Hi", "recommendation_id": rec_id}
        r = people.asker.client.post("/introductions", data={**data, "csrf_token": token})
        assert r.status_code == 303, r.text
    finally:
        other_worker.stop()
