"""Recommendation ids that carry their issue time, and how long a reader waits for one.

A served recommendation is acknowledged once it is in its process's record queue
(`api.recordqueue`); the database has it a flush window plus a write later. Another process
(a second uvicorn worker, another machine on the same database) asked for it in between finds
it in neither its own queue nor the database. So a new id carries the millisecond it was
issued: `rec_` + 12 hex digits of Unix milliseconds + 20 random hex digits (80 bits), 36
characters. A reader that does not find an id waits only while the id may still be in flight:

    issued - CLOCK_SKEW <= now <= issued + window + CLOCK_SKEW

and at most until min(now + window, issued + window + CLOCK_SKEW), where `window` is two flush
windows plus WRITE_SECONDS. Ids in the old format (`rec_` + 16 hex), junk and ids issued
earlier are answered at once. A forged id with a current time costs one bounded wait.
"""

from __future__ import annotations

import re
import secrets
import time

PREFIX = "rec_"
TIME_DIGITS = 12  # hex digits of Unix milliseconds (enough until the year 10889)
RANDOM_DIGITS = 20  # 80 random bits: ids stay unguessable
ID_LENGTH = len(PREFIX) + TIME_DIGITS + RANDOM_DIGITS  # 36, within every route's 64
# allowance for writing a batch (after it waited its flush window): 0.25 s let permalinks and
# feedback answer 404 for 8-10 of 32 fresh ids on a loaded machine (the fresh-clone CI beside
# three benchmarks, PostgreSQL); only a fresh id not found waits this long
WRITE_SECONDS = 1.5
CLOCK_SKEW = 0.5  # seconds: machines on one database may disagree this much
# the id the OpenAPI examples show: issued 2026-11-30 09:30 UTC (tests/api check it parses)
EXAMPLE_ID = f"{PREFIX}01a22bca2dc09f3c1e7a2b5d8046c1e9"
_TIMED = re.compile(rf"{PREFIX}([0-9a-f]{{{TIME_DIGITS}}})[0-9a-f]{{{RANDOM_DIGITS}}}")


def new_recommendation_id(now: float | None = None) -> str:
    """A fresh id issued at `now` (Unix seconds; the current time when None)."""
    ms = int((time.time() if now is None else now) * 1000)
    return f"{PREFIX}{ms:0{TIME_DIGITS}x}{secrets.token_hex(RANDOM_DIGITS // 2)}"


def issued_at(recommendation_id: str) -> float | None:
    """When a new-format id was issued (Unix seconds); None for any other string."""
    m = _TIMED.fullmatch(recommendation_id)
    return int(m.group(1), 16) / 1000.0 if m else None


def in_flight_wait_seconds(flush_seconds: float) -> float:
    """How long a record may take from acknowledgement to the database: the batch being
    written when it arrived, its own batch's flush window, its write (bounded by two flush
    windows plus WRITE_SECONDS)."""
    return 2 * flush_seconds + WRITE_SECONDS


def wait_until(recommendation_id: str, window: float, now: float | None = None) -> float | None:
    """Until when (Unix seconds) a reader that did not find `recommendation_id` may wait for
    another process to write it; None when it cannot be in flight (answer at once)."""
    issued = issued_at(recommendation_id)
    if issued is None or window <= 0:
        return None
    now = time.time() if now is None else now
    if not issued - CLOCK_SKEW <= now <= issued + window + CLOCK_SKEW:
        return None
    return min(now + window, issued + window + CLOCK_SKEW)
