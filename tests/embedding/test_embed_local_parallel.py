"""`matcher embed --executor local --workers N`: N embedders in N threads give the vectors and
the commits of the one-embedder path (same batches, written in the job's order)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from matcher.embed_job import EmbedJobError, run_embed
from matcher.embed_local import run_local
from matcher.embedding.factory import create_embedder
from matcher.embedding.identity import model_identity
from matcher.embedding.spaces import VALIDATED
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.models import EmbeddingRow
from matcher.store.repository import SqlEmbeddingCache
from tests.embedding.embed_support import TwistedHashing, fill_store


class BatchSensitive(TwistedHashing):
    """Each vector leans towards its batch's mean, as dynamic int8 quantisation makes a vector
    depend on the other texts of its batch: only the same batches give the same vectors. Each
    call sleeps a random moment, so batches finish out of order; the threads seen are kept."""

    threads: set[str] = set()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        BatchSensitive.threads.add(threading.current_thread().name)
        time.sleep(random.uniform(0.0, 0.03))
        v = super().encode(texts)
        return np.ascontiguousarray(v + 0.1 * v.mean(axis=0, keepdims=True), dtype=np.float32)


def _space(data_dir: Path, identity: str) -> dict[str, np.ndarray]:
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        with db.session() as s:
            hashes = list(
                s.scalars(select(EmbeddingRow.text_hash).where(EmbeddingRow.model == identity))
            )
        return SqlEmbeddingCache(db).get_many(identity, hashes)
    finally:
        db.dispose()


def test_n_threads_give_the_vectors_of_one_embedder(tmp_path: Path) -> None:
    spaces, reports = [], []
    for workers in (1, 3):
        settings = Settings(data_dir=tmp_path / f"w{workers}", model_name="hashing-v1")
        fill_store(settings, n_orgs=90, n_needs=7)
        BatchSensitive.threads = set()
        if workers == 1:
            report = run_embed(settings, batch_size=8, embedder=BatchSensitive())
        else:
            report = run_embed(
                settings, batch_size=8, workers=workers, embedder_factory=BatchSensitive
            )
            assert len(BatchSensitive.threads) > 1  # the batches did run in several threads
        reports.append(report)
        spaces.append(_space(settings.data_dir, "hashing-twisted"))
    one, many = spaces
    assert len(one) == len(many) == 97
    assert reports[1].status == VALIDATED and reports[1].batches == reports[0].batches == 13
    assert max(float(np.max(np.abs(one[h] - many[h]))) for h in one) == 0.0


def test_batches_are_written_in_the_job_order_and_a_failure_stops_the_writes() -> None:
    order = [(f"h{i:03d}", f"text {i}" + " x" * (i % 5)) for i in range(50)]
    written: list[str] = []
    run_local(order, [BatchSensitive() for _ in range(3)], 4, lambda h, v: written.extend(h))
    assert written == [h for h, _ in order]

    class DiesOnce(BatchSensitive):
        def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
            if "text 20" in texts:
                raise RuntimeError("worker lost")
            return super().encode(texts, progress=progress)

    written.clear()
    with pytest.raises(RuntimeError, match="worker lost"):
        run_local(order, [DiesOnce() for _ in range(3)], 4, lambda h, v: written.extend(h))
    assert written == [h for h, _ in order[:20]]  # the five batches before it, in order


def test_a_worker_of_another_model_stops_the_job(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", model_name="hashing-v1")
    fill_store(settings, n_orgs=10, n_needs=0)
    with pytest.raises(EmbedJobError, match="a local worker's embedder is hashing-v1"):
        run_embed(
            settings,
            workers=2,
            embedder=TwistedHashing(),
            embedder_factory=lambda: create_embedder(settings),  # the hashing model
        )


@pytest.mark.slow
def test_two_one_thread_sessions_give_the_int8_vectors_of_one_two_thread_session(
    tmp_path: Path, real_embedder: object
) -> None:
    export_dir = Path(real_embedder.cache_dir).parents[1]  # type: ignore[attr-defined]
    identity = model_identity(real_embedder)
    spaces = []
    for workers, threads in ((1, 2), (2, None)):  # before: one session of 2 threads
        data_dir = tmp_path / f"w{workers}"
        fill_store(Settings(data_dir=data_dir), n_orgs=150, n_needs=8)
        (data_dir / "models").symlink_to(export_dir / "models")
        settings = Settings(data_dir=data_dir, torch_threads=threads)
        report = run_embed(settings, workers=workers, batch_size=32)
        assert report.embedded == 158 and report.status == VALIDATED
        spaces.append(_space(data_dir, identity))
    one, many = spaces
    assert one.keys() == many.keys() and len(one) == 158
    worst = max(float(np.max(np.abs(one[h] - many[h]))) for h in one)
    assert worst == 0.0, f"max abs difference {worst}"
