"""Learn ranking weights from history and register a candidate version: `run_fit`, used by
`matcher train fit` and by the API (`POST /v1/analyst/train`).

The expensive step is computing the score components of the engine's candidates for every
training query (`candidate_features`, one `recommend` per query). It runs in chunks of
`chunk_queries` queries; each finished chunk is saved to `DATA_DIR/runs/<run-key>/` (numpy
.npz, no pickle, written atomically), together with the random generator's state after it. The
run key is a hash of the labelled data, the split, the options and the engine's retrieval
settings, so running the same fit again after an interruption reuses the finished chunks and
computes only the rest, with the same result as an uninterrupted run. The folder is removed
once the version is registered; `resume=False` starts afresh.

Freshness is measured against the fit's own clock, not the wall clock: the newest labelled
pair's timestamp (the data as it stood when its last outcome was recorded). The same data
therefore gives the same weights whenever, and in however many sittings, it is fitted. Without
any dated pair, the clock is the time the run folder was started, saved in it.

A kill -9 at any point leaves the registry as it was (versions are written under a temp name
and renamed into place complete; publishing is a separate step) and at worst a run folder
that the next identical fit reuses.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from matcher.errors import ValidationError
from matcher.settings import Settings

logger = logging.getLogger(__name__)

RUNS_DIR = "runs"
CHUNK_PREFIX = "chunk-"
CLOCK_FILE = "clock.txt"
PAUSE_ENV = "MATCHER_REGISTRY_PAUSE"  # "fit-chunk-<n>[:seconds]", for crash tests only

# progress(stage, done, total); stages: opening the engine, reading the history, "features",
# fitting the ranker, "history texts" and "history model", then one per evaluated model
# (candidate, published, default; the API's training job ends on the last), then benchmarks
# when asked for. A stage of one step goes 0/1 then 1/1.
Progress = Callable[[str, int, int], None]


class FitError(ValidationError):
    """The options or the data do not allow a fit (bad option, no held-out queries, ...)."""


@dataclass(frozen=True)
class FitOptions:
    out_version: str | None = None
    min_pairs: int = 50
    negatives: int = 20
    max_queries: int = 3000
    pointwise: bool = False
    split: str = "time"
    test_share: float = 0.2
    max_test: int | None = 500
    seed: int = 0
    feedback: bool = True
    resume: bool = True
    chunk_queries: int = 50
    history_model: bool = True  # also fit the partnership-history model (when history allows)
    benchmarks: Path | None = None  # ../shared/data: also run T1/T2 for every compared model

    def check(self) -> None:
        for name in ("min_pairs", "max_queries", "chunk_queries"):
            if getattr(self, name) < 1:
                raise FitError(f"--{name.replace('_', '-')} must be at least 1", field=name)
        if self.negatives < 0:
            raise FitError("--negatives must be at least 0", field="negatives")
        if self.split not in ("time", "id"):
            raise FitError("--split must be 'time' or 'id'", field="split")
        if self.max_test is not None and self.max_test < 1:
            raise FitError("--max-test must be at least 1", field="max_test")

    def split_dict(self) -> dict[str, Any]:
        return {
            "by": self.split,
            "test_share": self.test_share,
            "max_test": self.max_test,
            "seed": self.seed,
        }


@dataclass
class FitResult:
    version: str
    manifest: dict[str, Any]
    weights: dict[str, float]
    fallback: str | None
    comparison: dict[str, Any]
    verdict: str
    report_json: Path
    report_html: Path
    pairs: int
    feature_rows: int
    train_queries: int
    test_queries: int
    reused_queries: int = 0
    computed_queries: int = 0
    run_key: str = ""
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # labels left out, by reason

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        models: dict[str, dict[str, Any]] = self.comparison["models"]
        return models


# ------------------------------------------------------------------------------- shared helpers


def sample_queries(queries: list[Any], n: int | None, seed: int) -> list[Any]:
    """A stable subset of at most n queries (by hash of id), in their original order."""
    if n is None or len(queries) <= n:
        return queries

    def h(q: Any) -> str:
        return hashlib.sha1(f"{seed}:{q.id}".encode()).hexdigest()

    keep = {q.id for q in sorted(queries, key=h)[:n]}
    return [q for q in queries if q.id in keep]


def prepare(engine: Any, split: dict[str, Any], *, feedback: bool) -> dict[str, Any]:
    """Labelled pairs, their hash, the queries built from them and the train/test split."""
    from training.history import labelled_pairs
    from training.ranker import build_queries, data_hash, split_queries

    skipped: Counter[str] = Counter()
    pairs = labelled_pairs(engine.store, include_feedback=feedback, skipped=skipped)
    queries = build_queries(pairs, engine, skipped=skipped)
    try:
        train, test = split_queries(
            queries, by=split["by"], test_share=split["test_share"], seed=split["seed"]
        )
    except ValueError as exc:
        raise FitError(str(exc)) from exc
    test = sample_queries(test, split["max_test"], split["seed"])
    return {
        "pairs": pairs,
        "hash": data_hash(pairs),
        "queries": queries,
        "train": train,
        "test": test,
        "skipped": dict(sorted(skipped.items())),
    }


def _by_origin(pairs: Any) -> dict[str, int]:
    """How many labelled pairs came from each origin (history, feedback, introduction)."""
    if not len(pairs):
        return {}
    return {str(k): int(v) for k, v in sorted(pairs["origin"].value_counts().items())}


def published_weights(registry: Any) -> tuple[str | None, dict[str, float] | None]:
    from training.registry import RegistryError

    try:
        current = registry.current()
        return (current, registry.manifest(current)["weights"]) if current else (None, None)
    except RegistryError as exc:
        logger.warning("published model not usable: %s", exc)
        return None, None


def models_to_compare(
    candidate: dict[str, float], registry: Any, candidate_version: str | None
) -> tuple[dict[str, dict[str, float]], str | None]:
    from training.ranker import default_weights

    current, published = published_weights(registry)
    models = {"candidate": candidate}
    if published is not None and current != candidate_version:
        models["published"] = published
    models["default"] = default_weights()
    return models, current


def settings_summary(engine: Any) -> dict[str, Any]:
    s = engine.settings
    stats = engine.stats()
    return {
        "embedding_model": engine.embedder.model_name,
        "candidate_pool": s.candidate_pool,
        "lexical_weight": s.lexical_weight,
        "centre_vectors": s.centre_vectors,
        "query_sentences": s.query_sentences,
        "ann_kind": s.ann_kind,
        "ann_threshold": s.ann_threshold,
        "index": stats.get("index"),
        "index_generation": stats.get("generation"),
        "organisations": stats.get("organisations"),
    }


def verdict(registry: Any, version: str) -> str:
    if registry.current() == version:
        return f"{version} is the published model"
    check = registry.check(version)
    if check["baseline"] is None and registry.current() is None:
        return f"nothing published yet: `matcher models publish {version}` to use it"
    ours, theirs = _figure(check["candidate"]), _figure(check["baseline"])
    if check.get("narrow") and not check["worse"]:
        return (
            f"{version} is at least as good as {check['baseline_of'] or 'the published model'} "
            f"on {check['primary']} ({ours} vs {theirs}), but {check['narrow']}"
        )
    if check["worse"]:
        return (
            f"{version} is worse than {check['baseline_of']} on {check['primary']} "
            f"({ours} < {theirs}): publishing needs --force"
        )
    return (
        f"{version} is at least as good as {check['baseline_of'] or 'the published model'} "
        f"on {check['primary']} ({ours} vs {theirs})"
    )


def _figure(value: Any) -> str:
    """A metric as the verdict prints it: 4 decimals ("0.7585 vs 0.438262" mixed them)."""
    return f"{value:.4f}" if isinstance(value, int | float) else str(value)


def write_eval_report(
    settings: Settings,
    version: str,
    manifest: dict[str, Any],
    comparison: dict[str, Any],
    *,
    verdict: str,
) -> tuple[Path, Path]:
    from training.report import reports_dir, write_report

    report = {
        "version": version,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedding_model": manifest.get("settings", {}).get("embedding_model"),
        "data_hash": manifest.get("data_hash"),
        "split": manifest.get("split"),
        "verdict": verdict,
        "comparison": comparison,
        "training": {k: manifest.get(k) for k in ("pairs", "ranker", "weights") if k in manifest},
    }
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return write_report(report, reports_dir(settings.data_dir), f"{version}-{stamp}")


# ------------------------------------------------------------------------------- checkpoints


def _pause(point: str) -> None:
    """Test hook (as the registry's): sleep at a named point so a test can kill -9 there."""
    name, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if name == point:
        print(f"paused at {point}", flush=True)
        time.sleep(float(seconds or 60))


def run_key(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def _frame_to_npz(
    frame: pd.DataFrame, query_ids: Sequence[str], rng_state: Mapping[str, Any]
) -> bytes:
    arrays: dict[str, np.ndarray] = {
        "columns": np.array(list(frame.columns), dtype=str),
        "query_ids": np.array(list(query_ids), dtype=str),
        "rng_state": np.array(json.dumps(rng_state)),
    }
    for i, col in enumerate(frame.columns):
        values = frame[col].to_numpy()
        arrays[f"c{i}"] = values.astype(str) if values.dtype == object else values
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _frame_from_npz(data: Any) -> pd.DataFrame:
    columns = [str(c) for c in data["columns"]]
    values = {}
    for i, col in enumerate(columns):
        arr = data[f"c{i}"]
        values[col] = arr.astype(object) if arr.dtype.kind == "U" else arr
    return pd.DataFrame(values, columns=columns)


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a checkpoint stores it (so fresh and reused chunks are alike)."""
    with np.load(io.BytesIO(_frame_to_npz(frame, [], {})), allow_pickle=False) as data:
        return _frame_from_npz(data)


class RunFolder:
    """`DATA_DIR/runs/<key>/`: chunk files of finished feature rows, and a lock."""

    def __init__(self, data_dir: Path, key: str):
        self.key = key
        self.path = data_dir / RUNS_DIR / key

    def chunk_path(self, i: int) -> Path:
        return self.path / f"{CHUNK_PREFIX}{i:05d}.npz"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / f".{self.key}.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FitError("another fit with the same data and options is running") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self, i: int, query_ids: Sequence[str]) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """Chunk i if it is complete and was computed for exactly these queries."""
        path = self.chunk_path(i)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if [str(q) for q in data["query_ids"]] != list(query_ids):
                    logger.warning("ignoring %s: computed for other queries", path)
                    return None
                state = json.loads(str(data["rng_state"]))
                return _frame_from_npz(data), state
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable checkpoint %s: %s", path, exc)
            return None

    def save(
        self, i: int, frame: pd.DataFrame, query_ids: Sequence[str], state: Mapping[str, Any]
    ) -> None:
        from matcher.atomic import atomic_write_bytes

        atomic_write_bytes(self.chunk_path(i), _frame_to_npz(frame, query_ids, state))

    def clock(self) -> datetime:
        """The time this run was started, saved the first time it is asked for."""
        from matcher.atomic import atomic_write_bytes

        path = self.path / CLOCK_FILE
        with contextlib.suppress(OSError, ValueError):
            return datetime.fromisoformat(path.read_text().strip())
        now = datetime.now(UTC)
        atomic_write_bytes(path, now.isoformat().encode())
        return now

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.path.parent / f".{self.key}.lock").unlink()


def fit_clock(pairs: pd.DataFrame, folder: RunFolder) -> datetime:
    """The clock the fit measures freshness against: the newest labelled pair's timestamp,
    or, when no pair is dated, the time the run folder was started."""
    if "timestamp" in pairs and len(pairs):
        newest = pd.to_datetime(pairs["timestamp"], utc=True).max()
        if not pd.isna(newest):
            return cast(datetime, newest.to_pydatetime())
    return folder.clock()


def _features(
    engine: Any,
    train: list[Any],
    options: FitOptions,
    folder: RunFolder,
    progress: Progress | None,
    now: datetime,
) -> tuple[pd.DataFrame, int, int]:
    """Feature rows of every training query, chunk by chunk, reusing saved chunks.
    Returns the rows, the number of queries reused and the number computed."""
    from training.ranker import candidate_features

    chunks = [
        train[i : i + options.chunk_queries] for i in range(0, len(train), options.chunk_queries)
    ]
    total = len(train)
    rng = np.random.default_rng(options.seed)
    frames: list[pd.DataFrame] = []
    done = 0
    if options.resume:
        for i, chunk in enumerate(chunks):
            loaded = folder.load(i, [q.id for q in chunk])
            if loaded is None:
                break
            frame, state = loaded
            frames.append(frame)
            rng.bit_generator.state = state
            done += len(chunk)
    reused = done
    if reused:
        logger.info("resuming: reused the features of %d of %d training queries", reused, total)
    if progress is not None:
        progress("features", done, total)
    for i in range(len(frames), len(chunks)):
        chunk = chunks[i]
        offset = done

        def step(j: int, _n: int, offset: int = offset) -> None:
            if progress is not None:
                progress("features", offset + j, total)

        # candidate_features seeds numpy's default_rng with `seed`; default_rng returns a
        # Generator passed to it unaltered, so one stream runs through all chunks (the rows are
        # those of a single call over every query), and its state is saved with each chunk.
        frame = candidate_features(
            engine,
            chunk,
            negatives_per_query=options.negatives,
            seed=cast(int, rng),
            progress=step,
            now=now,
        )
        frame = _normalised(frame)
        folder.save(i, frame, [q.id for q in chunk], rng.bit_generator.state)
        frames.append(frame)
        done += len(chunk)
        _pause(f"fit-chunk-{i}")
    if not frames:  # no training queries: the empty frame, with its columns
        return candidate_features(engine, []), 0, 0
    feats = pd.concat(frames, ignore_index=True)
    return feats, reused, total - reused


# ------------------------------------------------------------------------------- the fit


def run_fit(
    settings: Settings,
    options: FitOptions,
    progress: Progress | None = None,
    *,
    embedder: Any = None,
) -> FitResult:
    """Fit the ranker on the stored history, evaluate it against the published model and the
    default weights on held-out queries, register it as a new version and write a report.

    `embedder`: reuse an already loaded embedder (the API passes the serving engine's); the fit
    opens its own engine either way, so the serving engine's weights are never touched."""
    from matcher.engine import Engine
    from training.evaluate import compare_models
    from training.fit_reach import asked_countries, reach_of
    from training.history_fit import fit_history_model
    from training.ranker import LinearRanker, fit_ranker
    from training.registry import Registry

    options.check()
    split = options.split_dict()
    t0 = time.perf_counter()
    say = progress or (lambda _stage, _done, _total: None)
    say("opening the engine and its model", 0, 1)
    engine = Engine.open(settings, embedder=embedder)
    say("opening the engine and its model", 1, 1)
    try:
        say("reading partnership history and feedback", 0, 1)
        data = prepare(engine, split, feedback=options.feedback)
        reach = reach_of(
            (q.need.country for q in data["queries"]),
            engine.catalog.countries_held(),
            asked_countries(engine.store.db),
        )
        say("reading partnership history and feedback", 1, 1)
        train = sample_queries(data["train"], options.max_queries, split["seed"])
        engine_summary = settings_summary(engine)
        key = run_key(
            {
                "data_hash": data["hash"],
                "split": split,
                "negatives": options.negatives,
                "max_queries": options.max_queries,
                "feedback": options.feedback,
                "chunk_queries": options.chunk_queries,
                "limit": engine.settings.max_limit,
                "engine": engine_summary,
                "train": hashlib.sha256("\n".join(q.id for q in train).encode()).hexdigest(),
            }
        )
        folder = RunFolder(settings.data_dir, key)
        with folder.locked():
            if not options.resume:
                for old in [*folder.path.glob(f"{CHUNK_PREFIX}*"), folder.path / CLOCK_FILE]:
                    old.unlink(missing_ok=True)
            as_of = fit_clock(data["pairs"], folder)
            feats, reused, computed = _features(engine, train, options, folder, progress, as_of)
            say("fitting the ranker", 0, 1)
            ranker = fit_ranker(
                feats, LinearRanker(min_pairs=options.min_pairs), pairwise=not options.pointwise
            )
            say("fitting the ranker", 1, 1)
            history = (
                fit_history_model(
                    engine, exclude_queries={q.id for q in data["test"]}, progress=progress
                )
                if options.history_model
                else None
            )
            registry = Registry(settings.data_dir)
            models, current = models_to_compare(ranker.weights_, registry, None)
            comparison = compare_models(engine, data["test"], models, progress=progress)
            if options.benchmarks is not None:
                say("benchmarks T1 and T2", 0, 1)
                comparison["benchmarks"] = run_benchmarks(options.benchmarks, models, settings)
                say("benchmarks T1 and T2", 1, 1)
            pairs = data["pairs"]
            manifest = {
                "kind": "linear-weights",
                "data_hash": data["hash"],
                "pairs": {
                    "total": len(pairs),
                    "positive": int(pairs["label"].sum()) if len(pairs) else 0,
                    "queries": len(data["queries"]),
                    "train_queries": len(train),
                    "test_queries": len(data["test"]),
                    "feature_rows": len(feats),
                    "feedback": options.feedback,
                    "by_origin": _by_origin(pairs),
                    "skipped": data["skipped"],
                    "reach": reach,
                },
                "settings": engine_summary,
                "weights": ranker.weights_,
                "ranker": {**ranker.summary(), "pairwise": not options.pointwise},
                "split": split,
                "as_of": as_of.isoformat(),
                "metrics": comparison["models"]["candidate"],
                "comparison": {"published_version": current, **comparison},
                "seconds": round(time.perf_counter() - t0, 1),
            }
            if reused:
                manifest["resumed"] = {"reused_queries": reused, "run_key": key}
            if "benchmarks" in comparison:
                manifest["benchmarks"] = comparison["benchmarks"]
            version = registry.create(manifest, options.out_version, history_model=history)
        folder.remove()
    finally:
        engine.close()
    said = verdict(registry, version)
    json_path, html_path = write_eval_report(settings, version, manifest, comparison, verdict=said)
    return FitResult(
        version=version,
        manifest=manifest,
        weights=dict(ranker.weights_),
        fallback=ranker.fallback_ or None,
        comparison=comparison,
        verdict=said,
        report_json=json_path,
        report_html=html_path,
        pairs=len(pairs),
        feature_rows=len(feats),
        train_queries=len(train),
        test_queries=len(data["test"]),
        reused_queries=reused,
        computed_queries=computed,
        run_key=key,
        notes=[*_skip_notes(data["skipped"]), *([reach["note"]] if reach["note"] else [])],
        skipped=data["skipped"],
    )


def _skip_notes(skipped: dict[str, int]) -> list[str]:
    """One line naming the labels the fit could not use (they never make it fail)."""
    if not skipped:
        return []
    parts = ", ".join(f"{n} {reason}" for reason, n in skipped.items())
    return [f"skipped {sum(skipped.values())} labels it cannot use: {parts}"]


def run_benchmarks(
    shared: Path, models: dict[str, dict[str, float]], settings: Settings
) -> dict[str, Any]:
    """T1 and T2 of ../shared/benchmarks for every compared model, through the engine, beside
    the dense baselines (training.benchmarks.models); embeddings cached as for bench-quality."""
    from training.bench_quality import CACHE_DIR
    from training.benchmarks.models import benchmark_models

    return benchmark_models(
        Path(shared),
        models,
        work_dir=settings.data_dir / "bench",
        cache_dir=CACHE_DIR,  # the one `make bench-quality` fills
        progress=False,
    )
