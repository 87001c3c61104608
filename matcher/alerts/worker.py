"""The alert worker: follows the organisations' change log from a stored cursor, screens each
changed organisation against every saved need in one matrix product, confirms the candidates
with a real `Engine.recommend` (with the saved filters) and compares with the snapshot.

At most one alert per saved need per day (UTC): an organisation entering after the day's alert
is kept as pending and named in the next one (`flush_pending`, run on every pass). An alert
goes to the inbox (`alerts` table) and, when the saved need has an address, to the
notification outbox with the key `saved-need:<id>:<day>`, so it is queued once even when a
worker dies between the two writes and the change is read again after a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from matcher.alerts.screen import ScreenMatrix, bar_of
from matcher.alerts.store import Alert, Change, SavedNeed, SavedNeeds, TopEntry
from matcher.domain import Recommendation, utcnow
from matcher.engine import Engine, TopResult, topic_text
from matcher.errors import ConflictError
from matcher.notify.base import Message
from matcher.notify.outbox import Outbox
from matcher.score import relevance_floor

logger = logging.getLogger(__name__)

CURSOR = "alerts"


def top_of(rec: Recommendation) -> list[TopEntry]:
    return [TopEntry(m.id, round(m.score, 4), m.relevance) for m in rec.results]


def entries(results: list[TopResult]) -> list[TopEntry]:
    """`Engine.top`'s list as snapshot entries (the same as `top_of` of the recommendation)."""
    return [TopEntry(r.id, r.score, r.relevance) for r in results]


def notification_key(saved_id: str, day: str) -> str:
    return f"saved-need:{saved_id}:{day}"


@dataclass
class AlertReport:
    changes: int = 0
    candidates: int = 0
    confirmed: int = 0  # recommend calls
    alerts: list[Alert] = field(default_factory=list)
    pending: int = 0  # entrants kept for the next day's alert
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "changes": self.changes,
            "candidates": self.candidates,
            "recommend_calls": self.confirmed,
            "alerts": [a.saved_need_id for a in self.alerts],
            "pending": self.pending,
            "seconds": round(self.seconds, 3),
        }


