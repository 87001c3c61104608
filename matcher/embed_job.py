"""`matcher embed`: fill a model's vector space for the whole database as a resumable job.

The space of a model is its rows of the `embeddings` cache, keyed by the model identity
(name@digest of its files). The job embeds every organisation profile, need and cause text the
space lacks, in batches each committed as it finishes (kill -9 loses at most the batches in
flight; a rerun skips what is done), locally or on Ray (matcher.embed_ray). It then validates
the space (no text missing, every vector of the model's dimension), freezes its centring mean
(the mean of the profile vectors, once per space) and, asked to switch, builds an index
generation from it and makes it current in one transaction. Until then the current generation,
built from the old space, is what every query is answered from: nothing here touches it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from matcher.embed_local import run_local
from matcher.embedding.base import Embedder
from matcher.embedding.cache import text_hash
from matcher.embedding.factory import create_embedder
from matcher.embedding.identity import adopt_legacy, model_identity
from matcher.embedding.spaces import (
    FILLING,
    INCOMPLETE,
    VALIDATED,
    bad_dimension_rows,
    freeze_mean,
    open_space,
    set_status,
)
from matcher.errors import MatcherError
from matcher.settings import Settings
from matcher.store import Database, Store
from matcher.store.repository import SqlEmbeddingCache

logger = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")
READ_CHUNK = 5000  # vectors read at once when adopting old rows or averaging


class EmbedJobError(MatcherError):
    """The vector space could not be filled or failed validation."""


@dataclass
class EmbedReport:
    identity: str
    model: str
    executor: str
    texts: int = 0  # distinct texts of the database (profiles, needs, causes)
    already: int = 0  # in the space before this run
    adopted: int = 0  # taken over from vectors cached under the bare model name
    embedded: int = 0
    batches: int = 0
    embed_seconds: float = 0.0
    texts_per_second: float = 0.0
    missing: int = 0
    bad_dimension: int = 0
    status: str = FILLING
    mean_source: str | None = None  # "frozen now", "frozen before", None: not centred
    switched: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def corpus_texts(store: Store) -> tuple[dict[str, str], list[str]]:
    """Every distinct text of the database by hash (profiles, needs, causes), and the hash of
    each organisation's profile in vector-id order (duplicates kept: what the mean averages)."""
    texts: dict[str, str] = {}
    profile_hashes: list[str] = []
    for _, org in store.organisations():
        text = org.profile_text()
        h = text_hash(text)
        texts.setdefault(h, text)
        profile_hashes.append(h)
    for _, need in store.needs():
        texts.setdefault(text_hash(need.text), need.text)
    for cause in store.causes():
        texts.setdefault(text_hash(cause.text()), cause.text())
    return texts, profile_hashes


def work_order(todo: dict[str, str]) -> list[tuple[str, str]]:
    """(hash, text) longest first (little padding per batch), ties by hash: the same batches
    for every executor."""
    return sorted(todo.items(), key=lambda item: (-len(item[1]), item[0]))


