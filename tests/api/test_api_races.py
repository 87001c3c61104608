"""Concurrent writes through the API, on SQLite and (when a server is reachable) PostgreSQL.

8 PATCHes carrying the same If-Match race for one version: exactly one may win (200), the
others get 412. Same-id creates race too: exactly one 201, the others 409 (never 503, never
an overwrite of the winner's text or owner). MATCHER_RACE_ROUNDS sets the number of rounds
(default 50).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from api_support import hdr, quiet_api_settings, sample_orgs
from fastapi.testclient import TestClient

from api.keys import KeyRing
from api.main import create_app
from matcher.engine import Engine
from matcher.settings import Settings
from tests.support_databases import pg_schema_url
from tests.support_threads import together

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL")
ROUNDS = int(os.environ.get("MATCHER_RACE_ROUNDS", "50"))
WRITERS = 8


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp(f"race-{request.param}")
    with ExitStack() as stack:
        database_url = None
        if request.param == "postgresql":
            database_url = stack.enter_context(pg_schema_url("race"))
        settings = Settings(data_dir=data_dir, database_url=database_url, model_name="hashing-v1")
        engine = Engine.open(settings, load=False)
        engine.store.upsert_organisations(sample_orgs(30))
        engine.build()
        engine.close()
        with TestClient(create_app(settings, quiet_api_settings())) as c:
            ring: KeyRing = c.app.state.api.keys  # type: ignore[attr-defined]
            keys = {f"editor{i}": ring.create(f"race {i}", "editor")[0] for i in range(WRITERS)}
            yield c, keys


def _new_org(c: TestClient, key: str) -> str:
    body = {"name": "Race org", "sector": "business", "description": "Race target."}
    r = c.post("/v1/organisations", json=body, headers=hdr(key))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_concurrent_patches_with_one_if_match_have_one_winner(
    race_client: tuple[TestClient, dict[str, str]],
) -> None:
    c, keys = race_client
    key = keys["editor0"]
    bad_rounds = []
    for rnd in range(ROUNDS):
        url = f"/v1/organisations/{_new_org(c, key)}"

        def patch(i: int, url: str = url) -> int:
            r = c.patch(url, json={"city": f"Writer {i}"}, headers=hdr(key, **{"If-Match": '"1"'}))
            return r.status_code

        codes = Counter(together(WRITERS, patch))
        if codes != Counter({200: 1, 412: WRITERS - 1}):
            bad_rounds.append((rnd, dict(codes)))
        final = c.get(url, headers=hdr(key))
        assert final.headers["etag"] == '"2"', (rnd, final.headers["etag"])
    assert not bad_rounds, f"{len(bad_rounds)} of {ROUNDS} rounds: {bad_rounds[:5]}"


def test_concurrent_creates_of_one_id_have_one_winner(
    race_client: tuple[TestClient, dict[str, str]],
) -> None:
    c, keys = race_client
    bad_rounds = []
    rounds = max(1, ROUNDS // 5)
    for rnd in range(rounds):
        need_id = f"need-race-{uuid.uuid4().hex[:8]}"
        org_id = f"org-race-{uuid.uuid4().hex[:8]}"

        def create_need(i: int, need_id: str = need_id) -> int:
            body = {"id": need_id, "text": f"Need text from writer {i}: fresh food."}
            r = c.post("/v1/needs", json=body, headers=hdr(keys[f"editor{i}"]))
            return r.status_code

        def create_org(i: int, org_id: str = org_id) -> int:
            body = {
                "id": org_id,
                "name": f"Writer {i}",
                "sector": "business",
                "description": "Same id.",
            }
            r = c.post("/v1/organisations", json=body, headers=hdr(keys[f"editor{i}"]))
            return r.status_code

        for kind, call in (("need", create_need), ("org", create_org)):
            codes = Counter(together(WRITERS, call))
            if codes != Counter({201: 1, 409: WRITERS - 1}):
                bad_rounds.append((rnd, kind, dict(codes)))
        # The winner keeps its text: read the need back and check its owner wrote that text.
        need = c.get(f"/v1/needs/{need_id}").json()
        writer = int(need["text"].split("writer ")[1].split(":")[0])
        mine = c.get("/v1/needs?mine=true&page_size=100", headers=hdr(keys[f"editor{writer}"]))
        assert need_id in {n["id"] for n in mine.json()["items"]}, (rnd, need)
    assert not bad_rounds, f"{len(bad_rounds)} of {rounds} rounds: {bad_rounds[:5]}"
