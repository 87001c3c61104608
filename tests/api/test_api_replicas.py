"""Replicas that agree, in real processes: two uvicorn servers on one data directory (SQLite)
or one PostgreSQL database. A write through one reaches the other's in-memory index and key
cache within about a second, and at once for a read that passes the write's min_seq."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import until as _until
from support_databases import pg_schema_url

from training.bench_replicas import SERVER_ENV, org_body, replicas, seed, visible_in_index
from training.serve_support import Uvicorn, uvicorn_server

VISIBLE_WITHIN = 1.5  # seconds: the follower polls every 250 ms (PostgreSQL: NOTIFY at once)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[list[Uvicorn], str]]:
    if request.param == "sqlite":
        seed(tmp_path, None)
        with replicas(tmp_path, 2) as found:
            yield found
        return
    with pg_schema_url("rep") as url:
        seed(tmp_path, url)
        with replicas(tmp_path, 2, {"MATCHER_DATABASE_URL": url}) as found:
            yield found


def _match_ids(client: httpx.Client, org_id: str) -> dict[str, str]:
    r = client.get(f"/v1/organisations/{org_id}/matches", params={"limit": 50})
    assert r.status_code == 200, r.text
    return {m["id"]: m["name"] for m in r.json()["results"]}


def test_a_write_through_one_process_is_served_by_the_other(
    two_servers: tuple[list[Uvicorn], str],
) -> None:
    (a, b), admin = two_servers
    headers = {"X-API-Key": admin}
    with (
        httpx.Client(base_url=a.base_url, headers=headers, timeout=60) as ca,
        httpx.Client(base_url=b.base_url, headers=headers, timeout=60) as cb,
    ):
        # read your write on the other process: min_seq waits until it is applied there
        r = ca.post("/v1/organisations", json=org_body(0))
        assert r.status_code == 201, r.text
        seq = int(r.headers["X-Change-Seq"])
        assert visible_in_index(cb, "replica-org-0", min_seq=seq) == 200

        # without min_seq: within about a second
        r = ca.post("/v1/organisations", json=org_body(1))
        assert r.status_code == 201, r.text
        assert int(r.headers["X-Change-Seq"]) > seq
        _until(lambda: visible_in_index(cb, "replica-org-1") == 200, VISIBLE_WITHIN)
        assert "replica-org-1" in _match_ids(cb, "replica-org-0")

        # an update reaches the other index (the name it shows), a delete leaves it
        r = ca.patch("/v1/organisations/replica-org-1", json={"name": "Renamed Rescue Org"})
        assert r.status_code == 200, r.text
        _until(
            lambda: _match_ids(cb, "replica-org-0").get("replica-org-1") == "Renamed Rescue Org",
            VISIBLE_WITHIN,
        )
        r = ca.delete("/v1/organisations/replica-org-1")
        assert r.status_code == 204, r.text
        _until(lambda: "replica-org-1" not in _match_ids(cb, "replica-org-0"), VISIBLE_WITHIN)

        # a key revoked through one process stops working on the other (its cache held 30 s)
        r = ca.post("/v1/keys", json={"name": "partner", "role": "reader"})
        assert r.status_code == 201, r.text
        key, key_id = r.json()["key"], r.json()["id"]
        reader = {"X-API-Key": key}
        assert cb.get("/v1/organisations/replica-org-0/matches", headers=reader).status_code == 200
        assert ca.delete(f"/v1/keys/{key_id}").status_code == 200
        _until(
            lambda: cb.get("/v1/organisations/replica-org-0", headers=reader).status_code == 401,
            VISIBLE_WITHIN,
        )


def test_a_machine_with_a_data_directory_of_its_own_serves_the_shared_database(
    tmp_path: Path,
) -> None:
    """Two machines share only PostgreSQL: each process has a data directory of its own (its
    index files). The second builds its index from the database when it starts, serves the
    first's organisations, and follows the first's writes; its API key works on both."""
    with pg_schema_url("machines") as url:
        first, second = tmp_path / "machine-a", tmp_path / "machine-b"
        first.mkdir()
        second.mkdir()
        seed(first, url, orgs=20)
        env = {"MATCHER_DATABASE_URL": url}
        second_env = {**os.environ, **SERVER_ENV, **env, "MATCHER_DATA_DIR": str(second)}
        log = second / "uvicorn.log"
        with (
            replicas(first, 1, env) as ([a], admin),
            uvicorn_server(second_env, log_path=log, timeout=120) as b,
        ):
            assert not (second / "admin-key.txt").exists()  # the database has keys already
            headers = {"X-API-Key": admin}  # made by the first machine, stored in the database
            with (
                httpx.Client(base_url=a.base_url, headers=headers, timeout=60) as ca,
                httpx.Client(base_url=b.base_url, headers=headers, timeout=60) as cb,
            ):
                seeded = ca.get("/v1/organisations").json()["items"]
                assert len(seeded) == 20
                for org in seeded:  # the second machine built its index from the database
                    assert visible_in_index(cb, org["id"]) == 200
                r = ca.post("/v1/organisations", json=org_body(0))
                assert r.status_code == 201, r.text
                seq = int(r.headers["X-Change-Seq"])
                assert visible_in_index(cb, "replica-org-0", min_seq=seq) == 200
                r = cb.post("/v1/organisations", json=org_body(1))
                assert r.status_code == 201, r.text
                _until(lambda: visible_in_index(ca, "replica-org-1") == 200, VISIBLE_WITHIN)
