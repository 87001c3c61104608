"""Recommendation records written off the request path: a bounded queue, flushed in batches.

A served recommendation is acknowledged (its id returned) once it is in this queue; a
background thread writes the queue to the database in batches of at most `batch_size`, one
transaction each, `flush_seconds` after the first record of a batch arrives (or at once when a
batch is full, a reader needs it or the app stops).

Durability window: records waiting here plus the batch being written are never more than
`batch_size` (a submit waits for room; while the queue stays full longer than `stall_seconds`
the app sheds new rankings with 503).
So a crash (kill -9, power loss) loses at most one batch: the records acknowledged in the last
`flush_seconds` plus the write time, and never more than `batch_size`. A clean shutdown (the
app's lifespan exit, SIGTERM/SIGINT to uvicorn) writes everything first.

Until a record is written, readers in this process see it here (`get`); feedback on it waits
until it is written (`wait_written`), since feedback rows reference the stored recommendation.
Readers in other processes (uvicorn workers, machines on one database) wait for the database
while the id may still be in flight (`api.recids`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from matcher.domain import Filters, Need, Recommendation
from matcher.errors import OverloadedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingRecord:
    """A served recommendation not yet written (or being written)."""

    id: str
    created_at: datetime
    rec: Recommendation
    need: Need
    api_key_id: str | None
    filters: Filters | None = None  # kept beside the need, to run it again as asked


BatchWriter = Callable[[list[PendingRecord]], None]


class RecordQueue:
    def __init__(
        self,
        write_batch: BatchWriter,
        *,
        batch_size: int = 64,
        flush_seconds: float = 0.05,
        put_timeout: float = 5.0,
        retry_seconds: float = 0.5,
        stall_seconds: float = 0.5,
    ):
        if batch_size < 1 or flush_seconds < 0:
            raise ValueError("batch_size must be >= 1 and flush_seconds >= 0")
        self._write = write_batch
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.put_timeout = put_timeout
        self.retry_seconds = retry_seconds
        self.stall_seconds = stall_seconds
        self._full_since: float | None = None  # when the queue last filled up, until a write
        self._cond = threading.Condition()
        self._pending: dict[str, PendingRecord] = {}  # waiting, in arrival order
        self._writing: dict[str, PendingRecord] = {}  # the batch being written
        self._urgent = 0  # readers or a flush waiting: write now, do not wait for the window
        self._closing = False
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failures = 0

    # lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer (the lifespan exit calls this)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._cond:
            left = list(self._writing.values()) + list(self._pending.values())
            self._writing.clear()
            self._pending.clear()
        if left:  # the writer failed or timed out: one last synchronous try
            try:
                self._write(left)
                self.written += len(left)
            except Exception:
                logger.exception("%d recommendation records could not be written", len(left))

    # producers and readers ----------------------------------------------------------------
    def _size(self) -> int:
        return len(self._pending) + len(self._writing)

    @property
    def full(self) -> bool:
        with self._cond:
            return self._size() >= self.batch_size

    @property
    def stalled(self) -> bool:
        """Full for longer than `stall_seconds` (the database is slow or failing): the app
        sheds new rankings until a batch is written. A queue that just filled is not stalled:
        its batch is being taken for writing."""
        with self._cond:
            since = self._full_since
            return since is not None and time.monotonic() - since > self.stall_seconds

    def __len__(self) -> int:
        with self._cond:
            return self._size()

    def submit(self, record: PendingRecord | Callable[[], PendingRecord]) -> PendingRecord:
        """Queue a record; waits (up to `put_timeout`) while a full batch is not yet written.
        Given a factory, calls it once there is room, so an id made there (which carries its
        issue time, `api.recids`) is issued when the record enters the queue."""
        make = (lambda: record) if isinstance(record, PendingRecord) else record
        if self._thread is None:  # not started (or stopped): write through
            made = make()
            self._write([made])
            self.written += 1
            return made
        deadline = time.monotonic() + self.put_timeout
        with self._cond:
            while self._size() >= self.batch_size:
                left = deadline - time.monotonic()
                if left <= 0 or self._closing:
                    raise OverloadedError("the record queue is full; retry shortly")
                self._cond.wait(left)
            made = make()
            self._pending[made.id] = made
            if self._size() >= self.batch_size and self._full_since is None:
                self._full_since = time.monotonic()
            if len(self._pending) >= self.batch_size or len(self._pending) == 1:
                self._cond.notify_all()
            return made

    def get(self, record_id: str) -> PendingRecord | None:
        with self._cond:
            return self._pending.get(record_id) or self._writing.get(record_id)

    def wait_written(self, record_id: str, timeout: float = 10.0) -> bool:
        """Write the batch holding `record_id` now; True once it is not pending any more."""
        return self._wait(lambda: record_id in self._pending or record_id in self._writing, timeout)

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything queued now; True once the queue is empty."""
        return self._wait(lambda: self._size() > 0, timeout)

    def _wait(self, busy: Callable[[], bool], timeout: float) -> bool:
        if self._thread is None:
            return not busy()
        deadline = time.monotonic() + timeout
        with self._cond:
            if not busy():
                return True
            self._urgent += 1
            self._cond.notify_all()
            try:
                while busy():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._urgent -= 1

    # the writer ---------------------------------------------------------------------------
    def _take_batch(self) -> list[PendingRecord] | None:
        """Wait for a batch to write; None when closing and nothing is left."""
        with self._cond:
            while not self._pending:
                if self._closing:
                    return None
                self._cond.wait()
            deadline = time.monotonic() + self.flush_seconds
            while (
                len(self._pending) < self.batch_size
                and not self._urgent
                and not self._closing
                and (left := deadline - time.monotonic()) > 0
            ):
                self._cond.wait(left)
            ids = list(self._pending)[: self.batch_size]
            batch = [self._pending.pop(i) for i in ids]
            self._writing = {r.id: r for r in batch}
            return batch

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            while True:
                try:
                    self._write(batch)
                    break
                except Exception:
                    self.failures += 1
                    logger.exception("writing %d recommendation records failed", len(batch))
                    with self._cond:
                        if self._closing:
                            return  # stop() makes the last attempt
                        self._cond.wait(self.retry_seconds)
            with self._cond:
                self.written += len(batch)
                self._writing = {}
                self._full_since = None
                self._cond.notify_all()
