"""The web page's outcome marks record who gave them: a signed-in person's marks are stored with
the person and become training labels; an anonymous visitor's are stored, said not to count,
and skipped by training; analysts see which is which."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from accounts_support import browser, sign_up, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.engine import Engine
from matcher.store.models import FeedbackRow
from training.history import labelled_pairs

NEED = {
    "text": "Weekly fresh food deliveries and volunteers for isolated elders",
    "sectors": ["business", "government", "nonprofit", "community"],
}
CARD = re.compile(r'<article class="partner" id="org-([^"]+)"')
PERMALINK = re.compile(r'class="permalink" href="/r/([^"]+)"')
SIGNIN_HINT = "help improve suggestions only when you are signed in"


def _ask(c: TestClient, csrf: str | None = None) -> tuple[str, list[str], str]:
    """Ask on the page: (recommendation id, card org ids, page html)."""
    data = {**NEED, **({"csrf_token": csrf} if csrf else {})}
    r = c.post("/", data=data)
    assert r.status_code == 200, r.text
    found = PERMALINK.search(r.text)
    assert found
    return found.group(1), list(dict.fromkeys(CARD.findall(r.text))), r.text


def _rows(engine: Engine, rec_id: str) -> list[FeedbackRow]:
    with engine.store.db.session() as s:
        q = select(FeedbackRow).where(FeedbackRow.recommendation_id == rec_id)
        return list(s.scalars(q.order_by(FeedbackRow.pk)))


def _fed(engine: Engine, rec_id: str) -> dict[str, str]:
    """partner id -> outcome of this recommendation's feedback labels."""
    pairs = labelled_pairs(engine.store)
    fed = pairs[(pairs["origin"] == "feedback") & pairs["ref"].str.startswith(f"{rec_id}:")]
    return dict(zip(fed["partner_id"], fed["outcome"], strict=True))


