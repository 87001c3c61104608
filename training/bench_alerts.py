"""`make bench`: alert latency with 10,000 saved needs.

The bundled sample corpus (data/organisations.jsonl, 1,260 profiles) is loaded into a fresh data
directory with the service's default model (MiniLM, onnx-int8 backend, as `make bench` measures
it; `--model hashing-v1` for a model-free run). 10,000 saved needs are made from the 100 sample
needs: each need alone, and each need followed by one clause of another need (100 x 99) and asked
in that other need's place, so no two are the same text and they spread over the sample's
places. Each is saved as the API saves it: a real `Engine.recommend` gives its snapshot, its
query vector is stored, it has an e-mail address for alerts.

An alert worker follows the change log in a background thread (polling every `--poll` s, reading
changed rows into its engine as a separate `matcher alerts run` would). Then organisations are
created one at a time, each offering what one sample need asks for, in that need's place; the next
is created once the worker has read the previous one. Seconds from just before
`create_organisation` until each alert it caused is queued in the notification outbox (p50/p95
over all alerts), and until the first and the last of them.

Timings share the CPU with whatever else runs: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from matcher.alerts import AlertWorker, SavedNeeds
from matcher.alerts.worker import entries
from matcher.domain import Need, Organisation
from matcher.engine import Engine, query_text
from matcher.evidence import clauses
from matcher.settings import Settings
from matcher.store.models import AlertRow, NotificationRow

logger = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parents[1] / "data"


def load_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


PLACE_FIELDS = ("place", "city", "region", "country", "lat", "lon", "radius_km")


def saved_need_texts(needs: list[Need], n: int) -> list[Need]:
    """`n` distinct needs: each sample need, then each with one clause of another appended and
    asked in that other need's place (so saved needs spread over topics and places as the
    sample needs do, rather than 100 copies of each place)."""
    out = list(needs)
    for i, base in enumerate(needs):
        for j, other in enumerate(needs):
            if len(out) >= n:
                return out[:n]
            if i == j:
                continue
            extra = clauses(other.text)[0] if clauses(other.text) else other.text
            text = f"{base.text} {extra}"[:5000]
            where = {f: getattr(other, f) for f in PLACE_FIELDS}
            out.append(base.model_copy(update={"id": f"{base.id}-{j}", "text": text, **where}))
    return out[:n]


def offering_org(need: Need, k: int) -> Organisation:
    """An organisation offering what `need` asks for, where it is asked."""
    return Organisation.model_validate(
        {
            "id": f"bench-new-{k:04d}",
            "name": f"New partner {k}",
            "sector": "nonprofit",
            "description": f"We help with this: {need.text}",
            "offers": list(need.required_capabilities),
            "city": need.city,
            "region": need.region,
            "country": need.country,
            "lat": need.lat,
            "lon": need.lon,
        }
    )


def create_saved_needs(engine: Engine, needs: list[Need], limit: int) -> float:
    started = time.perf_counter()
    store = SavedNeeds(engine.store.db)
    vectors = engine.query_vectors([query_text(n) for n in needs])  # in batches: faster
    for i, (need, vec) in enumerate(zip(needs, vectors, strict=True)):
        reading = engine.read_need(need, query_vector=vec)
        ranked = engine.top(need, limit=limit, reading=reading)
        store.create(
            need,
            None,
            limit,
            entries(ranked),
            owner=f"bench-key-{i % 50}",
            notify_to=f"group{i}@example.org",
            model=engine.embedder.model_name,
            vector=vec,
            reading=reading,
        )
        if (i + 1) % 1000 == 0:
            logger.info("%d saved needs, %.0f s", i + 1, time.perf_counter() - started)
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def run(args: argparse.Namespace) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    try:
        overrides: dict[str, object] = {"data_dir": data_dir}
        if args.model:
            overrides["model_name"] = args.model
        settings = Settings(**overrides)  # type: ignore[arg-type]
        engine = Engine.open(settings, load=False)
        orgs = [Organisation.model_validate(o) for o in load_jsonl(DATA / "organisations.jsonl")]
        t = time.perf_counter()
        engine.store.upsert_organisations(orgs)
        engine.build()
        build_s = time.perf_counter() - t
        needs = [Need.model_validate(n) for n in load_jsonl(DATA / "needs.jsonl")]
        saved_needs = saved_need_texts(needs, args.saved)
        save_s = create_saved_needs(engine, saved_needs, args.limit)
        worker = AlertWorker(engine, margin=args.margin, refresh=True)
        worker.run_once()  # loads the matrix (as a worker does when it starts)
        stop = threading.Event()
        passes: list[dict[str, object]] = []

        def follow() -> None:
            while not stop.is_set():
                report = worker.run_once()
                if report.changes:
                    passes.append(report.as_dict())
                stop.wait(args.poll)

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        first: list[float] = []
        last: list[float] = []
        every: list[float] = []
        per_change: list[int] = []
        missed = late = 0
        db = engine.store.db
        targets = [n for n in needs if n.city or n.region][: args.creations]
        for k, need in enumerate(targets):
            t0 = datetime.now(UTC)
            stored = engine.create_organisation(offering_org(need, k))
            seq = SavedNeeds(db).last_change()
            # the next creation waits until the worker has read this one (no backlog)
            deadline = time.monotonic() + args.timeout
            while SavedNeeds(db).cursor(worker.name)[0] < seq:
                if time.monotonic() > deadline:
                    late += 1
                    break
                time.sleep(0.02)
            with db.session() as s:
                queued = s.scalars(
                    select(NotificationRow.created_at)
                    .join(AlertRow, AlertRow.notification_key == NotificationRow.key)
                    .where(AlertRow.created_at >= t0)
                ).all()
            if not queued:
                missed += 1
                logger.info("no alert for %s (%s)", stored.record.id, need.id)
                continue
            waits = sorted(
                ((q if q.tzinfo else q.replace(tzinfo=UTC)) - t0).total_seconds() for q in queued
            )
            logger.info(
                "%s: %d alerts, %.2f-%.2f s", stored.record.id, len(waits), waits[0], waits[-1]
            )
            first.append(waits[0])
            last.append(waits[-1])
            every.extend(waits)
            per_change.append(len(waits))
        stop.set()
        thread.join()
        engine.close()
        calls = [int(p["recommend_calls"]) for p in passes]  # type: ignore[call-overload]
        cands = [int(p["candidates"]) for p in passes]  # type: ignore[call-overload]
        return {
            "model": settings.model_name,
            "backend": settings.embed_backend,
            "organisations": len(orgs),
            "saved_needs": len(saved_needs),
            "build_s": round(build_s, 1),
            "save_s": round(save_s, 1),
            "creations": len(targets),
            "without_alert": missed,
            "not_done_in_timeout": late,
            "alerts": len(every),
            "alerts_per_creation_median": statistics.median(per_change) if per_change else 0,
            "candidates_per_pass_median": statistics.median(cands) if cands else 0,
            "recommend_calls_per_pass_median": statistics.median(calls) if calls else 0,
            "first_alert_p50_s": round(pct(first, 50), 3),
            "first_alert_p95_s": round(pct(first, 95), 3),
            "last_alert_p50_s": round(pct(last, 50), 3),
            "last_alert_p95_s": round(pct(last, 95), 3),
            "every_alert_p50_s": round(pct(every, 50), 3),
            "every_alert_p95_s": round(pct(every, 95), 3),
            "poll_s": args.poll,
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--saved", type=int, default=10_000, help="saved needs (default 10,000)")
    p.add_argument("--creations", type=int, default=10, help="organisations created, measured")
    p.add_argument("--limit", type=int, default=10, help="top results per saved need")
    p.add_argument("--margin", type=float, default=0.1, help="the worker's screen margin")
    p.add_argument("--poll", type=float, default=0.25, help="seconds between worker passes")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait per creation")
    p.add_argument("--model", help="embedding model (default: the service's, MiniLM)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = run(args)
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"Alert latency, {out['saved_needs']:,} saved needs over {out['organisations']:,} sample "
        f"profiles ({out['model']}, {out['backend']}); worker polls every {out['poll_s']} s"
    )
    print(
        f"  setup: index build {out['build_s']} s, saving the needs (recommend + vector each) "
        f"{out['save_s']} s"
    )
    print(
        f"  {out['creations']} organisations created, {out['without_alert']} without an alert; "
        f"median {out['alerts_per_creation_median']} alerts per creation, "
        f"{out['candidates_per_pass_median']} screen candidates and "
        f"{out['recommend_calls_per_pass_median']} recommend calls per pass"
    )
    print(
        f"  {out['alerts']} alerts; creation -> each alert queued: "
        f"p50 {out['every_alert_p50_s']} s, p95 {out['every_alert_p95_s']} s"
    )
    print(
        f"  creation -> first alert queued: p50 {out['first_alert_p50_s']} s, "
        f"p95 {out['first_alert_p95_s']} s"
    )
    print(
        f"  creation -> last alert queued:  p50 {out['last_alert_p50_s']} s, "
        f"p95 {out['last_alert_p95_s']} s   (load average {out['load_average']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
