"""kill -9 of `matcher embed` mid-job: the old generation keeps serving, a rerun resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from matcher.domain import Need
from matcher.embed_job import run_embed
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.spaces import VALIDATED
from matcher.engine import Engine
from matcher.settings import Settings
from tests.embedding.embed_support import TwistedHashing, embeddings_count, fill_store

ROOT = Path(__file__).resolve().parents[2]
JOB = """
import sys
from matcher.embed_job import run_embed
from matcher.settings import Settings
from tests.embedding.embed_support import TwistedHashing
settings = Settings(data_dir=sys.argv[1], model_name="hashing-v1")
run_embed(settings, batch_size=10, embedder=TwistedHashing(delay=0.4))
print("finished", flush=True)
"""


def test_kill_9_mid_job_loses_at_most_a_batch_and_the_old_generation_serves(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(settings, n_orgs=60, n_needs=5)
    serving = Engine.open(settings, embedder=HashingEmbedder())  # generation 1, old space
    need = Need(text="We need tutoring mentors")
    answer = [m.id for m in serving.recommend(need).results]

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    job = subprocess.Popen(
        [sys.executable, "-c", JOB, str(settings.data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while embeddings_count(settings.data_dir, "hashing-twisted") < 20:
            assert job.poll() is None, job.stderr.read().decode() if job.stderr else ""
            assert time.monotonic() < deadline, "the job wrote nothing in 120 s"
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL
    done = embeddings_count(settings.data_dir, "hashing-twisted")
    assert 20 <= done < 65 and done % 10 == 0  # whole batches only

    # queries are answered from the old generation, in this process and in a new one
    assert [m.id for m in serving.recommend(need).results] == answer
    reopened = Engine.open(settings, embedder=HashingEmbedder())
    assert reopened.index_generation == 1
    assert [m.id for m in reopened.recommend(need).results] == answer
    reopened.close()
    serving.close()

    report = run_embed(settings, batch_size=10, embedder=TwistedHashing())
    assert report.already == done and report.embedded == 65 - done
    assert report.status == VALIDATED
