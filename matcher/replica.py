"""Replicas that agree: every serving process follows the change log (matcher.store.changes)
in a background thread and applies what other processes wrote to its own memory: index rows,
needs, the cause taxonomy, the API-key cache, the published model.

The thread polls at least every `interval` seconds; on PostgreSQL it also LISTENs on the log's
channel and polls as soon as a write commits. A lost connection is re-opened and the poll
retried: the reader's cursor is in memory, so nothing is lost or read twice. Changes this
process wrote itself (`Database.own_changes`) are skipped: the writer applied them already.

`wait_for(seq)` lets a read wait (bounded) until this process has applied a write it knows the
seq of (`min_seq`): it returns once the change was applied here, or once a poll that started
after the call has finished (a committed change is then read, whatever its seq)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.store import changes
from matcher.store.changes import Change, ChangeReader, RecentSeqs

logger = logging.getLogger(__name__)

Apply = Callable[[Sequence[Change]], None]


@dataclass
class FollowerStats:
    polls: int = 0
    applied: int = 0
    skipped_own: int = 0
    errors: int = 0
    last_seq: int = 0
    last_error: str | None = None
    listening: bool = False


class Follower:
    """Follows the change log of `db` and hands each new change (not written by this process)
    to `apply`, in seq order per poll."""

    def __init__(
        self,
        db: Any,
        apply: Apply,
        *,
        interval: float = 0.5,
        own: Callable[[int], bool] | None = None,
        ready: Callable[[], bool] | None = None,
        listen: bool = True,
    ):
        self.db = db
        self.apply = apply
        self.interval = interval
        self.own = own or (lambda seq: seq in db.own_changes)
        self.ready = ready or (lambda: True)
        self.listen = listen and not db.is_sqlite
        self.reader = ChangeReader(db)
        self.stats = FollowerStats()
        self.applied = RecentSeqs()
        self._cond = threading.Condition()
        self._started = 0  # polls started
        self._finished = 0  # the number of the last poll finished
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._pending: list[Change] = []

    # lifecycle -------------------------------------------------------------------------------
    def begin(self) -> None:
        """Place the cursor at the log's head: call before loading the state it will update,
        so that a write committed during the load is applied after it (applying is idempotent)."""
        self.reader.start()
        self.stats.last_seq = self.reader.last_seq

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="change-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_listener()

    # waiting for a seq -----------------------------------------------------------------------
    def wait_for(self, seq: int, timeout: float) -> bool:
        """True once change `seq` is applied in this process (or was never for it to apply)."""
        if seq <= 0 or seq in self.applied or self.own(seq):
            return True
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._started + 1  # a poll that starts after this call
            self._wake.set()
            while self._finished < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return False
                self._cond.wait(left)
        return True

    # the loop --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            if self.ready():
                self.poll_once()
            self._sleep()

    def poll_once(self) -> list[Change]:
        with self._cond:
            self._started += 1
            number = self._started
        new: list[Change] = []
        try:
            found = self.reader.poll()  # raises before its cursor moves: read again next time
            new = [c for c in found if not self.own(c.seq)]
            self.stats.skipped_own += len(found) - len(new)
            self.applied.add(c.seq for c in found if self.own(c.seq))
            self._pending.extend(new)
            if self._pending:  # read but not applied yet (an apply that failed is retried)
                batch = self._pending
                self.apply(batch)
                self._pending = []
                self.stats.applied += len(batch)
                self.applied.add(c.seq for c in batch)
            self.stats.last_seq = self.reader.last_seq
            self.stats.last_error = None
        except Exception as exc:
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            logger.warning("following the change log failed (will retry): %s", exc)
            number = 0
        finally:
            self.stats.polls += 1
            with self._cond:
                if number:
                    self._finished = number
                self._cond.notify_all()
        return new

    def _sleep(self) -> None:
        """Until the next poll: `interval`, or sooner on a NOTIFY or a waiting reader."""
        if not self.listen:
            self._wake.wait(self.interval)
            self._wake.clear()
            return
        deadline = time.monotonic() + self.interval
        while not self._stop.is_set() and not self._wake.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                conn = self._listener()
                if any(True for _ in conn.notifies(timeout=min(left, 0.05), stop_after=1)):
                    break
            except Exception as exc:
                logger.warning("change-log LISTEN connection lost (re-opening): %s", exc)
                self._close_listener()
                self._wake.wait(min(left, 0.5))
        self._wake.clear()

    def _listener(self) -> Any:
        if self._conn is None:
            import psycopg

            url = self.db.engine.url.set(drivername="postgresql")
            conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            conn.execute(f"LISTEN {changes.CHANNEL}")
            self._conn = conn
            self.stats.listening = True
        return self._conn

    def _close_listener(self) -> None:
        conn, self._conn = self._conn, None
        self.stats.listening = False
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken
                conn.close()


def apply_to_engine(
    engine: Any,
    batch: Sequence[Change],
    *,
    forget_keys: Callable[[], None] | None = None,
    follow_model: Callable[[], object] | None = None,
) -> None:
    """Apply a batch of changes made by another process to this process's engine and caches."""
    org_pks: list[int] = []
    need_ids: list[str] = []
    causes_changed = keys_changed = model_changed = False
    for c in batch:
        if c.kind == changes.ORGANISATION:
            org_pks.append(c.pk)
        elif c.kind == changes.NEED:
            need_ids.append(c.entity_id)
        elif c.kind == changes.CAUSES:
            causes_changed = True
        elif c.kind == changes.KEY:
            keys_changed = keys_changed or c.op == changes.DELETE
        elif c.kind == changes.MODEL:
            model_changed = True
    if keys_changed and forget_keys is not None:
        forget_keys()  # a key revoked elsewhere stops working here at once
    if engine is None:
        return
    if org_pks:
        engine.follow_organisations(org_pks)
    if need_ids:
        engine.follow_needs(list(dict.fromkeys(need_ids)))
    if causes_changed:
        engine.follow_causes()
    if model_changed and follow_model is not None:
        follow_model()
