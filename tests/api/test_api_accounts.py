"""Accounts for people: sign-up, log-in, log-out, cookies, throttling, CSRF, password reset."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from accounts_support import (
    PASSWORD,
    browser,
    log_in,
    outbox_token,
    page_csrf,
    sign_up,
    unique_email,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.sessions import COOKIE_NAME, SECRET_FILE
from matcher.domain import utcnow
from matcher.notify.outbox import Outbox


@pytest.fixture
def clock(app: FastAPI, client: TestClient) -> Iterator[list[datetime]]:
    """A clock the test moves (`clock[0] += ...`); the real one again afterwards."""
    now = [utcnow()]
    accounts = app.state.api.accounts
    accounts.set_clock(lambda: now[0])
    yield now
    accounts.set_clock(utcnow)


def test_sign_up_log_in_log_out(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    me = sign_up(app, email.upper())
    assert me.email == email  # normalised to lower case
    r = me.client.get("/v1/me")
    assert r.status_code == 200 and r.json()["email"] == email, r.text
    assert r.json()["email_verified"] is False and r.json()["memberships"] == []
    assert r.headers["cache-control"] == "no-store"

    r = me.client.delete("/v1/session", headers=me.headers())
    assert r.status_code == 204, r.text
    assert me.client.get("/v1/me").status_code == 401

    again = log_in(app, email.title())
    assert again.person_id == me.person_id
    assert again.client.get("/v1/me").json()["id"] == me.person_id


def test_logout_ends_the_session_on_the_server(app: FastAPI, client: TestClient) -> None:
    me = sign_up(app)
    stolen = me.client.cookies.get(COOKIE_NAME)
    assert stolen
    assert me.client.delete("/v1/session", headers=me.headers()).status_code == 204
    copy = browser(app)
    copy.cookies.set(COOKIE_NAME, stolen)
    assert copy.get("/v1/me").status_code == 401  # a copied cookie is dead too


def test_session_cookie_flags_and_secret(app: FastAPI, client: TestClient) -> None:
    c = browser(app)
    r = c.post("/v1/people", json={"email": unique_email(), "password": PASSWORD, "name": "Cookie"})
    assert r.status_code == 201, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # not configured: plain http works in development
    secret = app.state.api.settings.data_dir / SECRET_FILE
    assert secret.exists() and stat.S_IMODE(secret.stat().st_mode) == 0o600
    # a tampered cookie is not a session
    value = c.cookies.get(COOKIE_NAME)
    assert value
    forged = browser(app)
    forged.cookies.set(COOKIE_NAME, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert forged.get("/v1/me").status_code == 401


def test_secure_cookie_when_configured(engine: object, tmp_path: object) -> None:
    from api_support import quiet_api_settings

    from api.main import create_app
    from matcher.engine import Engine

    assert isinstance(engine, Engine)
    app = create_app(engine.settings, quiet_api_settings(session_cookie_secure=True), engine=engine)
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post(
            "/v1/people", json={"email": unique_email(), "password": PASSWORD, "name": "Tls"}
        )
        assert r.status_code == 201, r.text
        assert "secure" in r.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "password": PASSWORD}, "email"),
        ({"email": "a@b", "password": PASSWORD}, "email"),
        ({"email": "ana@example.org", "password": "short"}, "password"),
        ({"email": "ana@example.org", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
def test_sign_up_bad_input_is_a_422_naming_the_field(
    app: FastAPI, client: TestClient, body: dict[str, str], field: str
) -> None:
    r = browser(app).post("/v1/people", json=body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}, r.text


def test_duplicate_email_is_a_409(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    r = browser(app).post("/v1/people", json={"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 409, r.text
    assert "already exists" in r.json()["detail"]


def test_wrong_password_and_unknown_email_say_the_same(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    wrong = browser(app).post("/v1/session", json={"email": email, "password": "wrong " * 3})
    unknown = browser(app).post("/v1/session", json={"email": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong e-mail or password"
    assert "set-cookie" not in wrong.headers


def test_login_text_plain_body_is_refused(app: FastAPI, client: TestClient) -> None:
    """A cross-site form can post text/plain, never JSON: the JSON log-in does not take it."""
    email = unique_email()
    sign_up(app, email)
    body = f'{{"email": "{email}", "password": "{PASSWORD}"}}'
    r = browser(app).post("/v1/session", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code in (400, 415, 422), r.text
    assert "set-cookie" not in r.headers


def test_five_failures_per_account_give_429_with_retry_after(
    app: FastAPI, client: TestClient, clock: list[datetime]
) -> None:
    email = unique_email()
    sign_up(app, email)
    for n in range(5):  # from five different IPs: the account's own limit
        r = browser(app).post("/v1/session", json={"email": email, "password": f"wrong-{n}-pass"})
        assert r.status_code == 401, r.text
        clock[0] += timedelta(seconds=10)
    r = browser(app).post("/v1/session", json={"email": email, "password": PASSWORD})
    assert r.status_code == 429, r.text  # even the right password waits
    retry = int(r.headers["retry-after"])
    assert 850 <= retry <= 900, retry
    clock[0] += timedelta(seconds=retry + 1)
    assert (
        browser(app).post("/v1/session", json={"email": email, "password": PASSWORD}).status_code
        == 200
    )


def test_five_failures_per_ip_give_429(
    app: FastAPI, client: TestClient, clock: list[datetime]
) -> None:
    ip = "192.0.2.77"
    for _ in range(5):  # five different accounts from one address
        r = browser(app, ip).post("/v1/session", json={"email": unique_email(), "password": "x"})
        assert r.status_code == 401, r.text
    email = unique_email()
    sign_up(app, email)
    r = browser(app, ip).post("/v1/session", json={"email": email, "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, r.text
    # the page says so too, as a page
    page = browser(app, ip)
    token = page_csrf(page.get("/login").text)
    r = page.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "retry-after" in r.headers, r.text
    assert "too many failed log-ins" in r.text
    # another address is not affected
    assert (
        browser(app).post("/v1/session", json={"email": email, "password": PASSWORD}).status_code
        == 200
    )


def test_success_clears_the_account_failures(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    for _ in range(4):
        browser(app).post("/v1/session", json={"email": email, "password": "wrong password"})
    log_in(app, email)
    for _ in range(4):
        r = browser(app).post("/v1/session", json={"email": email, "password": "wrong password"})
        assert r.status_code == 401, r.text


# CSRF ----------------------------------------------------------------------------------------
def test_login_form_needs_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    c = browser(app)
    form = {"email": email, "password": PASSWORD}
    token = page_csrf(c.get("/login").text)
    assert c.post("/login", data=form).status_code == 403
    assert c.post("/login", data={**form, "csrf_token": token + "x"}).status_code == 403
    assert browser(app).post("/login", data={**form, "csrf_token": token}).status_code == 403
    r = c.post("/login", data={**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/account", r.text
    account = c.get("/account")
    assert account.status_code == 200 and email in account.text


def test_signed_in_forms_need_the_session_token(app: FastAPI, client: TestClient) -> None:
    me = sign_up(app)
    home = me.client.get("/")
    token = page_csrf(home.text)
    assert token == me.csrf and "Log out" in home.text
    need = {"text": "Weekly fresh food deliveries for elders"}
    r = me.client.post("/", data=need)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"], r.text
    assert me.client.post("/", data={**need, "csrf_token": "wrong"}).status_code == 403
    r = me.client.post("/", data={**need, "csrf_token": token})
    assert r.status_code == 200, r.text
    rec_id = re.search(r'class="permalink" href="/r/([^"]+)"', r.text)
    assert rec_id and page_csrf(r.text) == token  # every form of the result carries it
    org = re.search(r'data-org-id="([^"]+)"', r.text)
    assert org
    fb = {"recommendation_id": rec_id.group(1), "organisation_id": org.group(1)}
    fb["outcome"] = "contacted"
    assert me.client.post("/feedback", data=fb).status_code == 403
    r = me.client.post("/feedback", data={**fb, "csrf_token": token})
    assert r.status_code == 201, r.text
    # the API: a cookie-authenticated write needs the header
    assert me.client.delete("/v1/session").status_code == 403
    assert me.client.get("/v1/me").status_code == 200  # still signed in
    assert me.client.post("/logout", data={}).status_code == 403
    r = me.client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and me.client.get("/v1/me").status_code == 401


def test_anonymous_pages_start_no_session(app: FastAPI, client: TestClient) -> None:
    c = browser(app)
    r = c.get("/")
    assert "set-cookie" not in r.headers and 'name="csrf_token"' not in r.text
    assert "Log in" in r.text and "Sign up" in r.text
    assert c.get("/login").headers.get("set-cookie", "").startswith(COOKIE_NAME)


def test_signup_page_flow(app: FastAPI, client: TestClient) -> None:
    c = browser(app)
    token = page_csrf(c.get("/signup").text)
    email = unique_email()
    bad = c.post("/signup", data={"email": email, "password": "short", "csrf_token": token})
    assert bad.status_code == 422 and "at least 10 characters" in bad.text
    r = c.post("/signup", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text
    page = c.get("/account")
    assert page.status_code == 200 and email in page.text and "not confirmed yet" in page.text
    again = browser(app)
    t2 = page_csrf(again.get("/signup").text)
    dup = again.post("/signup", data={"email": email, "password": PASSWORD, "csrf_token": t2})
    assert dup.status_code == 409 and "already exists" in dup.text


def test_login_next_is_local_only(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    c = browser(app)
    token = page_csrf(c.get("/login").text)
    form = {"email": email, "password": PASSWORD, "csrf_token": token}
    r = c.post("/login", data={**form, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/account"


NEXT_INPUT = re.compile(r'name="next" value="([^"]*)"')


def test_signup_returns_to_next_kept_through_errors(app: FastAPI, client: TestClient) -> None:
    """A "sign up" link from the results page comes back to them, as "log in" does; the
    path is kept through a refused form and its log-in link, and only a local one is used."""
    c = browser(app)
    page = c.get("/signup", params={"next": "/r/rec_12ab"})
    assert NEXT_INPUT.findall(page.text) == ["/r/rec_12ab"]
    assert 'href="/login?next=/r/rec_12ab"' in page.text
    token = page_csrf(page.text)
    email = unique_email()
    form = {"email": email, "csrf_token": token, "next": "/r/rec_12ab"}
    bad = c.post("/signup", data={**form, "password": "short"})
    assert bad.status_code == 422 and NEXT_INPUT.findall(bad.text) == ["/r/rec_12ab"]
    r = c.post("/signup", data={**form, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/r/rec_12ab"
    assert c.get("/v1/me").json()["email"] == email
    # the log-in page's "Create an account" carries its own next along
    assert 'href="/signup?next=/r/rec_12ab"' in c.get("/login?next=/r/rec_12ab").text
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = browser(app)
        shown = other.get("/signup", params={"next": evil})
        assert NEXT_INPUT.findall(shown.text) == ["/account"]
        data = {"email": unique_email(), "password": PASSWORD, "next": evil}
        r = other.post("/signup", data={**data, "csrf_token": page_csrf(shown.text)})
        assert r.status_code == 303 and r.headers["location"] == "/account"


# password reset -----------------------------------------------------------------------------
def test_reset_link_works_once(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    old = sign_up(app, email)
    r = browser(app).post("/v1/password-resets", json={"email": email})
    assert r.status_code == 202, r.text
    rows = [q for q in Outbox(app.state.api.db).rows(limit=1000) if q.recipient == email]
    reset_rows = [q for q in rows if "/reset/confirm?token=" in q.body]
    assert len(reset_rows) == 1 and reset_rows[0].status == "queued"
    assert reset_rows[0].key.startswith("account:tok_")
    assert reset_rows[0].body.count("http://localhost:8000/reset/confirm?token=") == 1
    token = outbox_token(app, email, "reset")
    # the token is stored hashed only
    from sqlalchemy import select

    from matcher.store.models import AccountTokenRow

    with app.state.api.db.session() as s:
        stored = s.scalars(select(AccountTokenRow.token_hash)).all()
    assert token not in stored

    new = "a brand new password"
    c = browser(app)
    page = c.get(f"/reset/confirm?token={token}")
    assert page.status_code == 200 and f'value="{token}"' in page.text
    form = {"token": token, "password": new, "csrf_token": page_csrf(page.text)}
    done = c.post("/reset/confirm", data=form)
    assert done.status_code == 200 and "has been changed" in done.text, done.text
    fresh = page_csrf(c.get(f"/reset/confirm?token={token}").text)
    again = c.post("/reset/confirm", data={**form, "csrf_token": fresh})
    assert again.status_code == 404 and "already used" in again.text
    api_again = browser(app).post(
        "/v1/password-resets/confirm", json={"token": token, "password": "another password"}
    )
    assert api_again.status_code == 404
    assert old.client.get("/v1/me").status_code == 401  # signed out everywhere
    assert (
        browser(app).post("/v1/session", json={"email": email, "password": PASSWORD}).status_code
        == 401
    )
    log_in(app, email, new)


def test_reset_link_expires_after_an_hour(
    app: FastAPI, client: TestClient, clock: list[datetime]
) -> None:
    email = unique_email()
    sign_up(app, email)
    assert browser(app).post("/v1/password-resets", json={"email": email}).status_code == 202
    token = outbox_token(app, email, "reset")
    clock[0] += timedelta(minutes=61)
    r = browser(app).post(
        "/v1/password-resets/confirm", json={"token": token, "password": "too late password"}
    )
    assert r.status_code == 404 and "expired" in r.json()["detail"], r.text
    log_in(app, email)  # the old password still works


def test_reset_for_unknown_email_answers_the_same_and_queues_nothing(
    app: FastAPI, client: TestClient
) -> None:
    email = unique_email()
    r = browser(app).post("/v1/password-resets", json={"email": email})
    assert r.status_code == 202
    assert all(q.recipient != email for q in Outbox(app.state.api.db).rows(limit=1000))


def test_reset_requests_are_limited_per_hour(app: FastAPI, client: TestClient) -> None:
    email = unique_email()
    sign_up(app, email)
    for _ in range(5):
        assert browser(app).post("/v1/password-resets", json={"email": email}).status_code == 202
    rows = Outbox(app.state.api.db).rows(limit=1000)
    assert sum(1 for q in rows if q.recipient == email and "/reset/" in q.body) == 3


def test_session_expires(app: FastAPI, client: TestClient, clock: list[datetime]) -> None:
    me = sign_up(app)
    clock[0] += timedelta(days=13)
    assert me.client.get("/v1/me").status_code == 200
    clock[0] += timedelta(days=2)  # past the 14 days of MATCHER_API_SESSION_DAYS
    r = me.client.get("/v1/me")
    assert r.status_code == 401, r.text
