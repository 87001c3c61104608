"""Small groups over HTTP, on SQLite and PostgreSQL: with the default minimum group size (5),
`GET /v1/analyst/analytics` and the page at /analyst/analytics show the large sector pairs and
causes and one 'other (small groups)' row; the community group whose one request was declined
appears in neither, by name or in a plot."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from accounts_support import browser, page_csrf
from api_support import hdr, quiet_api_settings
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine
from tests.analytics.analytics_world import (
    LARGE_MERGED_CAUSES,
    LARGE_MERGED_PAIRS,
    LARGE_OTHER_REQUESTS,
    LARGE_SHOWN_CAUSES,
    LARGE_SHOWN_PAIRS,
    build_with_large_groups,
)
from tests.support_databases import pg_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, engine: Engine, tmp_path: Path
) -> Iterator[tuple[TestClient, str]]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'a.db'}"
        else:
            url = stack.enter_context(pg_schema_url("analytics"))
        # the default minimum group size (5): not set here
        settings = engine.settings.model_copy(update={"database_url": url})
        assert settings.analytics_min_group == 5
        app = create_app(settings, quiet_api_settings(), engine=engine)
        client = stack.enter_context(TestClient(app))
        ring: KeyRing = app.state.api.keys
        key = ring.create("analytics analyst", "analyst")[0]
        build_with_large_groups(app.state.api.db)
        yield client, key


def test_the_json_merges_small_groups(world: tuple[TestClient, str]) -> None:
    client, key = world
    body = client.get("/v1/analyst/analytics", headers=hdr(key)).json()
    pairs = {g["key"]: g for g in body["by_sector_pair"]}
    causes = {g["key"]: g for g in body["by_cause"]}
    assert {k: g["requests"] for k, g in pairs.items()} == {
        **LARGE_SHOWN_PAIRS,
        "(other)": LARGE_OTHER_REQUESTS,
    }
    assert {k: g["requests"] for k, g in causes.items()} == {
        **LARGE_SHOWN_CAUSES,
        "(other)": LARGE_OTHER_REQUESTS,
    }
    assert pairs["(other)"]["groups"] == body["merged_sector_pairs"] == LARGE_MERGED_PAIRS
    assert causes["(other)"]["groups"] == body["merged_causes"] == LARGE_MERGED_CAUSES
    assert body["min_group"] == 5
    assert "community" not in str(body["by_sector_pair"])


def test_the_page_merges_small_groups(world: tuple[TestClient, str]) -> None:
    client, key = world
    b = browser(client.app)  # type: ignore[arg-type]
    form = b.get("/analyst/analytics")
    r = b.post("/analyst/analytics", data={"api_key": key, "csrf_token": page_csrf(form.text)})
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert "nonprofit → business" in page and "government → business" in page
    assert "community → government" not in page  # the lone decline: in no table, no plot
    assert f'<th scope="row">other (small groups): {LARGE_MERGED_PAIRS} groups</th>' in page
    assert "fewer than 5 requests (or records) is not shown on its own" in page
    # the plots draw the merged row like any other (1 accepted, 1 declined of its 5 requests)
    assert "other (small groups): 50% (1 of 2)" in page
