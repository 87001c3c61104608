"""`matcher embed --executor ray` on a real local Ray (bound to 127.0.0.1), not a mock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from matcher.embed_job import run_embed
from matcher.embed_ray import start_ray, stop_ray
from matcher.embedding.factory import create_embedder
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.identity import model_identity
from matcher.embedding.spaces import VALIDATED
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.repository import SqlEmbeddingCache
from tests.embedding.embed_support import TwistedHashing, fill_store

ray = pytest.importorskip(
    "ray", reason="Ray is the optional 'scale' extra: pip install 'ray[data]'"
)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One private Ray for the module: 1 CPU, no dashboard, on 127.0.0.1."""
    started = start_ray(None, workers=1)
    yield
    if started:
        stop_ray()


def _vectors(data_dir: Path, model: str) -> dict[str, np.ndarray]:
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        cache = SqlEmbeddingCache(db)
        from sqlalchemy import select

        from matcher.store.models import EmbeddingRow

        with db.session() as s:
            hashes = list(
                s.scalars(select(EmbeddingRow.text_hash).where(EmbeddingRow.model == model))
            )
        return cache.get_many(model, hashes)
    finally:
        db.dispose()


def _run_both(tmp_path: Path, n_orgs: int, model: str, **kw: object) -> tuple[dict, dict, object]:
    out = []
    reports = []
    for executor in ("local", "ray"):
        settings = Settings(data_dir=tmp_path / executor, **kw)  # type: ignore[arg-type]
        fill_store(settings, n_orgs=n_orgs, n_needs=4)
        reports.append(run_embed(settings, executor=executor, workers=1, batch_size=32))
        out.append(_vectors(settings.data_dir, model))
    return out[0], out[1], reports


def test_every_ray_process_listens_on_127_0_0_1_only(local_ray: None) -> None:
    import psutil

    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    ours = {p.pid for p in psutil.Process().children(recursive=True)} | {os.getpid()}
    listening = [
        (c.laddr.ip, c.pid)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ours
    ]
    assert len(listening) >= 3  # GCS, raylet, workers
    assert {ip.removeprefix("::ffff:") for ip, _ in listening} == {"127.0.0.1"}, listening


def test_ray_fills_the_same_space_as_local(local_ray: None, tmp_path: Path) -> None:
    local, remote, reports = _run_both(tmp_path, 70, "hashing-v1", model_name="hashing-v1")
    assert len(local) == len(remote) == 74
    assert reports[1].executor == "ray" and reports[1].batches == 3
    assert reports[1].status == VALIDATED
    for h, v in local.items():
        np.testing.assert_array_equal(remote[h], v)


def test_a_worker_with_other_model_files_stops_the_job(local_ray: None, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(settings, n_orgs=10, n_needs=0)
    with pytest.raises(Exception, match="install the same model files on every worker"):
        run_embed(
            settings,
            executor="ray",
            workers=1,
            embedder=HashingEmbedder(),
            embedder_factory=TwistedHashing,  # another model in the worker
        )


@pytest.mark.slow
def test_ray_gives_the_int8_onnx_vectors_local_gives(
    local_ray: None, tmp_path: Path, real_embedder: object
) -> None:
    # the session's ONNX export is reused: its folder is <data_dir>/models/onnx
    export_dir = Path(real_embedder.cache_dir).parents[1]  # type: ignore[attr-defined]
    identity = model_identity(real_embedder)
    diffs = []
    for executor in ("local", "ray"):
        data_dir = tmp_path / executor
        fill_store(Settings(data_dir=data_dir), n_orgs=120, n_needs=8)
        (data_dir / "models").symlink_to(export_dir / "models")
        settings = Settings(data_dir=data_dir, torch_threads=1)
        assert model_identity(create_embedder(settings)) == identity
        report = run_embed(settings, executor=executor, workers=1, batch_size=32)
        assert report.embedded == 128 and report.status == VALIDATED
        diffs.append(_vectors(data_dir, identity))
    local, remote = diffs
    assert local.keys() == remote.keys()
    worst = max(float(np.max(np.abs(local[h] - remote[h]))) for h in local)
    assert worst <= 1e-5, f"max abs difference {worst}"


JOB = """
import functools, sys
from matcher.embed_job import run_embed
from matcher.settings import Settings
from tests.embedding.embed_support import TwistedHashing
settings = Settings(data_dir=sys.argv[1], model_name="hashing-v1")
slow = functools.partial(TwistedHashing, 1.0)
run_embed(settings, executor="ray", workers=1, batch_size=10, embedder=TwistedHashing(),
          embedder_factory=slow)
"""


def test_kill_9_of_a_ray_job_takes_its_ray_down_and_the_rerun_resumes(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from tests.embedding.embed_support import embeddings_count

    root = Path(__file__).resolve().parents[2]
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(settings, n_orgs=60, n_needs=0)
    job = subprocess.Popen(
        [sys.executable, "-c", JOB, str(settings.data_dir)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while embeddings_count(settings.data_dir, "hashing-twisted") < 10:
            assert job.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        ray_core = [
            p
            for p in psutil.Process(job.pid).children(recursive=True)
            if p.name() in ("gcs_server", "raylet")
        ]
        assert len(ray_core) == 2
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait(timeout=30)
    gone, alive = psutil.wait_procs(ray_core, timeout=30)
    assert not alive, f"left running: {alive}"
    done = embeddings_count(settings.data_dir, "hashing-twisted")
    assert done % 10 == 0 and 10 <= done < 60

    report = run_embed(settings, batch_size=10, embedder=TwistedHashing())
    assert (report.already, report.embedded) == (done, 60 - done)
    assert report.status == VALIDATED
