"""Analysts' loop over HTTP (role analyst or admin): load new data, retrain, compare, publish.

- `POST /v1/analyst/ingest`: a CSV / JSON Lines / Parquet upload with an optional TOML mapping
  (as `matcher train ingest --config`); answers the validation report. Accepted rows are
  upserted and searchable at once.
- `POST /v1/analyst/train`: starts `matcher train fit` in a background thread (one at a time per
  process; 409 while one runs) and answers 202 with a job; `GET /v1/analyst/train/{job_id}`
  follows it (stage and progress, then the version and its held-out metrics, or the error).
- `/v1/models`: the registry: list, publish (a worse candidate is refused with 409 unless
  `force=true`), rollback. The service follows models/CURRENT on every request, so a publish
  or rollback takes effect at once, without a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import tempfile
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile, status

from api.deps import AnalystDep, EngineDep, StateDep, started
from api.problems import ApiProblem, problem_responses
from api.schemas import (
    VERSION_PATTERN,
    FormFlag,
    IngestReport,
    IngestRowError,
    IngestStored,
    ModelList,
    ModelPublished,
    ModelRolledBack,
    ModelVersion,
    TrainJob,
    TrainRequest,
    TrainStatus,
)
from api.security import Role
from matcher.engine import Engine
from matcher.errors import (
    ConflictError,
    LimitExceededError,
    MatcherError,
    StorageError,
    ValidationError,
)
from matcher.loaders_read import ReadLimits
from matcher.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter()

JOBS_KEPT = 20
MAX_MAPPING_CHARS = 20_000
_SUFFIX_RE = re.compile(r"^(\.[a-z0-9]{1,10}){1,2}$")

VersionPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=VERSION_PATTERN, examples=["v0003"])
]
JobIdPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["train_5c2e9a1b"]),
]


def _registry(state: Any) -> Any:
    """The registry; its writes record the MODEL change that tells every serving process to
    follow them at once (and, on PostgreSQL, share them: training.registry_db)."""
    from training.registry import Registry

    return Registry(state.settings.data_dir, db=state.db)


# ---------------------------------------------------------------------------------- ingest


def _upload_name(filename: str | None) -> tuple[str, str]:
    """The client's file name (for the report) and a safe suffix for the temp file."""
    name = FilePath((filename or "upload").replace("\\", "/")).name or "upload"
    suffix = "".join(FilePath(name).suffixes[-2:]).lower()
    return name[:200], suffix if _SUFFIX_RE.match(suffix) else ""


class _Refused(Exception):
    """The whole upload is refused: reported in the answer, nothing read or stored."""

    def __init__(self, message: str, field: str | None):
        super().__init__(message)
        self.message, self.field = message, field


def _mapping_config(text: str | None) -> Any:
    from training.ingest import IngestConfig, config_from_dict

    if text is None or not text.strip():
        return IngestConfig()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _Refused(f"the mapping is not valid TOML: {exc}", "mapping") from None
    try:
        return config_from_dict(raw, source="mapping")
    except ValidationError as exc:
        raise _Refused(exc.message, exc.field or "mapping") from None


