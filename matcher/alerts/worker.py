"""The alert worker: follows the organisations' change log from a stored cursor, screens each
changed organisation against every saved need in one matrix product, confirms the candidates
by ranking them again as `recommend` ranks them (`Engine.top` with the saved filters and the
need's stored reading: nothing is embedded) and compares with the snapshot.

At most one alert per saved need per day (UTC): an organisation entering after the day's alert
is kept as pending and named in the next one (`flush_pending`, run on every pass). An alert
goes to the inbox (`alerts` table) and, when the saved need has an address, to the
notification outbox with the key `saved-need:<id>:<day>`, both in one transaction
(matcher.alerts.writes), and queued once even when the change is read again after a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from matcher.alerts.screen import ScreenMatrix, bar_of
from matcher.alerts.store import Alert, Change, SavedNeed, SavedNeeds, TopEntry
from matcher.alerts.writes import AlertWrites, notification_key  # noqa: F401 (re-exported)
from matcher.domain import Recommendation, utcnow
from matcher.embedding.published import embedder_floor
from matcher.engine import Engine, NeedReading, TopResult, query_text
from matcher.notify.outbox import Outbox
from matcher.score import relevance_floor

logger = logging.getLogger(__name__)

CURSOR = "alerts"
CHUNK = 64  # saved needs read from the database at a time in a pass


def top_of(rec: Recommendation) -> list[TopEntry]:
    return [TopEntry(m.id, round(m.score, 4), m.relevance) for m in rec.results]


def entries(results: list[TopResult]) -> list[TopEntry]:
    """`Engine.top`'s list as snapshot entries (the same as `top_of` of the recommendation)."""
    return [TopEntry(r.id, r.score, r.relevance) for r in results]


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
        return relevance_floor(
            e.settings.relevance_floor, e.embedder.model_name, embedder_floor(e.embedder)
        )

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
            self.saved.set_vector(saved.id, model, self.engine.embed_query(query_text(saved.need)))
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
        writes = AlertWrites(self, report)
        # identical needs and filters: one ranking. Only the ranked list is compared, so the
        # confirmation is `Engine.top` (no per-sector lists, coalition or reasons), with the
        # need as read when it was saved (not embedded again). Saved needs are read a chunk
        # at a time in the screen's order (those the organisation clears the bar of by most
        # first), so the first alerts are written before the last candidates are even read.
        cache: dict[str, list[TopResult]] = {}
        masks: dict[str, np.ndarray] = {}  # hard filters of this pass, by effective filters
        order = list(cands)
        for start in range(0, len(order), CHUNK):
            chunk = self.saved.many(order[start : start + CHUNK])
            self._read(chunk)
            by_id = {s.id: s for s in chunk}
            for sid in order[start : start + CHUNK]:
                saved = by_id.get(sid)
                if saved is None:
                    continue  # deleted meanwhile
                orgs = self.engine.admitted(saved.need, saved.filters, list(cands[sid]), masks)
                if not orgs:
                    continue
                key = _group_key(saved)
                ranked = cache.get(key)
                if ranked is None:
                    ranked = self._top(saved)
                    cache[key] = ranked
                    report.confirmed += 1
                top = entries(ranked)
                before = {e.id for e in saved.snapshot}
                entrants = [e.id for e in top if e.id in orgs and e.id not in before]
                if entrants:
                    writes.entered(saved, entrants, top, ranked)
                    self.matrix.set_bar(saved.id, bar_of(_with(saved, top), self.floor))
                writes.flush_if_due()
        writes.flush()

    def _top(self, saved: SavedNeed) -> list[TopResult]:
        return self.engine.top(
            saved.need, filters=saved.filters, limit=saved.limit, reading=saved.reading
        )

    def _read(self, saved_needs: list[SavedNeed]) -> None:
        """Give every saved need a reading made under the engine's model and mean (read now,
        and stored, for the ones saved before readings were kept or under another model)."""
        key = self.engine.reading_key()
        made: dict[str, NeedReading] = {}
        for saved in saved_needs:
            if saved.reading is None or saved.reading.key != key:
                saved.reading = made[saved.id] = self.engine.read_need(saved.need)
        self.saved.set_readings(made)

    def flush_pending(self, report: AlertReport) -> None:
        """Alert the saved needs whose entrants waited for a new day (if still in the top)."""
        now = self.clock()
        waiting = [
            s
            for s in self.saved.with_pending()
            if s.last_alerted_at is None or s.last_alerted_at.date() < now.date()
        ]
        if not waiting:
            return
        self._read(waiting)
        writes = AlertWrites(self, report)
        for saved in waiting:
            ranked = self._top(saved)
            report.confirmed += 1
            top = entries(ranked)
            still = [o for o in saved.pending if o in {e.id for e in top}]
            if not still:
                writes.state(saved, top, [])
            else:
                writes.alert(saved, still, top, ranked)
            writes.flush_if_due()
        writes.flush()


def _with(saved: SavedNeed, top: list[TopEntry]) -> SavedNeed:
    saved.snapshot = top
    return saved


def _group_key(saved: SavedNeed) -> str:
    need = saved.need.model_dump_json(exclude={"id", "created_at", "owner", "status"})
    filters = saved.filters.model_dump_json() if saved.filters else ""
    return f"{need}|{filters}|{saved.limit}"
