"""In-memory token buckets: one per API key, one per client IP for anonymous callers.

Per process by default; with MATCHER_API_RATE_LIMIT_STORE=database the buckets live in the
database and every process shares them (api.ratelimit_shared).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBucketLimiter:
    """`rate` tokens per second refill a bucket of `capacity`; each request takes one."""

    def __init__(self, rate_per_second: float, capacity: int, *, max_buckets: int = 50_000):
        if rate_per_second <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate_per_second
        self.capacity = float(capacity)
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str, *, now: float | None = None) -> float:
        """Take a token. Return 0.0 if allowed, else the seconds to wait (for Retry-After)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(self.capacity, now)
                self._buckets[key] = bucket
                if len(self._buckets) > self.max_buckets:
                    self._buckets.popitem(last=False)  # forget the least recently seen caller
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - bucket.stamp)
                bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
                bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))


class RateLimits:
    """The two limiters of an app: per key and per anonymous client IP."""

    def __init__(
        self,
        *,
        enabled: bool,
        key_per_minute: float,
        key_burst: int,
        anonymous_per_minute: float,
        anonymous_burst: int,
    ):
        self.enabled = enabled
        self.keys: Any = TokenBucketLimiter(key_per_minute / 60.0, key_burst)
        self.anonymous: Any = TokenBucketLimiter(anonymous_per_minute / 60.0, anonymous_burst)

    @property
    def shared(self) -> bool:
        """The buckets are in the database (checking is a database write: not on the loop)."""
        return not isinstance(self.keys, TokenBucketLimiter)

    def use_database(self, db: Any) -> None:
        """Keep the buckets in `db`, shared by every process serving it."""
        from api.ratelimit_shared import SqlTokenBucketLimiter

        self.keys = SqlTokenBucketLimiter(db, self.keys.rate, int(self.keys.capacity), scope="key")
        self.anonymous = SqlTokenBucketLimiter(
            db, self.anonymous.rate, int(self.anonymous.capacity), scope="ip"
        )

    def check(self, key_id: str | None, client_ip: str) -> float:
        if not self.enabled:
            return 0.0
        if key_id is not None:
            return self.keys.acquire(key_id)
        return self.anonymous.acquire(client_ip)
