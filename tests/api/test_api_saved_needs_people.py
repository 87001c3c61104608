"""A signed-in person saves a need from the results page (no API key), owned as
`person:<id>`, alerts to their confirmed e-mail by default; the account page lists their saved
needs and removes them, never another person's. Anonymous visitors are offered the sign-in
link and key holders keep the API-key path."""

from __future__ import annotations

import re

import pytest
from accounts_support import Signed, browser, page_csrf, sign_up, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.alerts.owners import PERSON_PREFIX, person_owner
from matcher.alerts.store import SavedNeed, SavedNeeds
from matcher.errors import NotFoundError
from matcher.store.models import SavedNeedRow
from tests.support_resolver import fake_resolver

TEXT = "Our food bank needs a refrigerated van to deliver fresh groceries to elderly people."
PLACE = "Leeds, GB"
# a person's page says "Saved." and keeps the id out of the text (it read "Saved as sn_...")
SAVED_ID = re.compile(r'data-saved-id="(sn_[0-9a-f]+)"')
SECRET = re.compile(r'<code class="secret">(whsec_[A-Za-z0-9_-]+)</code>')
TOKEN_HOOK = "https://hooks.example.org/services/T0AAA/s3cr3tT0k3n9Wzq"


def _results(c: TestClient, text: str = TEXT) -> tuple[str, str]:
    """(recommendation id, the result page's HTML) of a search made by this browser."""
    r = c.post("/", data={"text": text, "place": PLACE}, follow_redirects=True)
    assert r.status_code == 200, r.text
    found = re.search(r'class="permalink" href="/r/([^"]+)"', r.text)
    assert found, "no permalink on the result page"
    return found.group(1), r.text


def _results_signed_in(s: Signed, text: str = TEXT) -> tuple[str, str]:
    page = s.client.get("/")
    r = s.client.post("/", data={"text": text, "place": PLACE, "csrf_token": page_csrf(page.text)})
    assert r.status_code == 200, r.text
    found = re.search(r'class="permalink" href="/r/([^"]+)"', r.text)
    assert found
    return found.group(1), r.text


def _saved(app: FastAPI, saved_id: str) -> SavedNeed:
    return SavedNeeds(app.state.api.db).get(saved_id)


def _save(s: Signed, rec_id: str, notify_to: str = "") -> str:
    html = s.client.get(f"/r/{rec_id}").text
    r = s.client.post(
        f"/r/{rec_id}/save", data={"csrf_token": page_csrf(html), "notify_to": notify_to}
    )
    assert r.status_code == 201, r.text
    found = SAVED_ID.search(r.text)
    assert found, r.text
    assert "<p>Saved. When a new" in r.text and "Saved as" not in r.text
    return found.group(1)


def test_signed_in_form_asks_no_key_and_names_the_default_address(
    client: TestClient, app: FastAPI
) -> None:
    s = sign_up(app)
    rec_id, html = _results_signed_in(s)
    form = html.split('class="save-need"', 1)[1].split("</form>", 1)[0]
    assert 'name="api_key"' not in form
    assert f"Alerts go to {s.email}" in form
    # another address is tucked away (it read "Webhook URL for the alerts" to every person)
    assert "Webhook" not in form and '<details class="advanced">' in form
    assert "Sign in to save this need" not in form


def test_signed_in_person_saves_without_a_key(client: TestClient, app: FastAPI) -> None:
    s = sign_up(app)
    verify(app, s.email)
    rec_id, _ = _results(browser(app))
    sid = _save(s, rec_id)
    saved = _saved(app, sid)
    assert saved.owner == f"person:{s.person_id}" == person_owner(s.person_id)
    assert len(saved.owner) <= 128
    assert saved.notify_to == s.email  # the confirmed e-mail, as the field was empty
    assert saved.recommendation_id == rec_id
    assert saved.need.text == TEXT and saved.need.place == PLACE
    # an address typed in the field wins
    other = _saved(app, _save(s, rec_id, "https://hooks.example.org/alerts"))
    assert other.notify_to == "https://hooks.example.org/alerts"


def test_unconfirmed_e_mail_gets_the_alerts_once_confirmed(
    client: TestClient, app: FastAPI
) -> None:
    s = sign_up(app)
    rec_id, _ = _results(browser(app))
    html = s.client.get(f"/r/{rec_id}").text
    r = s.client.post(f"/r/{rec_id}/save", data={"csrf_token": page_csrf(html)})
    assert r.status_code == 201, r.text
    assert f"{s.email} once you confirm that address" in r.text
    found = SAVED_ID.search(r.text)
    assert found
    sid = found.group(1)
    typed = _save(s, rec_id, "https://hooks.example.net/alerts")
    own = _save(s, rec_id, s.email.upper())  # their own address, typed: the same as empty
    assert _saved(app, sid).notify_to is None  # no mail to an unconfirmed address
    assert _saved(app, own).notify_to is None
    account = s.client.get("/account").text
    assert f"{s.email}, once you confirm it" in account
    verify(app, s.email)
    assert _saved(app, sid).notify_to == _saved(app, own).notify_to == s.email
    assert _saved(app, typed).notify_to == "https://hooks.example.net/alerts"  # left as typed


