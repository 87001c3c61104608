"""What /readyz says about this process's copy of the model registry (`registry`): the
versions the pointers publish here and, as the last sync read them, in the shared registry
(PostgreSQL), when that sync ran, and the last problem a sync met (a tampered archive, a digest
mismatch, an unreachable database), so an operator sees a machine that serves another model
than the others, and why."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.registry_files import pointer_versions
from matcher.registry_sync import SyncReport


class RegistrySyncState:
    """The serving process's registry syncs, as they happen (api.state.AppState)."""

    def __init__(self) -> None:
        self.last: SyncReport | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.skipped_at: datetime | None = None  # a local writer held the lock: not synced
        self.syncs = 0
        self._lock = threading.Lock()

    def record(self, report: SyncReport | None, *, shared: bool) -> None:
        with self._lock:
            if report is None:
                if shared:
                    self.skipped_at = datetime.now(UTC)
                return
            self.last, self.syncs = report, self.syncs + 1
            if report.problems:
                self.last_error = "; ".join(report.problems)[:2000]
                self.last_error_at = report.at

    def status(self, models_dir: Path, *, shared: bool, serving: set[str]) -> dict[str, Any]:
        local = pointer_versions(models_dir)
        with self._lock:
            last = self.last
            database = dict(last.shared_pointers) if last and last.shared_pointers else None
            return {
                "shared": shared,
                "local": local,
                "database": database,
                "in_sync": (database == local) if shared and database is not None else None,
                "serving": sorted(serving),
                "syncs": self.syncs,
                "last_sync_at": last.at if last else None,
                "last_sync_seconds": round(last.seconds, 3) if last else None,
                "last_sync_problems": list(last.problems) if last else [],
                "last_error": self.last_error,
                "last_error_at": self.last_error_at,
                "skipped_at": self.skipped_at,
            }
