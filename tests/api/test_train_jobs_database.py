"""Training jobs in the database (MATCHER_API_TRAIN_JOBS=database): the API queues, a restarted
server still knows the job, `matcher worker` (another process) runs the fit; of two workers one
claims a job; a job whose worker died is claimed again, and given up after MAX_ATTEMPTS."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import ROOT, hdr, quiet_api_settings, seed
from fastapi.testclient import TestClient
from sqlalchemy import update
from support_databases import database_for
from test_api_analyst import _history

from api.keys import KeyRing
from api.main import create_app
from matcher.domain import utcnow
from matcher.errors import ConflictError
from matcher.store.models import TrainJobRow
from training.jobs import MAX_ATTEMPTS, JobQueue


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_one_job_at_a_time_one_claimer_and_a_dead_worker_is_replaced(
    kind: str, tmp_path: Path
) -> None:
    with database_for(kind, tmp_path) as db:
        queue = JobQueue(db, stale_seconds=30)
        job = queue.enqueue({"max_test": 6})
        with pytest.raises(ConflictError, match="one at a time"):
            queue.enqueue({})
        claimed: list[str] = []
        lock = threading.Lock()

        def claim(name: str) -> None:
            got = queue.claim(name)
            if got is not None:
                with lock:
                    claimed.append(name)

        threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(claimed) == 1  # of six concurrent workers exactly one
        assert queue.claim("late") is None  # running, heart beating
        with db.session() as s:  # its worker died a minute ago
            s.execute(update(TrainJobRow).values(heartbeat_at=utcnow() - timedelta(seconds=60)))
        again = queue.claim("second")
        assert again is not None and again.id == job.id and again.status == "running"
        for attempt in range(2, MAX_ATTEMPTS + 1):
            with db.session() as s:
                s.execute(update(TrainJobRow).values(heartbeat_at=utcnow() - timedelta(seconds=60)))
            if attempt < MAX_ATTEMPTS:
                assert queue.claim(f"w-{attempt}") is not None
        assert queue.claim("last") is None
        gone = queue.get(job.id)
        assert gone is not None and gone.status == "failed"
        assert "attempts" in (gone.error or "")
        queue.enqueue({})  # the queue is free again


def test_the_api_queues_a_restart_keeps_it_and_matcher_worker_runs_it(tmp_path: Path) -> None:
    data = tmp_path / "var"
    engine = seed(data)
    _history(engine)
    key = KeyRing(engine.store.db).create("analyst", "analyst")[0]
    settings = quiet_api_settings(train_jobs="database")
    try:
        with TestClient(create_app(engine.settings, settings, engine=engine)) as first:
            r = first.post("/v1/analyst/train", json={"max_test": 6}, headers=hdr(key))
            assert r.status_code == 202, r.text
            job = r.json()
            assert job["status"] == "queued"
            assert r.headers["location"].endswith(job["job_id"])
            again = first.post("/v1/analyst/train", json={}, headers=hdr(key))
            assert again.status_code == 409
        # the server restarts: the job is still there, still queued (nothing runs it here)
        with TestClient(create_app(engine.settings, settings, engine=engine)) as second:
            url = f"/v1/analyst/train/{job['job_id']}"
            assert second.get(url, headers=hdr(key)).json()["status"] == "queued"
            env = {
                **os.environ,
                "MATCHER_DATA_DIR": str(data),
                "MATCHER_MODEL_NAME": "hashing-v1",
                "PYTHONPATH": str(ROOT),
            }
            done = subprocess.run(
                [sys.executable, "-m", "matcher.cli", "worker", "--once"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
            assert "1 training job(s) run" in done.stderr + done.stdout
            finished = second.get(url, headers=hdr(key)).json()
            assert finished["status"] == "succeeded", finished
            assert finished["version"] == "v0001"
            assert finished["done"] == finished["total"] > 0
            metrics = finished["metrics"]
            assert metrics["candidate"]["ndcg@10"] > metrics["default"]["ndcg@10"]
            assert second.get("/v1/analyst/train/train_nope00", headers=hdr(key)).status_code == 404
    finally:
        engine.close()
