"""The change log: every write that changes what a serving process holds in memory
(organisations, needs, the cause taxonomy, API keys, the published model) appends a row to
`organisation_changes` (models.ChangeRow) in its own transaction; on PostgreSQL it also sends a
NOTIFY on CHANNEL, which PostgreSQL delivers at commit. `ChangeReader` reads the log without
losing a change that committed out of seq order (see its docstring); matcher.replica applies
what it reads to a serving process.

The seqs a session wrote are known once it commits (`Database.session`): the API answers a
write with the highest one (`X-Change-Seq`), so a client can ask another process to wait until
it has applied that write (`min_seq`)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from matcher.domain import utcnow
from matcher.store.models import ChangeRow

CHANNEL = "matcher_changes"
# the writing transaction's id (xid8, assigned then if it has none yet), as a column default
# so that a bulk write's change rows are still inserted in batches (Database.create_all)
TXID_DEFAULT_DDL = (
    "ALTER TABLE organisation_changes "
    "ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)"
)

ORGANISATION = "organisation"
NEED = "need"
CAUSES = "causes"
KEY = "key"
MODEL = "model"
KINDS = (ORGANISATION, NEED, CAUSES, KEY, MODEL)

UPSERT = "upsert"
DELETE = "delete"

_SESSION_KEY = "matcher_changes"
_NOTIFIED = "matcher_changes_notified"

# Set per request by the API (a list the request's writes append their seqs to): the context
# is copied into worker threads, the list object is shared, so a write in a thread is seen.
written_seqs: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "matcher_written_seqs", default=None
)


def _is_postgres(s: Session) -> bool:
    bind = s.get_bind()
    return bind.dialect.name == "postgresql"


def record(
    s: Session,
    kind: str,
    entity_id: str,
    *,
    pk: int = 0,
    version: int = 0,
    op: str = UPSERT,
) -> None:
    """Append one change to the log in session `s`'s transaction (and NOTIFY once per
    transaction on PostgreSQL)."""
    if kind not in KINDS:
        raise ValueError(f"unknown change kind {kind!r}")
    record_many(s, kind, [(pk, entity_id, version)], op=op)


def record_many(
    s: Session, kind: str, rows: Iterable[tuple[int, str, int]], *, op: str = UPSERT
) -> None:
    """Append (pk, entity id, version) changes of one kind to the log in `s`'s transaction."""
    postgres = _is_postgres(s)
    now = utcnow()
    added: list[ChangeRow] = s.info.setdefault(_SESSION_KEY, [])
    for pk, entity_id, version in rows:
        row = ChangeRow(
            kind=kind,
            op=op,
            organisation_pk=int(pk),
            organisation_id=entity_id,
            version=int(version),
            changed_at=now,
        )
        s.add(row)  # on PostgreSQL `txid` is the column's default (TXID_DEFAULT_DDL)
        added.append(row)
    if postgres and added and not s.info.get(_NOTIFIED):
        s.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        s.info[_NOTIFIED] = True


def committed_seqs(s: Session) -> list[int]:
    """The seqs session `s` wrote (call after its commit)."""
    rows: list[ChangeRow] = s.info.pop(_SESSION_KEY, [])
    s.info.pop(_NOTIFIED, None)
    return [int(r.seq) for r in rows if r.seq is not None]


def forget(s: Session) -> None:
    """The session rolled back: nothing it recorded was written."""
    s.info.pop(_SESSION_KEY, None)
    s.info.pop(_NOTIFIED, None)


def note_written(seqs: Sequence[int]) -> None:
    holder = written_seqs.get()
    if holder is not None and seqs:
        holder.append(max(seqs))


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str
    entity_id: str
    pk: int
    version: int
    op: str


def _change(row: Any) -> Change:
    return Change(
        seq=int(row.seq),
        kind=str(row.kind or ORGANISATION),
        entity_id=str(row.organisation_id),
        pk=int(row.organisation_pk or 0),
        version=int(row.version or 0),
        op=str(row.op or UPSERT),
    )


