"""While the model and index load, the home page says so, and a search made too early keeps
what the person typed. Before, the page gave no sign, the search answered an error page, and
its link back emptied the form (a fresh server on real data takes 10-45 s)."""

from __future__ import annotations

import html

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

NEED = "We run a homeless shelter and need volunteers for night shifts & funding for beds"


def test_the_home_page_says_the_service_is_starting(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'id="starting"' not in client.get("/").text  # loaded: no notice
    monkeypatch.setattr(app.state.api, "engine", None)  # as while it loads
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="starting"' in page.text and "is starting" in page.text


def test_a_search_made_while_starting_keeps_the_form(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.api, "engine", None)
    form = {"text": NEED, "place": "Albuquerque, NM", "sectors": ["business", "nonprofit"]}
    r = client.post("/", data=form)
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    text = html.unescape(r.text)
    assert "Your search has not run yet" in text
    assert NEED in text and 'value="Albuquerque, NM"' in text
    assert 'value="business" checked' in text and 'value="government" checked' not in text
    monkeypatch.undo()
    again = client.post("/", data=form)  # loaded: the same form searches
    assert again.status_code == 200 and 'id="starting"' not in again.text


def test_a_failed_load_is_still_an_error(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.api, "engine", None)
    monkeypatch.setattr(app.state.api, "load_error", "no index")
    assert 'id="starting"' not in client.get("/").text
    r = client.post("/", data={"text": NEED})
    assert r.status_code == 503 and "failed to load" in r.text


def test_a_page_needing_the_engine_while_starting_says_it_once(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "the model and index are still loading", then "The matching model and index are still
    loading. Try again in a few seconds." (real data walk)."""
    monkeypatch.setattr(app.state.api, "engine", None)
    page = client.get("/organisations/anything")
    assert page.status_code == 503
    assert page.text.count("still loading") == 1, page.text