def _ingest(
    engine: Engine,
    data: bytes,
    filename: str | None,
    mapping: str | None,
    dry_run: bool,
    ownership: bool = False,
) -> IngestReport:
    from training.ingest import ingest_file

    name, suffix = _upload_name(filename)
    try:
        config = _mapping_config(mapping)
        uploads = FilePath(engine.settings.data_dir) / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        # `.tmp-` under the data dir: a server killed mid-upload leaves it to the start sweep
        with tempfile.TemporaryDirectory(prefix=".tmp-upload-", dir=uploads) as tmp:
            path = FilePath(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                report = ingest_file(None, path, config, dry_run=True, limits=ReadLimits()).report
            except LimitExceededError as exc:  # a budget crossed: reading stopped there
                raise ApiProblem(413 if exc.too_large else 422, str(exc)) from None
            except (StorageError, ValidationError) as exc:  # the upload is unusable
                message = getattr(exc, "message", str(exc))
                for text in (str(path), path.name):
                    message = message.replace(text, name)
                field = exc.field if isinstance(exc, ValidationError) else None
                raise _Refused(message, field or "file") from None
    except _Refused as refused:
        return IngestReport(
            file=name,
            kind="organisation",
            rows=0,
            accepted=0,
            rejected_rows=0,
            rejected=[],
            stored=None,
            dry_run=dry_run,
            error=refused.message,
            error_field=refused.field,
        )
    stored = None
    if not dry_run and report.accepted:
        if config.kind == "need":
            upsert = engine.ingest_needs(report.needs())
        else:
            orgs = report.organisations()
            if not ownership:  # an `owner` column gives no organisation to another key
                orgs = [o.model_copy(update={"owner": None}) if o.owner else o for o in orgs]
            upsert = engine.ingest(orgs, keep_ownership=not ownership)
        stored = IngestStored(
            inserted=len(upsert.inserted),
            updated=len(upsert.updated),
            unchanged=len(upsert.unchanged),
            owned=upsert.owned,
        )
    return IngestReport(
        file=name,
        kind=config.kind,
        rows=report.total_rows,
        accepted=len(report.accepted),
        rejected_rows=report.rejected_rows,
        rejected=[
            IngestRowError(row=e.row, column=e.column, reason=e.reason) for e in report.rejected
        ],
        warnings=[
            IngestRowError(row=w.row, column=w.column, reason=w.reason) for w in report.warnings
        ],
        stored=stored,
        dry_run=dry_run,
    )


@router.post(
    "/v1/analyst/ingest",
    tags=["analyst"],
    response_model=IngestReport,
    summary="Validate an uploaded file of profiles or needs, and store the good rows",
    description=(
        "Multipart upload: `file` (CSV, JSON Lines or Parquet; the format comes from its name "
        "or from `format` in the mapping), `mapping` (optional TOML: `kind`, `format`, `[map]` "
        "our field = your column, `[defaults]`) and `dry_run`. Every rejected row is reported "
        "with its row number, column and reason; the good rows are stored (upserted by id) and "
        "searchable at once, unless `dry_run`. A file that cannot be read at all (unknown "
        "format, not parseable, bad mapping) is reported in `error`, with nothing stored."
    ),
    responses=problem_responses(400, 401, 403, 413, 422, 429, 503),
)
async def ingest_upload(
    principal: AnalystDep,
    engine: EngineDep,
    file: Annotated[UploadFile, File(description="The data file")],
    mapping: Annotated[
        str | None,
        Form(
            max_length=MAX_MAPPING_CHARS,
            description="TOML mapping, as for `matcher train ingest --config`",
            examples=['kind = "organisation"\n[map]\nname = "org_name"\n'],
        ),
    ] = None,
    dry_run: Annotated[FormFlag, Form(description="Validate only, store nothing")] = False,
    ownership: Annotated[
        FormFlag,
        Form(
            description="Admins only: take `owner` and `contact` from the file, also for "
            "existing organisations (otherwise an upload never changes ownership)"
        ),
    ] = False,
) -> IngestReport:
    if ownership and not principal.at_least(Role.admin):
        raise ApiProblem(403, "ownership=true is for admins only")
    data = await file.read()
    return await anyio.to_thread.run_sync(
        _ingest, engine, data, file.filename, mapping, dry_run, ownership
    )


# ---------------------------------------------------------------------------------- training


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Job:
    job_id: str
    options: Any
    started_at: datetime = field(default_factory=_now)
    status: TrainStatus = TrainStatus.running
    stage: str | None = None
    done: int = 0
    total: int = 0
    finished_at: datetime | None = None
    result: Any = None
    error: str | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def view(self) -> TrainJob:
        r = self.result
        return TrainJob(
            job_id=self.job_id,
            status=self.status,
            stage=self.stage,
            done=self.done,
            total=self.total,
            started_at=self.started_at,
            finished_at=self.finished_at,
            version=r.version if r else None,
            metrics=r.metrics if r else None,
            verdict=r.verdict if r else None,
            weights=r.weights if r else None,
            reused_queries=r.reused_queries if r else None,
            skipped_labels=r.skipped if r else None,
            notes=r.notes if r else [],
            error=self.error,
        )


class TrainJobs:
    """Training jobs of this process: at most one running, the last JOBS_KEPT remembered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, _Job] = OrderedDict()

    def get(self, job_id: str) -> _Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, settings: Settings, options: Any, embedder: Any) -> _Job:
        with self._lock:
            running = [j for j in self._jobs.values() if j.status is TrainStatus.running]
            if running:
                raise ApiProblem(
                    409, f"training job {running[0].job_id} is still running; one at a time"
                )
            job = _Job(job_id=f"train_{secrets.token_hex(6)}", options=options)
            self._jobs[job.job_id] = job
            while len(self._jobs) > JOBS_KEPT:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status is TrainStatus.running:
                    break
                self._jobs.pop(oldest)
        thread = threading.Thread(
            target=self._run, args=(job, settings, embedder), name=job.job_id, daemon=True
        )
        thread.start()
        return job

    def _run(self, job: _Job, settings: Settings, embedder: Any) -> None:
        from training.fit import run_fit

        try:
            result = run_fit(settings, job.options, progress=job.progress, embedder=embedder)
        except MatcherError as exc:
            logger.warning("training job %s failed: %s", job.job_id, exc)
            job.error = str(exc)
            job.status = TrainStatus.failed
        except Exception as exc:  # reported in the job; the service stays up
            logger.exception("training job %s failed", job.job_id)
            job.error = f"unexpected error ({type(exc).__name__}); see the service log"
            job.status = TrainStatus.failed
        else:
            job.result = result
            job.status = TrainStatus.succeeded
            logger.info("training job %s registered %s", job.job_id, result.version)
        finally:
            job.finished_at = _now()


_jobs_lock = threading.Lock()


def _jobs(request: Request) -> TrainJobs:
    with _jobs_lock:
        jobs = getattr(request.app.state, "train_jobs", None)
        if jobs is None:
            jobs = TrainJobs()
            request.app.state.train_jobs = jobs
    return jobs


@router.post(
    "/v1/analyst/train",
    tags=["analyst"],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainJob,
    summary="Retrain the ranker in the background (as `matcher train fit`)",
    description=(
        "Learns the ranking weights from partnership history and feedback, evaluates them "
        "against the published model and the default weights on held-out queries and registers "
        "a new version (not published). One job at a time: 409 while one runs. Follow it at the "
        "URL in `Location`. An interrupted fit with the same data and options resumes."
    ),
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
)
async def start_training(
    body: TrainRequest,
    request: Request,
    response: Response,
    state: StateDep,
    engine: EngineDep,
    principal: AnalystDep,
) -> TrainJob:
    from training.fit import FitOptions

    options = FitOptions(
        out_version=body.out_version,
        min_pairs=body.min_pairs,
        negatives=body.negatives,
        max_queries=body.max_queries,
        pointwise=body.pointwise,
        split=body.split,
        test_share=body.test_share,
        max_test=body.max_test,
        seed=body.seed,
        feedback=body.feedback,
        resume=body.resume,
    )
    if state.api.train_jobs == "database":
        queued = await anyio.to_thread.run_sync(_enqueue, state, options)
        response.headers["Location"] = f"/v1/analyst/train/{queued.job_id}"
        return queued
    job = _jobs(request).start(state.settings, options, engine.embedder)
    response.headers["Location"] = f"/v1/analyst/train/{job.job_id}"
    return job.view()


def _enqueue(state: StateDep, options: Any) -> TrainJob:
    from training.jobs import JobQueue

    values = {
        k: v
        for k, v in dataclasses.asdict(options).items()
        if k not in ("benchmarks",) and not isinstance(v, FilePath)
    }
    try:
        return _job_view(JobQueue(started(state.db)).enqueue(values))
    except ConflictError as exc:
        raise ApiProblem(409, str(exc)) from None


def _job_view(job: Any) -> TrainJob:
    r = job.result or {}
    return TrainJob(
        job_id=job.id,
        status=TrainStatus(job.status),
        stage=job.stage,
        done=job.done,
        total=job.total,
        started_at=job.started_at or job.created_at,
        finished_at=job.finished_at,
        version=r.get("version"),
        metrics=r.get("metrics"),
        verdict=r.get("verdict"),
        weights=r.get("weights"),
        reused_queries=r.get("reused_queries"),
        skipped_labels=r.get("skipped"),
        notes=r.get("notes") or [],
        error=job.error,
    )


@router.get(
    "/v1/analyst/train/{job_id}",
    tags=["analyst"],
    response_model=TrainJob,
    summary="A training job: progress, then the new version and its metrics, or the error",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def training_job(
    job_id: JobIdPath, request: Request, state: StateDep, principal: AnalystDep
) -> TrainJob:
    if state.api.train_jobs == "database":
        from training.jobs import JobQueue

        found = await anyio.to_thread.run_sync(JobQueue(started(state.db)).get, job_id)
        if found is None:
            raise ApiProblem(404, f"no training job '{job_id}'")
        return _job_view(found)
    job = _jobs(request).get(job_id)
    if job is None:
        raise ApiProblem(404, f"no training job '{job_id}' (jobs are kept until a restart)")
    return job.view()


# ---------------------------------------------------------------------------------- registry


@router.get(
    "/v1/models",
    tags=["analyst"],
    response_model=ModelList,
    summary="Registered model versions and the published one",
    responses=problem_responses(401, 403, 429),
)
async def list_models(state: StateDep, principal: AnalystDep) -> ModelList:
    from training.registry import RegistryError, figures_note

    registry = _registry(state)

    def read() -> ModelList:
        try:
            rows = registry.list()
            current = registry.current()
        except RegistryError as exc:
            logger.error("model registry unreadable: %s", exc)
            raise ApiProblem(
                500, "the model registry cannot be read; see the service log"
            ) from None
        note = figures_note(rows)
        return ModelList(
            current=current,
            versions=[ModelVersion.model_validate(r) for r in rows],
            comparable=note is None,
            note=note,
        )

    return await anyio.to_thread.run_sync(read)


@router.post(
    "/v1/models/{version}/publish",
    tags=["analyst"],
    response_model=ModelPublished,
    summary="Publish a version: the service uses it from the next request",
    description=(
        "Refused (409) when the version is worse than the published model on the primary "
        "metric (nDCG@10), unless `force=true`. The previously published version becomes the "
        "rollback target."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def publish_model(
    version: VersionPath,
    state: StateDep,
    principal: AnalystDep,
    force: Annotated[bool, Query(description="Publish even if it is worse")] = False,
) -> ModelPublished:
    from training.registry import PublishRefused, RegistryError

    registry = _registry(state)

    def publish() -> ModelPublished:
        if version not in registry.versions():
            raise ApiProblem(404, f"no model version '{version}'")
        try:
            result = registry.publish(version, force=force)
        except PublishRefused as exc:
            detail = str(exc).replace("use --force", "publish with force=true")
            raise ApiProblem(409, detail) from None
        except RegistryError as exc:
            raise ApiProblem(409, str(exc).replace(str(registry.root), "the registry")) from None
        if not result["changed"]:
            history = registry.pointer()["history"]
            return ModelPublished(
                version=version, changed=False, previous=history[-1] if history else None
            )
        return ModelPublished(
            version=version,
            changed=True,
            previous=result["previous"],
            primary=result.get("primary"),
            candidate=result.get("candidate"),
            baseline=result.get("baseline"),
            forced=bool(force and result.get("worse")),
        )

    return await anyio.to_thread.run_sync(publish)


@router.post(
    "/v1/models/rollback",
    tags=["analyst"],
    response_model=ModelRolledBack,
    summary="Go back to the version published before (or the default weights)",
    responses=problem_responses(401, 403, 409, 429),
)
async def rollback_model(state: StateDep, principal: AnalystDep) -> ModelRolledBack:
    from training.registry import RegistryError

    registry = _registry(state)

    def rollback() -> ModelRolledBack:
        try:
            result = registry.rollback()
        except RegistryError as exc:
            raise ApiProblem(409, str(exc).replace(str(registry.root), "the registry")) from None
        return ModelRolledBack(rolled_back_from=result["from"], current=result["to"])

    return await anyio.to_thread.run_sync(rollback)