def test_a_signed_in_persons_marks_are_stored_with_them_and_train(
    app: FastAPI, client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = sign_up(app)
    rec_id, orgs, html = _ask(me.client, me.csrf)
    assert SIGNIN_HINT not in html  # signed in: no hint to sign in
    form = {"recommendation_id": rec_id, "organisation_id": orgs[0], "csrf_token": me.csrf}
    # e-mail not confirmed yet: kept, said to count once it is, skipped by training (anyone
    # can sign up with any address)
    js = {"Accept": "application/json"}
    r = me.client.post("/feedback", data={**form, "outcome": "not_relevant"}, headers=js)
    assert r.status_code == 201 and r.json() == {
        "ok": True,
        "outcome": "not_relevant",
        "counted": False,
        "unconfirmed": True,
    }
    r = me.client.post("/feedback", data={**form, "outcome": "not_relevant"})
    assert r.status_code == 201 and "once your e-mail address is confirmed" in r.text
    # without JavaScript, back on the card: it says the same as the JS path, from one
    # look-up of the person for the whole page (not one per card)
    r = me.client.post(
        "/feedback", data={**form, "outcome": "contacted", "return_to": f"/r/{rec_id}"}
    )
    assert r.status_code == 303, r.text
    accounts = app.state.api.accounts
    lookups: list[str] = []
    real = accounts.session_person

    def counted(token: str) -> object:
        lookups.append(token)
        return real(token)

    monkeypatch.setattr(accounts, "session_person", counted)
    page = me.client.get(r.headers["location"]).text
    monkeypatch.undo()
    card = page.split(f'id="org-{orgs[0]}"')[1].split("</article>")[0]
    assert (
        "Marked as contacted. Thank you! It will help improve suggestions once your e-mail" in card
    )
    assert "sign in" not in card
    assert len(lookups) == 1 and len(CARD.findall(page)) > 3
    assert _fed(engine, rec_id) == {}
    verify(app, me.email)
    # with JavaScript
    r = me.client.post("/feedback", data={**form, "outcome": "contacted"}, headers=js)
    assert r.status_code == 201 and r.json() == {
        "ok": True,
        "outcome": "contacted",
        "counted": True,
        "unconfirmed": False,
    }
    # without JavaScript: back to the card, which says nothing about signing in
    back = {**form, "organisation_id": orgs[1], "outcome": "not_relevant"}
    r = me.client.post("/feedback", data={**back, "return_to": f"/r/{rec_id}"})
    assert r.status_code == 303, r.text
    card = me.client.get(r.headers["location"]).text.split(f'id="org-{orgs[1]}"')[1]
    card = card.split("</article>")[0]
    assert "Marked as not relevant. Thank you!" in card and "sign in" not in card
    assert "confirmed" not in card
    r = me.client.post("/feedback", data={**back, "organisation_id": orgs[2]})
    assert r.status_code == 201 and "It helps improve future suggestions" in r.text

    rows = _rows(engine, rec_id)
    assert [(r.person_id, r.api_key_id) for r in rows] == [(me.person_id, None)] * 6
    assert _fed(engine, rec_id) == {
        orgs[0]: "contacted",
        orgs[1]: "not_relevant",
        orgs[2]: "not_relevant",
    }


def test_an_anonymous_mark_is_kept_said_not_to_count_and_skipped(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    c = browser(app)
    rec_id, orgs, html = _ask(c)
    hint = html.split('class="hint signin-hint"')[1].split("</p>")[0]
    assert f'href="/login?next=/r/{rec_id}"' in hint and SIGNIN_HINT in hint
    assert f'href="/signup?next=/r/{rec_id}"' in hint  # signing up comes back here too
    profile = c.get(f"/organisations/{orgs[0]}").text  # and to a partner's profile
    assert f'href="/signup?next=/organisations/{orgs[0]}"' in profile
    form = {"recommendation_id": rec_id, "organisation_id": orgs[0], "outcome": "contacted"}
    r = c.post("/feedback", data=form, headers={"Accept": "application/json"})
    assert r.status_code == 201 and r.json()["counted"] is False
    # without JavaScript: the card says so, with a way to sign in and come back
    r = c.post("/feedback", data={**form, "return_to": f"/r/{rec_id}"})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    card = page.split(f'id="org-{orgs[0]}"')[1].split("</article>")[0]
    assert "Marked as contacted. Thank you!" in card
    assert "Only marks made while signed in" in card
    assert f'<a href="/login?next=/r/{rec_id}">sign in</a>' in card
    assert f'<a href="/signup?next=/r/{rec_id}">sign up</a>' in card  # or make an account
    r = c.post("/feedback", data=form)
    assert r.status_code == 201 and "only when you are signed in" in r.text
    assert f'href="/login?next=/r/{rec_id}"' in r.text
    assert f'href="/signup?next=/r/{rec_id}"' in r.text
    assert "It helps improve future suggestions" not in r.text

    rows = _rows(engine, rec_id)
    assert len(rows) == 3 and {(r.person_id, r.api_key_id) for r in rows} == {(None, None)}
    assert _fed(engine, rec_id) == {}
    skipped: Counter[str] = Counter()
    labelled_pairs(engine.store, skipped=skipped)
    assert skipped["anonymous feedback"] >= 3


def test_analysts_see_who_gave_each_mark(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    me = sign_up(app)
    rec_id, orgs, _html = _ask(me.client, me.csrf)
    base = {"recommendation_id": rec_id, "outcome": "viewed"}
    r = me.client.post(
        "/feedback", data={**base, "organisation_id": orgs[0], "csrf_token": me.csrf}
    )
    assert r.status_code == 201
    assert (
        browser(app).post("/feedback", data={**base, "organisation_id": orgs[1]}).status_code == 201
    )
    # the JSON API with a key, as before
    r = client.post(
        "/v1/feedback", json={**base, "organisation_id": orgs[2]}, headers=hdr(keys["reader"])
    )
    assert r.status_code == 201 and r.json()["given_by"] == "api_key", r.text

    export = client.get("/v1/feedback?outcome=viewed&page_size=200", headers=hdr(keys["analyst"]))
    assert export.status_code == 200
    mine = {
        f["organisation_id"]: f["given_by"]
        for f in export.json()["items"]
        if f["recommendation_id"] == rec_id
    }
    assert mine == {orgs[0]: "person", orgs[1]: "anonymous", orgs[2]: "api_key"}