_COLUMNS = (
    ChangeRow.seq,
    ChangeRow.kind,
    ChangeRow.organisation_id,
    ChangeRow.organisation_pk,
    ChangeRow.version,
    ChangeRow.op,
    ChangeRow.txid,
)
_MAX_SEEN_IN_QUERY = 500


class ChangeReader:
    """Reads every change once, in commit order per transaction, never losing one.

    "seq > last seen" loses rows on PostgreSQL: seqs are taken when a row is inserted, not when
    its transaction commits, so seq 11 may be visible before seq 10. Here the cursor is a
    transaction id: each poll first takes `pg_snapshot_xmin(pg_current_snapshot())` (every
    transaction below it has ended, committed or not), then reads the rows of transactions at
    or above the previous poll's xmin that it has not read yet (a transaction's rows become
    visible together, so "read" is kept per transaction id), then moves the cursor to the new
    xmin and forgets the transactions below it. A change is applied as soon as it commits,
    even while an older transaction is still open.

    On SQLite writers hold the database's one write lock from their first write to commit,
    so seqs commit in order and "seq > last seen" is exact."""

    def __init__(self, db: Any):
        self.db = db
        self.postgres = not db.is_sqlite
        self.cursor = 0  # SQLite: the last seq read; PostgreSQL: the xmin of the last poll
        self._seen_tx: set[int] = set()
        self.last_seq = 0

    def head(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.max(ChangeRow.seq))) or 0)

    def start(self) -> None:
        """Read from now on: changes committed before are in what the caller loads next."""
        self.last_seq = self.head()
        if self.postgres:
            with self.db.session() as s:
                self.cursor = int(s.scalar(text(_XMIN)) or 0)
            self._seen_tx.clear()
        else:
            self.cursor = self.last_seq

    def poll(self) -> list[Change]:
        return self._poll_postgres() if self.postgres else self._poll_sqlite()

    def _poll_sqlite(self) -> list[Change]:
        q = select(*_COLUMNS).where(ChangeRow.seq > self.cursor).order_by(ChangeRow.seq)
        with self.db.session() as s:
            out = [_change(r) for r in s.execute(q)]
        if out:
            self.cursor = out[-1].seq
            self.last_seq = max(self.last_seq, self.cursor)
        return out

    def _poll_postgres(self) -> list[Change]:
        with self.db.session() as s:
            xmin = int(s.scalar(text(_XMIN)) or 0)  # its own statement: an earlier snapshot
            q = select(*_COLUMNS).where(ChangeRow.txid >= self.cursor)
            if 0 < len(self._seen_tx) <= _MAX_SEEN_IN_QUERY:
                q = q.where(ChangeRow.txid.not_in(sorted(self._seen_tx)))
            rows = [r for r in s.execute(q.order_by(ChangeRow.seq)) if r.txid not in self._seen_tx]
        self._seen_tx.update(int(r.txid) for r in rows)
        self.cursor = max(self.cursor, xmin)
        self._seen_tx = {t for t in self._seen_tx if t >= self.cursor}
        out = [_change(r) for r in rows]
        if out:
            self.last_seq = max(self.last_seq, max(c.seq for c in out))
        return out


_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


class RecentSeqs:
    """A bounded set of seqs (the newest `size` kept), safe across threads."""

    def __init__(self, size: int = 100_000):
        import threading
        from collections import deque

        self._order: deque[int] = deque()
        self._set: set[int] = set()
        self._size = size
        self._lock = threading.Lock()

    def add(self, seqs: Iterable[int]) -> None:
        with self._lock:
            for seq in seqs:
                if seq in self._set:
                    continue
                self._set.add(seq)
                self._order.append(seq)
                if len(self._order) > self._size:
                    self._set.discard(self._order.popleft())

    def __contains__(self, seq: object) -> bool:
        with self._lock:
            return seq in self._set
