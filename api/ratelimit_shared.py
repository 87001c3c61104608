"""Token buckets in the database, shared by every serving process (`uvicorn --workers N`, or
machines on one PostgreSQL): MATCHER_API_RATE_LIMIT_STORE=database. Each request is one small
write transaction: an UPDATE that refills and takes a token in one statement (atomic under
concurrent processes on SQLite and PostgreSQL), or the INSERT of a new, full bucket."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from matcher.store.models import RateBucketRow

_SWEEP_ODDS = 1000  # one acquire in this many deletes the buckets that are full again


class SqlTokenBucketLimiter:
    """`rate` tokens per second refill a bucket of `capacity`; each request takes one."""

    def __init__(self, db: Any, rate_per_second: float, capacity: int, *, scope: str):
        if rate_per_second <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.db = db
        self.rate = rate_per_second
        self.capacity = float(capacity)
        self.scope = scope
        big, small = ("MAX", "MIN") if db.is_sqlite else ("GREATEST", "LEAST")
        refill = f"{small}(:cap, tokens + {big}(0, :now - stamp) * :rate)"
        self._take = text(
            f"UPDATE rate_buckets SET "
            f"tokens = CASE WHEN {refill} >= 1 THEN {refill} - 1 ELSE {refill} END, "
            f"allowed = CASE WHEN {refill} >= 1 THEN 1 ELSE 0 END, "
            f"stamp = {big}(stamp, :now) "
            f"WHERE key = :key RETURNING tokens, allowed"
        )
        self._insert = pg_insert if not db.is_sqlite else sqlite_insert

    def acquire(self, key: str, *, now: float | None = None) -> float:
        """Take a token. Return 0.0 if allowed, else the seconds to wait (for Retry-After)."""
        now = time.time() if now is None else now
        name = f"{self.scope}:{key}"[:200]
        params = {"cap": self.capacity, "now": now, "rate": self.rate, "key": name}
        for _attempt in range(3):
            with self.db.session() as s:
                row = s.execute(self._take, params).first()
                if row is None:  # a new caller: a full bucket, less this request
                    stmt = self._insert(RateBucketRow).values(
                        key=name, tokens=self.capacity - 1.0, stamp=now, allowed=1
                    )
                    stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
                    if s.execute(stmt.returning(RateBucketRow.key)).first() is None:
                        continue  # another process made it a moment ago: take from it
                    self._maybe_sweep(s, now)
                    return 0.0
            tokens, allowed = float(row[0]), int(row[1])
            return 0.0 if allowed else (1.0 - tokens) / self.rate
        return 0.0  # three lost races in a row: let it through rather than fail the request

    def _maybe_sweep(self, s: Any, now: float) -> None:
        if random.randrange(_SWEEP_ODDS) == 0:
            full_after = self.capacity / self.rate
            s.execute(delete(RateBucketRow).where(RateBucketRow.stamp < now - full_after))
