"""What one app instance holds: settings, the engine (once loaded), keys, limits, metrics."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import numpy as np

from api.config import ApiSettings
from api.embedding_switch import EmbeddingSwitch
from api.keys import ADMIN_KEY_FILE, KeyRing, ensure_admin_key
from api.metrics import Metrics
from api.query_batch import QueryBatcher
from api.ratelimit import RateLimits
from api.records import QueueSettings, Records
from api.registry_status import RegistrySyncState
from matcher.accounts import Accounts, Claims, LoginThrottle
from matcher.alerts.owners import address_on_confirm
from matcher.atomic import sweep_leftovers
from matcher.domain import Need
from matcher.errors import OverloadedError
from matcher.followthrough.records import PartnershipRecords
from matcher.introductions import Introductions, IntroductionSettings
from matcher.query_reader import query_passes_alone
from matcher.registry_files import versions_of_models
from matcher.registry_sync import SyncReport, sync_for_serving
from matcher.replica import Follower, apply_to_engine
from matcher.settings import Settings
from matcher.store.changes import Change
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.embedding.base import Embedder
    from matcher.engine import Engine

logger = logging.getLogger(__name__)
T = TypeVar("T")


class AppState:
    def __init__(
        self,
        settings: Settings,
        api_settings: ApiSettings,
        *,
        engine: Engine | None = None,
        embedder: Embedder | None = None,
    ):
        self.settings = settings
        self.api = api_settings
        self.engine: Engine | None = None
        self.load_error: str | None = None
        self._given_engine = engine
        self._embedder = embedder
        self._task: asyncio.Task[None] | None = None
        self.db: Database | None = None
        self.compute_slots = api_settings.compute_slots or os.cpu_count() or 2
        self._compute: anyio.CapacityLimiter | None = None
        self.inflight = 0
        self._batcher: QueryBatcher | None = None
        self.keys: KeyRing | None = None
        self.records: Records | None = None
        self.accounts: Accounts | None = None
        self.claims: Claims | None = None
        self.partnership_records: PartnershipRecords | None = None
        self.introductions: Introductions | None = None
        self.follower: Follower | None = None
        self.registry_sync: SyncReport | None = None  # the last sync of the shared registry
        self.registry_state = RegistrySyncState()  # every sync's outcome, for /readyz
        self.embedding_switch = EmbeddingSwitch(
            settings, lambda: self.engine, self._use_engine, lambda: self.db
        )
        self.metrics = Metrics()
        self.metrics.watch_engine(self.engine_stats)
        self.limits = RateLimits(
            enabled=api_settings.rate_limit_enabled,
            key_per_minute=api_settings.key_per_minute,
            key_burst=api_settings.key_burst,
            anonymous_per_minute=api_settings.anonymous_per_minute,
            anonymous_burst=api_settings.anonymous_burst,
        )

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._compute = anyio.CapacityLimiter(self.compute_slots)
        await anyio.to_thread.run_sync(self._open_database)
        if self.follower is not None:  # before the engine loads: writes during it are applied
            await anyio.to_thread.run_sync(self.follower.begin)
            self.follower.start()  # it waits for the engine before it applies anything
        # after `begin`: a model published from now on is a MODEL change the follower sees
        await anyio.to_thread.run_sync(self.sync_registry)
        if self._given_engine is not None:
            self.engine = self._given_engine
            return
        if self.api.load_in_background:
            self._task = asyncio.create_task(self._load_async())
        else:
            await self._load_async()
            if self.load_error is not None:
                raise RuntimeError(f"engine failed to load: {self.load_error}")

    async def stop(self) -> None:
        if self.follower is not None:
            await anyio.to_thread.run_sync(self.follower.stop)
        if self._task is not None and not self._task.done():
            logger.info("waiting for the engine load to finish before shutting down")
            await asyncio.shield(self._task)
        if self.records is not None:  # every acknowledged recommendation is written first
            await anyio.to_thread.run_sync(self.records.stop)
        engine, self.engine = self.engine, None
        if engine is not None and self._given_engine is None:
            await anyio.to_thread.run_sync(engine.close)
        if self.db is not None:
            self.db.dispose()

    def _open_database(self) -> None:
        sweep_leftovers(self.settings.data_dir)  # temp folders of builds killed mid-way
        self.db = Database(self.settings.sqlalchemy_url)
        self.db.create_all()
        self.keys = KeyRing(self.db, cache_seconds=self.api.key_cache_seconds)
        if self.api.rate_limit_store == "database":
            self.limits.use_database(self.db)
        queue: QueueSettings | None = None
        if self.api.record_queue:
            queue = {
                "batch_size": self.api.record_batch_size,
                "flush_seconds": self.api.record_flush_ms / 1000.0,
            }
        self.records = Records(self.db, queue)
        self.records.start()
        self.accounts = Accounts(
            self.db,
            public_url=self.api.public_url,
            session_days=self.api.session_days,
            throttle=LoginThrottle(
                self.db,
                max_failures=self.api.login_max_failures,
                window_seconds=self.api.login_window_seconds,
            ),
        )
        self.claims = Claims(self.accounts)
        # a person's saved needs get their e-mail as alert address once it is confirmed
        self.accounts.on_verified.append(address_on_confirm(self.db))
        if self.api.follow_changes:
            self.follower = Follower(
                self.db,
                self._apply_changes,
                interval=self.api.follow_interval_ms / 1000.0,
                own=self._own_change,
                ready=lambda: self.engine is not None,
            )
        self.partnership_records = PartnershipRecords(self.db)
        self.introductions = Introductions(
            self.db,
            settings=IntroductionSettings.from_settings(self.settings),
            public_url=self.api.public_url,
        )
        if self.api.bootstrap_admin_key:
            key = ensure_admin_key(self.keys, self.settings.data_dir)
            if key is not None:
                path = self.settings.data_dir / ADMIN_KEY_FILE
                print(
                    f"\nFirst admin API key (also saved to {path}, mode 0600):\n  {key}\n",
                    flush=True,
                )

    # following other processes' writes ---------------------------------------------------
    def _own_change(self, seq: int) -> bool:
        """Written through this process (its own Database, or its engine's): applied here."""
        if self.db is not None and seq in self.db.own_changes:
            return True
        engine = self.engine
        return engine is not None and seq in engine.store.db.own_changes

    def sync_registry(self) -> SyncReport | None:
        """PostgreSQL: materialise the shared model registry in this data directory
        (matcher.registry_sync); the file-based followers then do the rest."""
        report = sync_for_serving(self.db, self.settings.data_dir, in_use=self.served_versions())
        if report is not None:
            self.registry_sync = report
        self.registry_state.record(report, shared=self.registry_shared)
        return report

    @property
    def registry_shared(self) -> bool:
        return self.db is not None and not self.db.is_sqlite

    def registry_status(self) -> dict[str, Any]:
        """/readyz's `registry`: this process's copy of the model registry and its syncs."""
        return self.registry_state.status(
            self.settings.data_dir / "models",
            shared=self.registry_shared,
            serving=self.served_versions(),
        )

    def served_versions(self) -> set[str]:
        """The registry versions this process serves (or is switching to): a sync keeps their
        local copies even when `matcher models prune` removed them from the shared registry."""
        out: set[str] = set()
        engine = self.engine
        if engine is not None and engine.weights_name != "default-weights":
            out.add(str(engine.weights_name))
        switch = self.embedding_switch.status()
        models_dir = self.settings.data_dir / "models"
        return out | versions_of_models(models_dir, [switch["serving"], switch["switching_to"]])

    def _follow_model(self, engine: Engine) -> None:
        from training.registry import load_published

        self.sync_registry()
        load_published(engine, self.settings.data_dir)
        self.embedding_switch.check()  # without waiting for a request to look

    def _apply_changes(self, batch: Sequence[Change]) -> None:
        engine = self.engine
        apply_to_engine(
            engine,
            batch,
            forget_keys=self.keys.forget if self.keys is not None else None,
            follow_model=(lambda: self._follow_model(engine)) if engine is not None else None,
        )

    async def _load_async(self) -> None:
        try:
            self.engine = await anyio.to_thread.run_sync(self._load)
            logger.info("engine ready: %s", self.engine.model_version)
        except Exception as exc:  # reported by /readyz; the process stays up for /healthz
            logger.exception("engine failed to load")
            self.load_error = f"{type(exc).__name__}: {exc}"

    def _load(self) -> Engine:
        from matcher.engine import Engine

        engine = Engine.open(self.settings, embedder=self._embedder, load=False)
        if self._embedder is None:  # opened on the settings' (or published) model: follow it
            self.embedding_switch.opened()
        try:
            if self.api.bootstrap_sample and engine.bootstrap_sample():
                logger.info("loaded and indexed the bundled sample corpus")
            else:
                engine.load()
        except BaseException:
            engine.close()
            raise
        if self.api.warm_up:
            from matcher.warm_up import warm_up

            warm_up(engine)
        return engine

    async def compute(self, fn: Callable[[], T]) -> T:
        """Run ranking work in a worker thread, at most `compute_slots` at once.

        Embedding a query and scoring candidates are CPU-bound; with the default 40-thread pool
        50 concurrent requests would run 40 rankings at once (each asking for all cores in
        torch, onnxruntime and BLAS) and spend the CPU on contention. Queued requests wait
        here without holding a thread, up to `max_inflight` running or waiting; beyond that,
        or while the record queue is full, the request is shed (OverloadedError: 503 with
        Retry-After) so memory and latency stay bounded under overload.
        """
        self._admit()
        self.inflight += 1  # on the event loop thread only: no lock needed
        # the one request in the process may read its need on two cores (the context is
        # copied into the worker thread); with others running or waiting, both are busy
        alone = query_passes_alone.set(self.inflight <= 1)
        try:
            return await self._in_thread(fn)
        finally:
            query_passes_alone.reset(alone)
            self.inflight -= 1

    def _admit(self) -> None:
        """Shed a request (OverloadedError) while `max_inflight` run or wait, or while the
        record queue is full."""
        if self.inflight >= self.api.max_inflight:
            raise OverloadedError(
                f"the server is busy ({self.inflight} rankings in progress); retry shortly"
            )
        if self.records is not None and self.records.backlogged:
            raise OverloadedError("the server is busy storing recommendations; retry shortly")

    async def _in_thread(self, fn: Callable[[], T]) -> T:
        if self._compute is None:
            self._compute = anyio.CapacityLimiter(self.compute_slots)
        return await anyio.to_thread.run_sync(fn, limiter=self._compute)

    async def query_vector(self, need: Need) -> np.ndarray | None:
        """The query vector of `need` (as `Engine.recommend` embeds it), embedded together with
        those of concurrent requests (api.query_batch); None when batching is off (the ranking
        embeds it then). Counts towards `max_inflight` while it waits."""
        if not self.api.query_batch_ms:
            return None
        from matcher.engine import query_text  # the engine module loads with the engine

        text = query_text(need)
        if self._batcher is None:
            self._batcher = QueryBatcher(
                self._embed_queries,
                self._in_thread,
                window_s=self.api.query_batch_ms / 1000.0,
                max_batch=self.api.query_batch_size,
            )
        self._admit()
        self.inflight += 1
        try:
            return await self._batcher.vector(text)
        finally:
            self.inflight -= 1

    def _embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        engine = self.engine
        if engine is None:
            raise OverloadedError("the service is starting; retry shortly")
        return engine.embed_queries(texts)

    # queries ------------------------------------------------------------------------------
    def _use_engine(self, engine: Engine) -> None:
        """Serve `engine` from the next request on (the embedding model switched)."""
        self.engine = engine

    def engine_stats(self) -> dict[str, Any] | None:
        return self.engine.stats() if self.engine is not None else None
