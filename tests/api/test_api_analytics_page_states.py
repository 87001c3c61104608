"""The analytics page before anything is recorded, and with a partnership recorded through
`POST /v1/partnership-records` and no introduction: it drew six empty plots and two empty tables
with no word of why (and, with records only, four bare axes for the rates); a partnership record
counts on it (proposed, started, closed by outcome)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts_support import browser, page_csrf
from api_support import hdr, quiet_api_settings, seed
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_api_partnership_records import PLAN, _member

from api.main import create_app
from matcher.engine import Engine

EMPTY = "No introductions or partnerships recorded yet. They appear here when"


def _page(app: FastAPI, key: str) -> str:
    """The page as a browser gets it: the key form, then the key POSTed with its token."""
    b = browser(app)
    form = b.get("/analyst/analytics")
    r = b.post("/analyst/analytics", data={"api_key": key, "csrf_token": page_csrf(form.text)})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def test_an_empty_store_says_nothing_is_recorded_yet(engine: Engine, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = engine.settings.model_copy(update={"database_url": url})
    app = create_app(settings, quiet_api_settings(), engine=engine)
    with TestClient(app) as client:
        key = app.state.api.keys.create("empty analyst", "analyst")[0]
        page = _page(app, key)
        by_header = client.get("/analyst/analytics", headers=hdr(key)).text
    assert EMPTY in page and EMPTY in html.unescape(by_header)
    assert "POST /v1/introductions" in page and "POST /v1/partnership-records" in page
    assert "<svg" not in page and "<table" not in page  # no empty plots or tables
    assert "0 introduction requests" not in page


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, TestClient, dict]]:
    """An app over a store of its own: no introduction, no partnership record yet."""
    eng = seed(tmp_path_factory.mktemp("analytics-records"))
    settings = eng.settings.model_copy(update={"analytics_min_group": 1})
    app = create_app(settings, quiet_api_settings(), engine=eng)
    with TestClient(app) as client:
        ring = app.state.api.keys
        keys = {role: ring.create(f"records {role}", role)[0] for role in ("analyst", "admin")}
        yield app, client, keys
    eng.close()


def test_a_partnership_recorded_through_the_api_is_counted(
    fresh: tuple[FastAPI, TestClient, dict],
) -> None:
    app, client, keys = fresh
    assert EMPTY in _page(app, keys["analyst"])
    pantry, ana = _member(app, client, keys["admin"], "pantry")
    grocer, ben = _member(app, client, keys["admin"], "grocer")
    body = {"organisation_id": pantry, "partner_id": grocer, "plan": PLAN}
    r = ana.client.post("/v1/partnership-records", json=body, headers=ana.headers())
    assert r.status_code == 201, r.text
    url = f"/v1/partnership-records/{r.json()['id']}"
    assert ben.client.post(f"{url}/accept", headers=ben.headers()).status_code == 200
    closed = ben.client.post(
        f"{url}/close", json={"result": "achieved"}, headers={**ben.headers(), "If-Match": '"2"'}
    )
    assert closed.status_code == 200, closed.text
    page = _page(app, keys["analyst"])
    assert EMPTY not in page
    assert "0 introduction requests" in page
    assert (
        "1 partnership record proposed, 1 started (accepted by the partner); 1 closed: "
        "1 achieved, 0 partly achieved, 0 not achieved" in page
    )
    assert "business → business: 1 achieved, 0 partly achieved, 0 not achieved" in page
    # the rates have nothing to draw: said in words, not two bare axes per grouping
    assert len(re.findall(r"<svg ", page)) == 2
    assert page.count("No introduction requests yet: their rates are drawn here") == 4
    row = re.search(r'<th scope="row">business → business</th>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[0] == "0" and cells[9:13] == ["1", "1", "1", "0"]  # requests; records


def test_imported_history_is_said_apart_from_what_is_counted(tmp_path: Path) -> None:
    """helper-82's walk: the page said "No introductions or partnerships recorded yet" over a
    demo holding 11,139 imported past partnerships, with no word of them."""
    from training.history import store_partnerships
    from training.partnership import Partnership

    eng = seed(tmp_path / "history")
    ids = [o.record.id for o in eng.store.list_organisations(limit=3)[0]]
    store_partnerships(
        eng.store,
        [Partnership(id=f"p{i}", source_id=ids[0], partner_id=ids[1 + i % 2]) for i in range(3)],
    )
    app = create_app(eng.settings, quiet_api_settings(), engine=eng)
    with TestClient(app) as client:
        key = app.state.api.keys.create("history analyst", "analyst")[0]
        page = html.unescape(client.get("/analyst/analytics", headers=hdr(key)).text)
        figures = client.get("/v1/analyst/analytics", headers=hdr(key)).json()
    eng.close()
    assert EMPTY in page
    assert "The 3 past partnerships imported as history are what models learn from" in page
    assert figures["history_partnerships"] == 3 and figures["totals"]["records_proposed"] == 0