def test_a_person_cannot_point_alerts_at_someone_elses_e_mail(
    client: TestClient, app: FastAPI, keys: dict[str, str]
) -> None:
    """Anyone can sign up: a person's alerts go to their own confirmed e-mail or a webhook,
    never to another inbox. The form comes back saying why and what to do; nothing is saved.
    An API key still can (a decision for the service's admins)."""
    s = sign_up(app)
    verify(app, s.email)
    rec_id, _ = _results(browser(app))
    store = SavedNeeds(app.state.api.db)
    for victim in ("victim@example.org", f"x{s.email}"):
        html = s.client.get(f"/r/{rec_id}").text
        r = s.client.post(
            f"/r/{rec_id}/save", data={"csrf_token": page_csrf(html), "notify_to": victim}
        )
        assert r.status_code == 422, r.text
        assert SAVED_ID.search(r.text) is None
        form = r.text.split('class="save-need" open>', 1)[1].split("</details>", 1)[0]
        alert = form.split('role="alert"', 1)[1].split("</div>", 1)[0]
        assert f"your own e-mail address ({s.email}) or to a webhook URL" in alert
        assert "leave the field empty" in alert and "API key" in alert
        assert f'value="{victim}"' in form and 'aria-invalid="true"' in form
        assert 'class="permalink"' in r.text  # still the results page
    assert store.owned(person_owner(s.person_id))[1] == 0  # nothing was saved
    # the same address in another case is theirs; the key path is unchanged
    mine = _saved(app, _save(s, rec_id, s.email.upper()))
    assert mine.notify_to == s.email and mine.owner == person_owner(s.person_id)
    r = browser(app).post(
        f"/r/{rec_id}/save", data={"api_key": keys["reader"], "notify_to": "victim@example.org"}
    )
    assert r.status_code == 201, r.text


def test_person_saved_needs_are_not_the_json_apis(
    client: TestClient, app: FastAPI, keys: dict[str, str]
) -> None:
    """No key sees or deletes a person's saved need; the person's session cannot use the
    JSON API for them either (it stays key-only)."""
    s = sign_up(app)
    rec_id, _ = _results(browser(app))
    sid = _save(s, rec_id)
    for role in ("reader", "admin"):
        h = hdr(keys[role])
        assert client.get(f"/v1/saved-needs/{sid}", headers=h).status_code == 404
        assert client.delete(f"/v1/saved-needs/{sid}", headers=h).status_code == 404
        listed = client.get("/v1/saved-needs", headers=h).json()["items"]
        assert sid not in [i["id"] for i in listed]
    assert s.client.get("/v1/saved-needs", headers=s.headers()).status_code == 401
    assert _saved(app, sid).owner.startswith(PERSON_PREFIX)  # type: ignore[union-attr]


def test_anonymous_sees_the_sign_in_link_and_keeps_the_key_path(
    client: TestClient, app: FastAPI, keys: dict[str, str]
) -> None:
    b = browser(app)
    rec_id, html = _results(b)
    form = html.split('class="save-need"', 1)[1].split("</details>", 1)[0]
    assert f'href="/login?next=/r/{rec_id}">Sign in to save this need' in form
    assert f'href="/signup?next=/r/{rec_id}">sign up' in form
    assert 'name="api_key"' in form
    r = b.post(f"/r/{rec_id}/save", data={"api_key": "pm_nope_nope"})
    assert r.status_code == 401 and "valid API key" in r.text
    r = b.post(f"/r/{rec_id}/save", data={"api_key": keys["reader"]})
    assert r.status_code == 201, r.text
    found = SAVED_ID.search(r.text)
    assert found
    got = client.get(f"/v1/saved-needs/{found.group(1)}", headers=hdr(keys["reader"]))
    assert got.status_code == 200 and got.json()["notify_to"] is None
    # nothing to save with: to the sign-in page, back to these results afterwards
    r = b.post(f"/r/{rec_id}/save", data={"notify_to": "me@example.org"})
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/r/{rec_id}"