class AlertWorker:
    def __init__(
        self,
        engine: Engine,
        outbox: Outbox | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        margin: float = 0.1,
        refresh: bool = False,
        gap_seconds: float = 60.0,
        batch: int = 1000,
        name: str = CURSOR,
    ):
        self.engine = engine
        self.saved = SavedNeeds(engine.store.db)
        self.outbox = outbox if outbox is not None else Outbox(engine.store.db, clock=clock)
        self.clock = clock
        self.margin = margin
        self.refresh = refresh  # re-read changed rows into the engine (another process wrote)
        self.gap_seconds = gap_seconds
        self.batch = batch
        self.name = name
        self.matrix = ScreenMatrix(engine.embedder.dimension)
        self._signature: tuple[int, int] | None = None

    @property
    def floor(self) -> float:
        e = self.engine
        return relevance_floor(e.settings.relevance_floor, e.embedder.model_name)

    # the matrix -------------------------------------------------------------------------------
    def sync_matrix(self) -> None:
        """Follow the saved needs: new ones are appended to the matrix; after a delete (or a
        first start) it is reloaded. Vectors saved under another model are embedded again."""
        signature = self.saved.signature()
        if signature == self._signature:
            return
        after = 0
        if self._signature is not None:
            count, top = self._signature
            if signature[1] > top and signature[0] - count == self._count_after(top):
                after = top  # only additions since the last pass
        model, dim = self.engine.embedder.model_name, self.engine.embedder.dimension
        ids, vectors, stale = self.saved.vectors(model, dim, after_pk=after)
        for saved in self.saved.many(stale):
            self.saved.set_vector(saved.id, model, self.engine.embed_query(topic_text(saved.need)))
        if stale:
            ids, vectors, _ = self.saved.vectors(model, dim, after_pk=after)
        bars = {s.id: bar_of(s, self.floor) for s in self._all(ids)}
        barray = np.asarray([bars.get(i, self.floor) for i in ids])
        if after:
            self.matrix.append(ids, vectors, barray)
        else:
            self.matrix.load(ids, vectors, barray)
        self._signature = signature

    def _count_after(self, pk: int) -> int:
        return self.saved.count_after(pk)

    def _all(self, ids: list[str]) -> list[SavedNeed]:
        out: list[SavedNeed] = []
        for start in range(0, len(ids), 500):
            out.extend(self.saved.many(ids[start : start + 500]))
        return out

    # one pass ---------------------------------------------------------------------------------
    def run_once(self) -> AlertReport:
        started = time.perf_counter()
        report = AlertReport()
        self.sync_matrix()
        seq, done = self.saved.cursor(self.name)
        changes = [c for c in self.saved.changes_after(seq, self.batch) if c.seq not in done]
        report.changes = len(changes)
        if changes:
            self._process(changes, report)
            done |= {c.seq for c in changes}
            seq, done = self._advance(seq, done)
            self.saved.save_cursor(self.name, seq, done)
        self.flush_pending(report)
        report.seconds = time.perf_counter() - started
        return report

    def _advance(self, seq: int, done: set[int]) -> tuple[int, set[int]]:
        """Move the cursor over every seq done in a row. A gap (a seq not committed yet, or
        never: a rolled-back transaction) is skipped once a later change is `gap_seconds` old."""
        while True:
            while seq + 1 in done:
                seq += 1
                done.discard(seq)
            above = sorted(d for d in done if d > seq)
            if not above:
                return seq, done
            later = self.saved.changes_after(seq, 1)
            if later and later[0].seq not in done:
                return seq, done  # the gap has filled: read it next pass
            oldest = self.saved.changes_after(above[0] - 1, 1)
            if oldest and oldest[0].changed_at > self.clock() - timedelta(seconds=self.gap_seconds):
                return seq, done
            seq = above[0] - 1  # give the gap up

    def _process(self, changes: list[Change], report: AlertReport) -> None:
        org_ids = list(
            dict.fromkeys(
                c.organisation_id for c in changes if c.kind == "organisation" and c.op == "upsert"
            )
        )
        if not org_ids:
            return
        if self.refresh:
            self.engine.refresh_organisations(org_ids)
        found, vectors = self.engine.organisation_vectors(org_ids)
        cands = self.matrix.candidates(found, vectors, self.margin)
        report.candidates = sum(len(v) for v in cands.values())
        if not cands:
            return
        saved_needs = {s.id: s for s in self._all(list(cands))}
        # identical needs and filters: one ranking. Only the ranked list is compared, so the
        # confirmation is `Engine.top` (no per-sector lists, coalition or reasons)
        cache: dict[str, list[TopResult]] = {}
        for sid, orgs in cands.items():
            saved = saved_needs.get(sid)
            if saved is None:
                continue
            orgs = {o for o in orgs if self.engine.admits(saved.need, saved.filters, o)}
            if not orgs:
                continue
            key = _group_key(saved)
            ranked = cache.get(key)
            if ranked is None:
                ranked = self.engine.top(saved.need, filters=saved.filters, limit=saved.limit)
                cache[key] = ranked
                report.confirmed += 1
            top = entries(ranked)
            before = {e.id for e in saved.snapshot}
            entrants = [e.id for e in top if e.id in orgs and e.id not in before]
            if entrants:
                self._entered(saved, entrants, top, ranked, report)

    def _entered(
        self,
        saved: SavedNeed,
        entrants: list[str],
        top: list[TopEntry],
        ranked: list[TopResult],
        report: AlertReport,
    ) -> None:
        now = self.clock()
        day = now.date().isoformat()
        if saved.last_alerted_at is not None and saved.last_alerted_at.date() >= now.date():
            pending = list(dict.fromkeys([*saved.pending, *entrants]))
            self.saved.update_state(
                saved.id, snapshot=top, pending=pending, last_alerted_at=saved.last_alerted_at
            )
            report.pending += len(entrants)
        else:
            names = {r.id: r.name for r in ranked}
            ids = list(dict.fromkeys([*saved.pending, *entrants]))
            alert = self._alert(saved, day, ids, top, names, now)
            if alert is not None:
                report.alerts.append(alert)
        self.matrix.set_bar(saved.id, bar_of(_with(saved, top), self.floor))

    def _alert(
        self,
        saved: SavedNeed,
        day: str,
        ids: list[str],
        top: list[TopEntry],
        names: dict[str, str],
        now: datetime,
    ) -> Alert | None:
        key = notification_key(saved.id, day) if saved.notify_to else None
        try:
            alert = self.saved.add_alert(
                saved, day=day, organisation_ids=ids, results=top, notification_key=key, at=now
            )
            new = True
        except ConflictError:  # written before (a pass that died before the cursor moved)
            found = self.saved.alert_on(saved.id, day)
            if found is None:
                return None
            alert, new = found, False
        if alert.notification_key and saved.notify_to:
            self.outbox.enqueue(_message(saved, alert, names))  # once per key
        return alert if new else None

    def flush_pending(self, report: AlertReport) -> None:
        """Alert the saved needs whose entrants waited for a new day (if still in the top)."""
        now = self.clock()
        for saved in self.saved.with_pending():
            if saved.last_alerted_at is not None and saved.last_alerted_at.date() >= now.date():
                continue
            ranked = self.engine.top(saved.need, filters=saved.filters, limit=saved.limit)
            report.confirmed += 1
            top = entries(ranked)
            still = [o for o in saved.pending if o in {e.id for e in top}]
            if not still:
                self.saved.update_state(
                    saved.id, snapshot=top, pending=[], last_alerted_at=saved.last_alerted_at
                )
                continue
            names = {r.id: r.name for r in ranked}
            alert = self._alert(saved, now.date().isoformat(), still, top, names, now)
            if alert is not None:
                report.alerts.append(alert)


def _with(saved: SavedNeed, top: list[TopEntry]) -> SavedNeed:
    saved.snapshot = top
    return saved


def _group_key(saved: SavedNeed) -> str:
    need = saved.need.model_dump_json(exclude={"id", "created_at", "owner", "status"})
    filters = saved.filters.model_dump_json() if saved.filters else ""
    return f"{need}|{filters}|{saved.limit}"


def _message(saved: SavedNeed, alert: Alert, names: dict[str, str]) -> Message:
    title = saved.need.title or saved.need.text
    title = " ".join(title.split())[:80]
    lines = [
        f"New partners entered the top results of your saved need '{title}':",
        "",
        *(f"- {names.get(o, o)} ({o})" for o in alert.organisation_ids),
        "",
        f"Run it again on today's data: /saved/{saved.id}/run",
        "At most one alert a day is sent for a saved need.",
    ]
    assert saved.notify_to is not None
    return Message(
        recipient=saved.notify_to,
        subject=f"New partners for '{title[:60]}'",
        body="\n".join(lines),
        key=alert.notification_key or notification_key(saved.id, alert.day),
    )
