"""Training jobs in the database, run by `matcher worker` instead of the serving process
(MATCHER_API_TRAIN_JOBS=database): the API queues a job and answers 202; a worker claims it
(one compare-and-set UPDATE: of concurrent workers exactly one wins), runs `training.fit.run_fit`
with a heartbeat, and stores the result or the error. A job whose worker died (no heartbeat for
`stale_seconds`) is claimed again and resumes (`FitOptions.resume`). Jobs and their results
survive restarts of the server and of the worker.

    matcher worker [--once] [--poll 2]
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from matcher.domain import new_id, utcnow
from matcher.errors import ConflictError, MatcherError
from matcher.settings import Settings
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import TrainJobRow

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
MAX_ATTEMPTS = 3


def result_doc(result: Any) -> dict[str, Any]:
    """What the API shows of a FitResult."""
    return {
        "version": result.version,
        "metrics": result.metrics,
        "verdict": result.verdict,
        "weights": result.weights,
        "reused_queries": result.reused_queries,
        "skipped": result.skipped,
        "notes": result.notes,
    }


@dataclasses.dataclass
class JobView:
    id: str
    status: str
    stage: str | None
    done: int
    total: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
    options: dict[str, Any]


def _view(row: TrainJobRow) -> JobView:
    return JobView(
        id=row.id,
        status=row.status,
        stage=row.stage,
        done=row.done or 0,
        total=row.total or 0,
        created_at=_aware(row.created_at),
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
        result=row.result,
        error=row.error,
        options=dict(row.options or {}),
    )


class JobQueue:
    def __init__(self, db: Database, *, stale_seconds: float = 60.0):
        self.db = db
        self.stale_seconds = stale_seconds

    def enqueue(self, options: dict[str, Any]) -> JobView:
        """Queue a job; ConflictError while another is queued or running (one at a time)."""
        with self.db.session() as s:
            busy = s.scalar(
                select(TrainJobRow.id).where(TrainJobRow.status.in_([QUEUED, RUNNING])).limit(1)
            )
            if busy is not None:
                raise ConflictError(
                    f"training job {busy} is still queued or running; one at a time"
                )
            row = TrainJobRow(
                id=new_id("train"),
                status=QUEUED,
                options=options,
                created_at=utcnow(),
                done=0,
                total=0,
                attempts=0,
            )
            s.add(row)
            s.flush()
            return _view(row)

    def get(self, job_id: str) -> JobView | None:
        with self.db.session() as s:
            row = s.get(TrainJobRow, job_id)
            return None if row is None else _view(row)

    def claim(self, worker: str) -> JobView | None:
        """The oldest queued job (or a running one whose worker stopped beating), now ours."""
        now = utcnow()
        stale = now - timedelta(seconds=self.stale_seconds)
        claimable = or_(
            TrainJobRow.status == QUEUED,
            (TrainJobRow.status == RUNNING) & (TrainJobRow.heartbeat_at < stale),
        )
        with self.db.session() as s:
            candidates = s.execute(
                select(TrainJobRow.id, TrainJobRow.attempts)
                .where(claimable)
                .order_by(TrainJobRow.created_at)
                .limit(5)
            ).all()
        for job_id, attempts in candidates:
            with self.db.session() as s:
                if attempts >= MAX_ATTEMPTS:
                    s.execute(
                        update(TrainJobRow)
                        .where(TrainJobRow.id == job_id, claimable)
                        .values(
                            status=FAILED,
                            finished_at=now,
                            error=f"gave up after {attempts} attempts (the worker died each time)",
                        )
                    )
                    continue
                done = s.execute(
                    update(TrainJobRow)
                    .where(TrainJobRow.id == job_id, TrainJobRow.attempts == attempts, claimable)
                    .values(
                        status=RUNNING,
                        worker=worker,
                        started_at=now,
                        heartbeat_at=now,
                        attempts=attempts + 1,
                    )
                )
                if int(getattr(done, "rowcount", 0)) == 1:
                    row = s.get(TrainJobRow, job_id)
                    assert row is not None
                    return _view(row)
        return None

    def beat(self, job_id: str, worker: str, stage: str | None, done: int, total: int) -> None:
        with self.db.session() as s:
            s.execute(
                update(TrainJobRow)
                .where(TrainJobRow.id == job_id, TrainJobRow.worker == worker)
                .values(stage=stage, done=done, total=total, heartbeat_at=utcnow())
            )

    def finish(
        self, job_id: str, worker: str, *, result: dict[str, Any] | None, error: str | None
    ) -> None:
        with self.db.session() as s:
            s.execute(
                update(TrainJobRow)
                .where(TrainJobRow.id == job_id, TrainJobRow.worker == worker)
                .values(
                    status=SUCCEEDED if error is None else FAILED,
                    result=result,
                    error=error,
                    finished_at=utcnow(),
                    heartbeat_at=utcnow(),
                )
            )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_one(queue: JobQueue, settings: Settings, worker: str, embedder: Any = None) -> str | None:
    """Claim and run one job; its id, or None when none was waiting."""
    from training import fit

    job = queue.claim(worker)
    if job is None:
        return None
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] >= 1.0 or done >= total:
            last[0] = time.monotonic()
            queue.beat(job.id, worker, stage, done, total)

    logger.info("training job %s claimed by %s", job.id, worker)
    try:
        options = fit.FitOptions(**job.options)
        result = fit.run_fit(settings, options, progress=progress, embedder=embedder)
    except MatcherError as exc:
        queue.finish(job.id, worker, result=None, error=str(exc))
    except Exception as exc:  # reported in the job; the worker goes on
        logger.exception("training job %s failed", job.id)
        queue.finish(
            job.id,
            worker,
            result=None,
            error=f"unexpected error ({type(exc).__name__}); see the worker's log",
        )
    else:
        queue.finish(job.id, worker, result=result_doc(result), error=None)
        logger.info("training job %s registered %s", job.id, result.version)
    return job.id


def run_worker(settings: Settings, *, once: bool = False, poll: float = 2.0) -> int:
    """Run queued training jobs until interrupted (or the queue is empty, with `once`)."""
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    queue = JobQueue(db)
    worker = worker_name()
    ran = 0
    try:
        while True:
            job_id = run_one(queue, settings, worker)
            if job_id is not None:
                ran += 1
                continue
            if once:
                return ran
            time.sleep(poll)
    finally:
        db.dispose()
