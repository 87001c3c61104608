"""The page header's "Log in" / "Sign up" links bring a person back to the page they were on
(next= the page's path and query; a results page rendered by a POST: its permalink), and
log-in and sign-up still follow only a local next."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, unquote

import pytest
from accounts_support import PASSWORD, browser, page_csrf, sign_up, unique_email
from fastapi import FastAPI
from fastapi.testclient import TestClient

TEXT = "Our food bank needs a refrigerated van to deliver fresh groceries to elderly people."
HEADER = re.compile(r'<nav class="account-nav".*?</nav>', re.S)
NEXT_INPUT = re.compile(r'name="next" value="([^"]*)"')


def _header_links(html: str) -> tuple[str, str]:
    nav = HEADER.search(html)
    assert nav, "no account navigation in the header"
    login = re.search(r'<a href="([^"]*)">Log in</a>', nav.group(0))
    signup = re.search(r'<a href="([^"]*)">Sign up</a>', nav.group(0))
    assert login and signup, nav.group(0)
    return login.group(1).replace("&amp;", "&"), signup.group(1).replace("&amp;", "&")


def _next_of(href: str) -> str | None:
    if "?next=" not in href:
        return None
    return unquote(href.split("?next=", 1)[1])


def _results(c: TestClient) -> tuple[str, str, str]:
    """(recommendation id, an organisation id on it, the results page a POST rendered)."""
    r = c.post("/", data={"text": TEXT})
    assert r.status_code == 200, r.text
    rec = re.search(r'class="permalink" href="/r/([^"]+)"', r.text)
    org = re.search(r'data-org-id="([^"]+)"', r.text)
    assert rec and org
    return rec.group(1), org.group(1), r.text


def test_the_header_links_come_back_to_the_page(client: TestClient, app: FastAPI) -> None:
    c = browser(app)
    rec_id, org_id, posted = _results(c)
    # the results a POST rendered: back to their permalink (the POST cannot be repeated)
    login, signup = _header_links(posted)
    assert _next_of(login) == _next_of(signup) == f"/r/{rec_id}"
    # a permalink with a query: path and query
    page = c.get(f"/r/{rec_id}", params={"marked": org_id, "outcome": "contacted"})
    login, signup = _header_links(page.text)
    want = f"/r/{rec_id}?marked={quote(org_id, safe='')}&outcome=contacted"
    assert _next_of(login) == _next_of(signup) == want
    assert login.startswith("/login?next=") and signup.startswith("/signup?next=")
    # the aligned page, its query kept
    aligned = f"/organisations/{quote(org_id, safe='')}/aligned?sector=business&within=50"
    page = c.get(aligned)
    assert page.status_code == 200, page.text
    login, signup = _header_links(page.text)
    assert _next_of(login) == _next_of(signup) == aligned
    # the empty home page: no next (signing up there lands on the account page, which says
    # what to do next; the browser test of signing up from it expects that page)
    login, signup = _header_links(c.get("/").text)
    assert login == "/login" and signup == "/signup"


def test_signing_up_and_in_from_the_header_lands_on_the_aligned_page(
    client: TestClient, app: FastAPI
) -> None:
    c = browser(app)
    _, org_id, _ = _results(c)
    aligned = f"/organisations/{quote(org_id, safe='')}/aligned?sector=business&within=50"
    _, signup = _header_links(c.get(aligned).text)
    page = c.get(signup)
    assert [html.unescape(v) for v in NEXT_INPUT.findall(page.text)] == [aligned]
    # the sign-up page's own header keeps the way back, not a link to itself
    assert _next_of(_header_links(page.text)[0]) == aligned
    form = {"email": unique_email(), "password": PASSWORD, "next": aligned}
    r = c.post("/signup", data={**form, "csrf_token": page_csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == aligned
    # log in from the header of a results page
    s = sign_up(app)
    other = browser(app)
    rec_id, _, posted = _results(other)
    login, _ = _header_links(posted)
    page = other.get(login)
    back = html.unescape(NEXT_INPUT.findall(page.text)[0])
    form = {"email": s.email, "password": PASSWORD, "next": back}
    r = other.post("/login", data={**form, "csrf_token": page_csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/r/{rec_id}"


def test_a_page_path_too_long_for_next_drops_its_query(client: TestClient, app: FastAPI) -> None:
    c = browser(app)
    _, org_id, _ = _results(c)
    path = f"/organisations/{quote(org_id, safe='')}/aligned"
    page = c.get(path, params={"focus": "f" * 190})
    assert page.status_code == 200, page.text
    assert _next_of(_header_links(page.text)[0]) == path


OFF_SITE = [
    "//evil.example/x",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("evil", OFF_SITE)
def test_log_in_and_sign_up_refuse_an_off_site_next(
    client: TestClient, app: FastAPI, evil: str
) -> None:
    s = sign_up(app)
    c = browser(app)
    page = c.get("/login", params={"next": evil})
    assert NEXT_INPUT.findall(page.text) == ["/account"]
    assert _next_of(_header_links(page.text)[0]) == "/account"  # nor carried by the header
    form = {"email": s.email, "password": PASSWORD, "next": evil}
    r = c.post("/login", data={**form, "csrf_token": page_csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    other = browser(app)
    shown = other.get("/signup", params={"next": evil})
    assert NEXT_INPUT.findall(shown.text) == ["/account"]
    data = {"email": unique_email(), "password": PASSWORD, "next": evil}
    r = other.post("/signup", data={**data, "csrf_token": page_csrf(shown.text)})
    assert r.status_code == 303 and r.headers["location"] == "/account"