def test_account_page_lists_and_removes_own_saved_needs(client: TestClient, app: FastAPI) -> None:
    s = sign_up(app)
    verify(app, s.email)
    assert "Your saved needs" in s.client.get("/account").text
    rec_id, _ = _results(browser(app))
    sid = _save(s, rec_id)
    page = s.client.get("/account").text
    item = page.split(f'id="saved-{sid}"', 1)[1].split("</li>", 1)[0]
    assert "<strong>Our food bank needs a refrigerated van to deliver fresh groceries to…<" in item
    assert "Leeds" in item and f"Alerts to: {s.email}" in item and "not yet" in item
    assert f'href="/r/{rec_id}"' in item
    assert f'action="/account/saved-needs/{sid}/remove"' in item
    r = s.client.post(f"/account/saved-needs/{sid}/remove", data={"csrf_token": page_csrf(page)})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    try:
        _saved(app, sid)
        raise AssertionError("the saved need is still there")
    except NotFoundError:
        pass
    assert f'id="saved-{sid}"' not in s.client.get("/account").text


def test_cannot_remove_another_persons_saved_need(client: TestClient, app: FastAPI) -> None:
    owner, other = sign_up(app), sign_up(app)
    rec_id, _ = _results(browser(app))
    sid = _save(owner, rec_id)
    page = other.client.get("/account").text
    r = other.client.post(
        f"/account/saved-needs/{sid}/remove", data={"csrf_token": page_csrf(page)}
    )
    assert r.status_code == 404
    assert _saved(app, sid).owner == person_owner(owner.person_id)  # unchanged
    assert f'id="saved-{sid}"' not in page
    # unknown ids too; without the form's token, refused; signed out, to the sign-in page
    r = other.client.post("/account/saved-needs/sn_0/remove", data={"csrf_token": page_csrf(page)})
    assert r.status_code == 404
    r = owner.client.post(f"/account/saved-needs/{sid}/remove", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = browser(app).post(f"/account/saved-needs/{sid}/remove")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"
    assert _saved(app, sid).id == sid


def test_a_person_replaces_their_webhooks_secret_on_the_account_page(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shown once after saving and once after "New signing secret"; only for their own saved
    need with a webhook; the secret in the database is the one shown."""
    fake_resolver(monkeypatch, {"hooks.example.org": ["93.184.215.14"]})
    owner, other = sign_up(app), sign_up(app)
    verify(app, owner.email)
    rec_id, _ = _results(browser(app))
    html = owner.client.get(f"/r/{rec_id}").text
    r = owner.client.post(
        f"/r/{rec_id}/save",
        data={"csrf_token": page_csrf(html), "notify_to": TOKEN_HOOK},
    )
    assert r.status_code == 201, r.text
    assert f"sent to {TOKEN_HOOK}" in r.text  # whole where it was just typed
    first = SECRET.search(r.text)
    assert first and "your account page can replace it" in r.text
    found = SAVED_ID.search(r.text)
    assert found
    sid, mailed = found.group(1), _save(owner, rec_id)
    page = owner.client.get("/account").text
    assert first.group(1) not in page
    item = page.split(f'id="saved-{sid}"', 1)[1].split("</li>", 1)[0]
    assert f'action="/account/saved-needs/{sid}/webhook-secret"' in item
    # listed masked: host and last 4 characters, not the token in its path
    assert "Alerts to: https://hooks.example.org/…9Wzq." in item and "s3cr3t" not in page
    assert "webhook-secret" not in page.split(f'id="saved-{mailed}"', 1)[1].split("</li>", 1)[0]
    r = owner.client.post(
        f"/account/saved-needs/{sid}/webhook-secret", data={"csrf_token": page_csrf(page)}
    )
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    second = SECRET.search(r.text)
    assert second and second.group(1) != first.group(1)
    assert _stored_secret(app, sid) == second.group(1)
    assert "POSTed to https://hooks.example.org/…9Wzq are" in r.text and "s3cr3t" not in r.text
    # another person's, an e-mail one, no token, signed out: nothing changes
    other_page = other.client.get("/account").text
    r = other.client.post(
        f"/account/saved-needs/{sid}/webhook-secret", data={"csrf_token": page_csrf(other_page)}
    )
    assert r.status_code == 404
    r = owner.client.post(
        f"/account/saved-needs/{mailed}/webhook-secret", data={"csrf_token": page_csrf(page)}
    )
    assert r.status_code == 422 and "no signing secret" in r.text
    r = owner.client.post(f"/account/saved-needs/{sid}/webhook-secret", data={"csrf_token": "x"})
    assert r.status_code == 403
    r = browser(app).post(f"/account/saved-needs/{sid}/webhook-secret")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"
    assert _stored_secret(app, sid) == second.group(1)


def _stored_secret(app: FastAPI, saved_id: str) -> str | None:
    db = app.state.api.db
    with db.session() as s:
        return s.scalar(select(SavedNeedRow.webhook_secret).where(SavedNeedRow.id == saved_id))
