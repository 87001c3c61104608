"""kill -9 of a server taking a stream of `POST /v1/organisations`, at a seeded moment: after a
restart every write it acknowledged (201) must be readable (target: 0 lost)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx

from tests.drills.common import Backend, Result, Server, seed


def run_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    data_dir = root / f"api-{backend.name}-{n}"
    with backend.database(f"api_{n}") as url:
        seed(data_dir, url).close()
        server = Server(data_dir, url)
        acked: list[str] = []
        statuses: dict[int, int] = {}
        stop = threading.Event()
        first = threading.Event()  # the first write can be slow (warm-up): the clock starts after

        def writer() -> None:
            with server.client(timeout=5) as client:
                i = 0
                while not stop.is_set():
                    body = {"name": f"Drill {n}-{i}", "sector": "business", "description": "D."}
                    try:
                        r = client.post("/v1/organisations", json=body)
                    except httpx.HTTPError:
                        return
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    first.set()
                    if r.status_code == 201:
                        acked.append(r.json()["id"])
                    i += 1

        thread = threading.Thread(target=writer)
        thread.start()
        first.wait(60)
        time.sleep(rng.uniform(0.2, 2.0))
        server.kill()
        stop.set()
        thread.join()
        server = Server(data_dir, url)
        try:
            with server.client() as client:
                lost = [i for i in acked if client.get(f"/v1/organisations/{i}").status_code != 200]
        finally:
            server.stop()
    note = f"acknowledged={len(acked)} lost={len(lost)} answers={statuses}"
    return Result(not lost and bool(acked), note, lost=len(lost))
