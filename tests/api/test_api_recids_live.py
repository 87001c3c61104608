"""Two uvicorn processes on one SQLite data directory (or one PostgreSQL database), the record
queue on (the default, 50 ms flush window): a recommendation served by one process, its
permalink and feedback asked of the other right after the response (a fresh connection, as when
a browser's next request lands on another worker), are all answered: the other process waits
for the write instead of 404."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from api_support import hdr
from support_databases import pg_schema_url

from training.bench_replicas import SERVER_ENV, seed
from training.serve_support import Uvicorn, uvicorn_server

PORTS = (8733, 8734)
NEED = {"text": "Food bank needs refrigerated vans and volunteers", "city": "Leeds", "limit": 3}
ROUNDS = 16  # per client thread; 2 threads, alternating direction


@pytest.fixture(params=["sqlite", "postgresql"])
def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Uvicorn, Uvicorn, str]]:
    """Two uvicorn processes on one data directory (SQLite), or with one PostgreSQL database
    (as two machines would be; skipped without a server)."""
    with ExitStack() as stack:
        env = {
            **os.environ,
            **SERVER_ENV,
            "MATCHER_DATA_DIR": str(tmp_path),
            "MATCHER_API_FOLLOW_CHANGES": "false",  # nothing to follow here: keep the CPU quiet
        }
        url = None
        if request.param == "postgresql":
            url = env["MATCHER_DATABASE_URL"] = stack.enter_context(pg_schema_url("recids"))
        seed(tmp_path, url, orgs=200)
        args = ("--no-access-log", "--no-proxy-headers")
        a, b = (
            stack.enter_context(
                uvicorn_server(env, log_path=tmp_path / f"{n}.log", port=port, args=args)
            )
            for n, port in zip("ab", PORTS, strict=True)
        )
        yield a, b, (tmp_path / "admin-key.txt").read_text().strip()


def _round(served_by: str, asked_of: str, key: str, i: int) -> list[str]:
    """A recommendation from one process; at once, on fresh connections to the other, its
    permalink and feedback on its first partner (which goes first alternates). Returns what
    went wrong."""
    with httpx.Client(base_url=served_by, headers=hdr(key), timeout=30) as http:
        r = http.post("/v1/recommendations", json={**NEED, "text": f"{NEED['text']} {i}"})
    if r.status_code != 200:
        return [f"recommend {r.status_code} {r.text[:200]}"]
    rec_id, org = r.json()["recommendation_id"], r.json()["results"][0]["id"]

    def permalink() -> str | None:
        page = httpx.get(f"{asked_of}/r/{rec_id}", timeout=30)
        ok = page.status_code == 200 and rec_id in page.text
        return None if ok else f"permalink {rec_id}: {page.status_code}"

    def feedback() -> str | None:
        fb = httpx.post(
            f"{asked_of}/v1/feedback",
            json={"recommendation_id": rec_id, "organisation_id": org, "outcome": "contacted"},
            headers=hdr(key),
            timeout=30,
        )
        ok = fb.status_code == 201
        return None if ok else f"feedback {rec_id}: {fb.status_code} {fb.text[:200]}"

    steps = (permalink, feedback) if i % 4 < 2 else (feedback, permalink)
    return [p for p in (step() for step in steps) if p is not None]


def test_permalink_and_feedback_work_from_the_other_process_right_after_the_response(
    two_processes: tuple[Uvicorn, Uvicorn, str],
) -> None:
    a, b, key = two_processes
    start = time.perf_counter()

    def client(c: int) -> list[str]:
        out: list[str] = []
        for i in range(ROUNDS):
            there, back = (a, b) if (i + c) % 2 == 0 else (b, a)
            out.extend(_round(there.base_url, back.base_url, key, c * ROUNDS + i))
        return out

    with ThreadPoolExecutor(2) as pool:
        problems = [p for found in pool.map(client, range(2)) for p in found]
    took = time.perf_counter() - start
    kinds = Counter(p.split()[0] for p in problems)
    assert not problems, f"{dict(kinds)} of {2 * ROUNDS} each failed: {problems[:4]}"
    assert took < 60, took
    for junk in ("rec_1a2b3c4d5e6f7a8b", "rec_doesnotexist"):  # still 404 (and at once:
        assert httpx.get(f"{b.base_url}/r/{junk}", timeout=30).status_code == 404  # unit tests)
