"""8 concurrent PATCHes carrying one If-Match against a live server, round after round: exactly
one may win (200), the other 7 get 412, and the organisation ends at version 2 holding the
winner's write. One server per drill; winners are counted per round."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.drills.common import Backend, Result, Server, seed
from tests.support_threads import together

WRITERS = 8


def _race(clients: list[httpx.Client], rng: random.Random, n: int) -> Result:
    body = {"name": f"Race org {n}", "sector": "business", "description": "Race target."}
    created = clients[0].post("/v1/organisations", json=body)
    if created.status_code != 201:
        return Result(False, f"create answered {created.status_code}: {created.text[:200]}")
    url = f"/v1/organisations/{created.json()['id']}"
    jitter = [rng.uniform(0.0, 0.003) for _ in range(WRITERS)]  # seeded interleavings

    def patch(i: int) -> int:
        time.sleep(jitter[i])
        r = clients[i].patch(url, json={"city": f"Writer {i}"}, headers={"If-Match": '"1"'})
        return r.status_code

    codes = together(WRITERS, patch)
    answers = Counter(c if isinstance(c, int) else type(c).__name__ for c in codes)
    winners = [i for i, c in enumerate(codes) if c == 200]
    final = clients[0].get(url)
    etag, city = final.headers.get("etag"), final.json().get("city")
    kept = len(winners) == 1 and city == f"Writer {winners[0]}"
    ok = answers == Counter({200: 1, 412: WRITERS - 1}) and etag == '"2"' and kept
    note = f"winners={len(winners)} answers={dict(answers)} etag={etag} city={city!r}"
    return Result(ok, note, winners=[len(winners)])


def rounds(root: Path, rng: random.Random, count: int, backend: Backend) -> Iterator[Result]:
    data_dir = root / f"race-{backend.name}"
    with backend.database("race") as url:
        seed(data_dir, url).close()
        server = Server(data_dir, url)
        clients = [server.client() for _ in range(WRITERS)]
        try:
            for n in range(count):
                yield _race(clients, rng, n)
        finally:
            for c in clients:
                c.close()
            server.stop()
