"""What one alert pass writes: alerts with their notifications, and saved needs' new state
(snapshot, entrants kept for the next day's alert), a few at a time in one transaction each.

One transaction per saved need cost ~30 ms on SQLite (three commits: the alert, the outbox row,
reading it back), which with a few hundred alerts per new organisation was most of a pass.
Writes are flushed every `every` seconds or `most` alerts, so the first alerts of a long pass
are queued while the rest are still being confirmed. An alert and its notification are always
in the same transaction: one is never written without the other."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from matcher.alerts.store import Alert, NewAlert, SavedNeed, TopEntry
from matcher.engine import TopResult
from matcher.errors import ConflictError, StorageError
from matcher.notify.base import Message

if TYPE_CHECKING:
    from matcher.alerts.worker import AlertReport, AlertWorker

logger = logging.getLogger(__name__)


def notification_key(saved_id: str, day: str) -> str:
    return f"saved-need:{saved_id}:{day}"


class AlertWrites:
    def __init__(
        self, worker: AlertWorker, report: AlertReport, *, every: float = 0.2, most: int = 50
    ):
        self.worker = worker
        self.report = report
        self.every = every
        self.most = most
        self.alerts: list[NewAlert] = []
        self.states: dict[str, tuple[list[TopEntry], list[str]]] = {}
        self.names: dict[str, dict[str, str]] = {}  # saved need -> its ranking's names
        self.since: float | None = None

    def entered(
        self, saved: SavedNeed, entrants: list[str], top: list[TopEntry], ranked: list[TopResult]
    ) -> None:
        """`entrants` entered `saved`'s top results: its alert, or (alerted today already)
        they wait for the next day's."""
        now = self.worker.clock()
        if saved.last_alerted_at is not None and saved.last_alerted_at.date() >= now.date():
            saved.pending = list(dict.fromkeys([*saved.pending, *entrants]))
            self.state(saved, top, saved.pending)
            self.report.pending += len(entrants)
        else:
            self.alert(saved, list(dict.fromkeys([*saved.pending, *entrants])), top, ranked)

    def alert(
        self, saved: SavedNeed, ids: list[str], top: list[TopEntry], ranked: list[TopResult]
    ) -> None:
        day = self.worker.clock().date().isoformat()
        key = notification_key(saved.id, day) if saved.notify_to else None
        names = self.names[saved.id] = {r.id: r.name for r in ranked}
        message = message_of(saved, ids, names, key) if key else None
        self.alerts.append(NewAlert(saved, day, ids, top, key, message))
        self.states.pop(saved.id, None)
        self._started()

    def state(self, saved: SavedNeed, top: list[TopEntry], pending: list[str]) -> None:
        self.states[saved.id] = (top, list(pending))
        self._started()

    def _started(self) -> None:
        if self.since is None:
            self.since = time.monotonic()

    def flush_if_due(self) -> None:
        if self.since is not None and (
            len(self.alerts) >= self.most or time.monotonic() - self.since >= self.every
        ):
            self.flush()

    def flush(self) -> None:
        store = self.worker.saved
        if self.alerts:
            try:
                written, skipped = store.add_alerts(
                    self.alerts, at=self.worker.clock(), queue=self.worker.outbox.add
                )
            except StorageError as exc:  # a key written meanwhile (another worker): one by one
                logger.info("alerts written one by one: %s", exc)
                written, skipped = [], list(self.alerts)
            self.report.alerts.extend(written)
            for new in skipped:
                alert = self._one(new)
                if alert is not None:
                    self.report.alerts.append(alert)
        if self.states:
            store.update_states(self.states)
        self.alerts, self.states, self.names, self.since = [], {}, {}, None

    def _one(self, new: NewAlert) -> Alert | None:
        """An alert whose day may have one already (a pass that died before the cursor
        moved): its notification is queued once per key either way; None when not new."""
        w, saved = self.worker, new.saved
        try:
            alert = w.saved.add_alert(
                saved,
                day=new.day,
                organisation_ids=new.organisation_ids,
                results=new.results,
                notification_key=new.notification_key,
                at=w.clock(),
            )
            fresh = True
        except ConflictError:
            found = w.saved.alert_on(saved.id, new.day)
            if found is None:
                return None
            alert, fresh = found, False
        if alert.notification_key and saved.notify_to:
            names = self.names.get(saved.id, {})
            w.outbox.enqueue(  # once per key
                message_of(saved, alert.organisation_ids, names, alert.notification_key)
            )
        return alert if fresh else None


def message_of(saved: SavedNeed, ids: list[str], names: dict[str, str], key: str) -> Message:
    title = saved.need.title or saved.need.text
    title = " ".join(title.split())[:80]
    lines = [
        f"New partners entered the top results of your saved need '{title}':",
        "",
        *(f"- {names.get(o, o)} ({o})" for o in ids),
        "",
        f"Run it again on today's data: /saved/{saved.id}/run",
        "At most one alert a day is sent for a saved need.",
    ]
    assert saved.notify_to is not None
    return Message(
        recipient=saved.notify_to,
        subject=f"New partners for '{title[:60]}'",
        body="\n".join(lines),
        key=key,
    )
