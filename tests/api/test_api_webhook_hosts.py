"""A saved need's webhook may not name the service's own networks (SSRF): refused with a 422
naming notify_to in the JSON API, and on the page's form, by a key holder or a signed-in
person; an operator's MATCHER_WEBHOOK_ALLOW_PRIVATE lets it through. No network: names are
resolved by a fake."""

from __future__ import annotations

import re

import pytest
from accounts_support import browser, page_csrf, sign_up, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.alerts.owners import person_owner
from matcher.alerts.store import SavedNeeds
from tests.support_resolver import fake_resolver

TEXT = "Our food bank needs a refrigerated van to deliver fresh groceries to elderly people."
NAMES = {"hooks.example.org": ["93.184.215.14"], "rebind.example.org": ["10.0.0.8"]}
REFUSED = {
    "http://127.0.0.1:5432/": "127.0.0.1 is a loopback address",
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
    "http://2130706433/": "2130706433 resolves to a loopback address",
    "http://localhost:8000/x": "localhost is a loopback name",
    "https://rebind.example.org/hook": "rebind.example.org resolves to a private address",
}


@pytest.fixture(autouse=True)
def _names(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, NAMES)


@pytest.mark.parametrize("url", list(REFUSED))
def test_the_json_api_refuses_an_internal_webhook(
    client: TestClient, keys: dict[str, str], app: FastAPI, url: str
) -> None:
    store = SavedNeeds(app.state.api.db)
    before = store.owned(keys["editor"])[1]
    body = {"text": TEXT, "limit": 3, "notify_to": url}
    r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert REFUSED[url] in problem["detail"] and "public addresses" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["notify_to"]
    assert "10.0.0.8" not in r.text  # what the service's DNS says is not told
    assert "MATCHER_" not in r.text  # nor how the operator configures the service
    assert store.owned(keys["editor"])[1] == before  # nothing saved


def test_ipv6_literals_are_refused_by_the_address_pattern(
    client: TestClient, keys: dict[str, str]
) -> None:
    for url in ("http://[::ffff:127.0.0.1]:8080/x", "http://[2606:4700::1111]/x"):
        body = {"text": TEXT, "limit": 3, "notify_to": url}
        r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["notify_to"]


def test_a_public_or_unresolvable_webhook_is_saved(
    client: TestClient, keys: dict[str, str]
) -> None:
    for url in ("https://hooks.example.org/alerts", "https://down.example.org/alerts"):
        body = {"text": TEXT, "limit": 3, "notify_to": url}
        r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
        assert r.status_code == 201, r.text
        assert r.json()["notify_to"] == url


def test_operators_may_allow_internal_receivers(
    client: TestClient, keys: dict[str, str], app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.api.settings, "webhook_allow_private", True)
    body = {"text": TEXT, "limit": 3, "notify_to": "http://127.0.0.1:9000/hook"}
    r = client.post("/v1/saved-needs", json=body, headers=hdr(keys["editor"]))
    assert r.status_code == 201, r.text


def _rec_id(client: TestClient) -> str:
    html = client.post("/", data={"text": TEXT, "sectors": ["nonprofit"]}).text
    found = re.search(r'class="permalink" href="/r/([^"]+)"', html)
    assert found
    return found.group(1)


def _refused_form(html: str) -> str:
    form = html.split('class="save-need" open>', 1)[1].split("</details>", 1)[0]
    return form.split('role="alert"', 1)[1].split("</div>", 1)[0]


def test_the_page_form_refuses_an_internal_webhook(
    client: TestClient, keys: dict[str, str], app: FastAPI
) -> None:
    rec_id = _rec_id(client)
    url = "http://169.254.169.254/latest/meta-data/"
    # with an API key
    r = browser(app).post(f"/r/{rec_id}/save", data={"api_key": keys["reader"], "notify_to": url})
    assert r.status_code == 422, r.text
    assert "169.254.169.254 is a link-local address" in _refused_form(r.text)
    assert "MATCHER_" not in r.text
    # signed in
    s = sign_up(app)
    verify(app, s.email)
    html = s.client.get(f"/r/{rec_id}").text
    r = s.client.post(
        f"/r/{rec_id}/save",
        data={"csrf_token": page_csrf(html), "notify_to": "https://rebind.example.org/hook"},
    )
    assert r.status_code == 422, r.text
    alert = _refused_form(r.text)
    assert "The webhook host rebind.example.org resolves to a private address" in alert
    assert "MATCHER_" not in r.text  # the operator's settings are not a person's business
    assert 'value="https://rebind.example.org/hook"' in r.text
    assert SavedNeeds(app.state.api.db).owned(person_owner(s.person_id))[1] == 0