class Progress:
    """A line on stderr at most every `every` seconds: done/total, rate and time left."""

    def __init__(self, total: int, say: Callable[[str], None] | None, every: float = 5.0):
        self.total, self.done, self.say, self.every = total, 0, say, every
        self.start = self.last = time.perf_counter()

    def add(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.say is not None and (now - self.last >= self.every or self.done >= self.total):
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            self.say(
                f"embed: {self.done:,}/{self.total:,} texts ({rate:.0f}/s, about {left:.0f} s left)"
            )


def _adopt(
    cache: SqlEmbeddingCache, identity: str, todo: dict[str, str], embedder: Embedder
) -> int:
    """Take over vectors cached under the bare model name (verified on a sample once)."""
    adopted, verified = 0, None
    items = list(todo.items())
    for start in range(0, len(items), READ_CHUNK):
        chunk = dict(items[start : start + READ_CHUNK])
        got, ok = adopt_legacy(cache, identity, chunk, embedder.encode, verified=bool(verified))
        if ok is False:
            return adopted
        verified = verified or ok
        for h in got:
            del todo[h]
        adopted += len(got)
    return adopted


def profile_mean(
    cache: SqlEmbeddingCache, identity: str, profile_hashes: list[str], dimension: int
) -> np.ndarray:
    """Mean of the organisations' profile vectors (each row counted, as the build does)."""
    total = np.zeros(dimension, dtype=np.float64)
    counts: dict[str, int] = {}
    for h in profile_hashes:
        counts[h] = counts.get(h, 0) + 1
    unique = list(counts)
    for start in range(0, len(unique), READ_CHUNK):
        chunk = unique[start : start + READ_CHUNK]
        for h, v in cache.get_many(identity, chunk).items():
            total += counts[h] * v.astype(np.float64)
    n = len(profile_hashes)
    return (total / n if n else total).astype(np.float32)


def run_embed(
    settings: Settings,
    *,
    executor: str = "local",
    address: str | None = None,
    batch_size: int = 256,
    workers: int = 2,
    switch: bool = False,
    embedder: Embedder | None = None,
    embedder_factory: Callable[[], Embedder] | None = None,
    check: Callable[[Embedder], dict[str, Any]] | None = None,
    say: Callable[[str], None] | None = None,
) -> EmbedReport:
    """Fill, validate and (with `switch`) serve the vector space of the configured model.

    `embedder_factory` makes the embedder inside each Ray worker (default: the one the
    settings describe); `embedder` is the driver's (default: the factory's). `check` runs on
    the validated space before any switch (its figures land in `report.extra`); it raises
    EmbedJobError to refuse the switch."""
    if executor not in EXECUTORS:
        raise EmbedJobError(f"unknown executor {executor!r} (local, ray)")
    if batch_size < 1 or workers < 1:
        raise EmbedJobError("--batch-size and --workers must be at least 1")
    # local with N workers: N embedders from the factory, in N threads (matcher.embed_local);
    # an embedder given without a factory is the one local embedder
    parallel = executor == "local" and workers > 1
    parallel = parallel and (embedder is None or embedder_factory is not None)
    if embedder_factory is None:
        # one thread per Ray actor or local worker: the pool, not each model, spreads over the
        # CPUs
        threads = settings.torch_threads or 1
        per_worker = settings.model_copy(update={"torch_threads": threads})
        if executor == "ray":
            per_worker = for_ray_workers(per_worker)
        embedder_factory = functools.partial(
            create_embedder, per_worker if executor == "ray" or parallel else settings
        )
    factory = embedder_factory
    model = embedder or factory()
    identity = model_identity(model)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.create_all()
    try:
        store = Store(db)
        cache = SqlEmbeddingCache(db)
        path = getattr(model, "model_path", None)
        open_space(
            db,
            identity,
            model_name=model.model_name,
            model_path=str(path) if path is not None else None,
            dimension=model.dimension,
        )
        report = EmbedReport(identity=identity, model=model.model_name, executor=executor)
        texts, profile_hashes = corpus_texts(store)
        report.texts = len(texts)
        present = cache.present(identity, list(texts))
        report.already = len(present)
        todo = {h: t for h, t in texts.items() if h not in present}
        if todo:
            report.adopted = _adopt(cache, identity, todo, model)
        order = work_order(todo)
        if say is not None:
            say(
                f"embed: space {identity}: {len(texts):,} texts, {report.already:,} done, "
                f"{report.adopted:,} adopted, {len(order):,} to embed ({executor})"
            )
        progress = Progress(len(order), say)

        def write(hashes: list[str], vectors: np.ndarray) -> None:
            if vectors.shape != (len(hashes), model.dimension):
                raise EmbedJobError(
                    f"a batch came back with shape {vectors.shape}, expected "
                    f"({len(hashes)}, {model.dimension})"
                )
            cache.put_many(identity, dict(zip(hashes, vectors, strict=True)))  # one commit
            report.batches += 1
            report.embedded += len(hashes)
            progress.add(len(hashes))

        t0 = time.perf_counter()
        if order and executor == "local":
            pool = _local_embedders(model, factory, workers if parallel else 1, embedder is None)
            run_local(order, pool, batch_size, write)
        elif order:
            from matcher.embed_ray import run_ray

            run_ray(
                order,
                factory,
                identity=identity,
                address=address,
                batch_size=batch_size,
                workers=workers,
                write=write,
            )
        report.embed_seconds = round(time.perf_counter() - t0, 3)
        if report.embedded:
            report.texts_per_second = round(report.embedded / max(report.embed_seconds, 1e-9), 1)
        validate(db, cache, report, list(texts), model.dimension)
        if settings.centre_vectors:
            before = _frozen(db, identity)
            mean = profile_mean(cache, identity, profile_hashes, model.dimension)
            freeze_mean(db, identity, mean, len(profile_hashes))
            report.mean_source = "frozen before" if before else "frozen now"
        if check is not None:
            report.extra.update(check(model))
        if switch:
            report.switched = _switch(settings, model, say)
        return report
    finally:
        db.dispose()


def for_ray_workers(settings: Settings) -> Settings:
    """The settings a Ray worker makes its embedder from: its folders as absolute paths. A
    worker runs in a folder of Ray's own (on another machine, perhaps): a relative `./var`
    would name another folder there, without the model files (the registry pointer
    `models/EMBEDDING`, the ONNX export under `models/onnx`), and the worker would export the
    model again or fail. Every node needs the model files at these same paths (README, Scale
    out); the job checks each batch's model identity against its own."""
    update: dict[str, Any] = {"data_dir": settings.data_dir.resolve()}
    if settings.model_path is not None:
        update["model_path"] = settings.model_path.resolve()
    return settings.model_copy(update=update)


def _local_embedders(
    model: Embedder, factory: Callable[[], Embedder], n: int, model_from_factory: bool
) -> list[Embedder]:
    """The local executor's `n` embedders: the driver's model (when the factory made it) and
    more from the factory, each of the driver's model identity."""
    pool = [model] if model_from_factory or n == 1 else []
    pool += [factory() for _ in range(n - len(pool))]
    identity = model_identity(model)
    for other in pool:
        if other is not model and model_identity(other) != identity:
            raise EmbedJobError(
                f"a local worker's embedder is {model_identity(other)}, not {identity}"
            )
    return pool


def _frozen(db: Database, identity: str) -> bool:
    from matcher.embedding.spaces import get_space

    space = get_space(db, identity)
    return space is not None and space.mean is not None


def validate(
    db: Database, cache: SqlEmbeddingCache, report: EmbedReport, hashes: list[str], dim: int
) -> None:
    """No text of the database without a vector, no vector of another dimension; records the
    space's status and raises EmbedJobError when either fails."""
    present = cache.present(report.identity, hashes)
    report.missing = len(hashes) - len(present)
    report.bad_dimension = bad_dimension_rows(db, report.identity, dim)
    ok = report.missing == 0 and report.bad_dimension == 0
    report.status = VALIDATED if ok else INCOMPLETE
    set_status(
        db,
        report.identity,
        report.status,
        texts=len(hashes),
        info={"missing": report.missing, "bad_dimension": report.bad_dimension},
    )
    if not ok:
        raise EmbedJobError(
            f"vector space {report.identity} is incomplete: {report.missing} texts without a "
            f"vector, {report.bad_dimension} vectors not of {dim} dimensions; run matcher embed "
            "again"
        )


def _switch(settings: Settings, model: Embedder, say: Callable[[str], None] | None) -> Any:
    """Build an index generation from the (complete) space and make it current: Engine.build
    writes the generation's files, then switches `index_state` in one transaction."""
    from matcher.engine import Engine

    engine = Engine.open(settings, embedder=model, load=False)
    try:
        built = engine.build(progress=say is not None)
    finally:
        engine.close()
    # `embedded` counts what the build still embedded: focus phrases and capability labels
    return {k: built[k] for k in ("generation", "organisations", "embedded", "total_seconds")}
