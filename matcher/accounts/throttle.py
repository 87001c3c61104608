"""Log-in throttling: at most `max_failures` failed log-ins per window per account (normalised
e-mail) and per client IP; the next attempt gets a ThrottledError with the seconds to wait.
Failures live in the database, so a restart does not reset them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from matcher.domain import utcnow
from matcher.errors import ThrottledError
from matcher.store.db import Database
from matcher.store.db import aware as _aware
from matcher.store.models import LoginFailureRow

F = LoginFailureRow


class LoginThrottle:
    def __init__(
        self,
        db: Database,
        *,
        max_failures: int = 5,
        window_seconds: float = 900.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.db = db
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def _wait(self, column: InstrumentedAttribute[str], value: str, now: datetime) -> float:
        since = now - self.window
        with self.db.session() as s:
            where = (column == value, F.created_at > since)
            count = s.scalar(select(func.count()).select_from(F).where(*where)) or 0
            if count < self.max_failures:
                return 0.0
            # the attempt that must age out of the window before one more is allowed
            oldest = s.scalar(
                select(F.created_at)
                .where(*where)
                .order_by(F.created_at.desc())
                .offset(self.max_failures - 1)
                .limit(1)
            )
        if oldest is None:
            return 0.0
        return max(1.0, (_aware(oldest) + self.window - now).total_seconds())

    def check(self, email: str, ip: str) -> None:
        """Raise ThrottledError when the account or the IP has used up its failures."""
        now = self.clock()
        wait = max(self._wait(F.email, email, now), self._wait(F.ip, ip, now))
        if wait > 0:
            raise ThrottledError(
                f"too many failed log-ins; try again in {int(wait + 0.999)} seconds",
                retry_after=wait,
            )

    def failed(self, email: str, ip: str) -> None:
        now = self.clock()
        with self.db.session() as s:
            s.add(F(email=email, ip=ip[:64], created_at=now))
            s.execute(delete(F).where(F.created_at <= now - self.window))

    def succeeded(self, email: str) -> None:
        """A right password clears the account's failures (not the IP's)."""
        with self.db.session() as s:
            s.execute(delete(F).where(F.email == email))
