"""The analytics for analysts over HTTP: `GET /v1/analyst/analytics` and the page at
/analyst/analytics, on an app of its own whose database holds only the hand-built history of
tests/analytics (so every figure is known): who may read them, the figures, and the page's
SVG plots and tables."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from accounts_support import browser, page_csrf
from api_support import hdr, quiet_api_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine
from tests.analytics.analytics_world import (
    EXPECTED_CAUSES,
    EXPECTED_PAIRS,
    EXPECTED_TOTALS,
    History,
    build,
)

ROLES = ("reader", "editor", "analyst", "admin")


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'a.db'}"
    # every group on its own: the figures are the hand-worked ones (small groups: their own test)
    settings = engine.settings.model_copy(update={"database_url": url, "analytics_min_group": 1})
    app = create_app(settings, quiet_api_settings(), engine=engine)
    with TestClient(app) as client:
        ring: KeyRing = app.state.api.keys
        keys = {role: ring.create(f"analytics {role}", role)[0] for role in ROLES}
        history = build(app.state.api.db)
        yield app, client, keys, history


@pytest.fixture(scope="module")
def app(world: tuple) -> FastAPI:
    return world[0]


@pytest.fixture(scope="module")
def client(world: tuple) -> TestClient:
    return world[1]


@pytest.fixture(scope="module")
def keys(world: tuple) -> dict[str, str]:
    return world[2]


@pytest.fixture(scope="module")
def history(world: tuple) -> History:
    return world[3]


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 401), ("wrong", 401), ("reader", 403), ("editor", 403), ("analyst", 200),
     ("admin", 200)],
)  # fmt: skip
def test_who_reads_the_analytics(
    client: TestClient, keys: dict[str, str], role: str | None, expected: int
) -> None:
    headers = {} if role is None else hdr(keys.get(role, "pm_0123abcd_notakey"))
    r = client.get("/v1/analyst/analytics", headers=headers)
    assert r.status_code == expected, r.text
    page = client.get("/analyst/analytics", headers=headers)
    # the page without a key asks for one (200); a wrong key 401, a lower role 403
    assert page.status_code == (200 if role is None else expected)
    assert ("<svg" in page.text) == (expected == 200 and role is not None)


def test_the_figures_over_json(client: TestClient, keys: dict[str, str]) -> None:
    body = client.get("/v1/analyst/analytics", headers=hdr(keys["analyst"])).json()
    pairs = {g["key"]: g for g in body["by_sector_pair"]}
    causes = {g["key"]: g for g in body["by_cause"]}
    assert set(pairs) == set(EXPECTED_PAIRS) and set(causes) == set(EXPECTED_CAUSES)
    for groups, expected_groups in ((pairs, EXPECTED_PAIRS), (causes, EXPECTED_CAUSES)):
        for key, expected in expected_groups.items():
            assert {k: groups[key][k] for k in expected} == expected, key
    assert {k: body["totals"][k] for k in EXPECTED_TOTALS} == EXPECTED_TOTALS
    # NTEE major groups are named
    assert causes["K"]["label"] == "food, agriculture and nutrition (K)"


def test_the_totals_are_named_for_what_they_count(client: TestClient, keys: dict[str, str]) -> None:
    totals = client.get("/v1/analyst/analytics", headers=hdr(keys["analyst"])).json()["totals"]
    assert totals["records_proposed"] > 0  # partnership records count in them ...
    # ... so they are not "All introductions"; the key clients may select on is unchanged
    assert totals["label"] == "All introduction requests and partnership records"
    assert totals["key"] == "all"


def _report(app: FastAPI, key: str) -> tuple[int, str]:
    """The page as a browser gets it: the key form, then the key POSTed with its CSRF token."""
    b = browser(app)
    form = b.get("/analyst/analytics")
    assert form.status_code == 200 and 'name="api_key"' in form.text and "<svg" not in form.text
    r = b.post("/analyst/analytics", data={"api_key": key, "csrf_token": page_csrf(form.text)})
    return r.status_code, r.text


def test_the_page_draws_the_figures(app: FastAPI, keys: dict[str, str]) -> None:
    status, text = _report(app, keys["analyst"])
    assert status == 200
    assert keys["analyst"] not in text  # the key is never echoed
    svgs = re.findall(r"<svg [^>]*>", text)
    assert len(svgs) == 6 and all('role="img"' in s and "aria-label=" in s for s in svgs)
    page = html.unescape(text)
    # each plot says its figures in words (aria-label and <title>) ...
    labels = dict(
        re.findall(r'aria-label="((?:Acceptance|Response|Partnership)[^.]*)\. ([^"]*)"', page)
    )
    said = {title: set(words.split("; ")) for title, words in labels.items()}
    assert said["Acceptance rate by sector pair"] == {
        "government → nonprofit: 100% (1 of 1)",
        "nonprofit → business: 50% (1 of 2)",
        "business → government: no data",  # an expired request, no answer
        "business → nonprofit: no data",  # still open
    }
    assert {"nonprofit → business: 100% (2 of 2)", "business → government: 0% (0 of 1)"} <= said[
        "Response rate by sector pair"
    ]
    assert said["Partnership outcomes by sector pair"] == {
        "government → nonprofit: 0 achieved, 1 partly achieved, 0 not achieved",
        "nonprofit → business: 1 achieved, 0 partly achieved, 0 not achieved",
    }
    assert "food retail: 50% (1 of 2)" in said["Acceptance rate by cause"]
    assert "(none): 0% (0 of 1)" in said["Response rate by cause"]
    assert (
        "food, agriculture and nutrition (K): 0 achieved, 1 partly achieved, 0 not achieved"
        in said["Partnership outcomes by cause"]
    )
    # ... and the bars have the lengths of the rates (300 px is 100%)
    assert re.search(r'<rect x="190" y="\d+" width="150\.0" height="18" fill="#1f6feb">'
                     r"<title>nonprofit → business: 50% \(1 of 2\)", page)  # fmt: skip
    # ... and a table holds the same figures
    row = re.search(r'<th scope="row">nonprofit → business</th>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells == ["2", "0", "1", "1", "0", "0", "100%", "50%", "4.0", "1", "1", "1", "0",
                     "0", "3.0 (2)"]  # fmt: skip
    assert "6 introduction requests: 2 accepted, 1 declined, 1 withdrawn, 1 expired" in page
    assert "Response rate 75%, acceptance rate 67%, median 6.0 hours" in page


@pytest.mark.parametrize(("role", "expected"), [("editor", 403), ("reader", 403), ("admin", 200)])
def test_the_page_form_checks_the_role(
    app: FastAPI, keys: dict[str, str], role: str, expected: int
) -> None:
    status, text = _report(app, keys[role])
    assert status == expected
    assert ("<svg" in text) == (expected == 200)


def test_the_page_form_refuses_a_wrong_key_and_a_post_without_its_csrf_token(
    app: FastAPI, keys: dict[str, str]
) -> None:
    status, text = _report(app, "pm_0123abcd_notakey")
    assert status == 401 and "<svg" not in text
    b = browser(app)  # no form read first: no session, no token
    r = b.post("/analyst/analytics", data={"api_key": keys["analyst"]})
    assert r.status_code == 403 and "<svg" not in r.text
    b.get("/analyst/analytics")
    r = b.post("/analyst/analytics", data={"api_key": keys["analyst"], "csrf_token": "forged"})
    assert r.status_code == 403 and "<svg" not in r.text


def test_the_analytics_route_is_documented_for_analysts(app: FastAPI) -> None:
    op = app.openapi()["paths"]["/v1/analyst/analytics"]["get"]
    assert {"200", "401", "403", "429"} <= set(op["responses"])
    assert "/analyst/analytics" not in app.openapi()["paths"]  # the page is not API


def test_history_is_the_only_data(history: History) -> None:
    assert len(history.orgs) == 4
