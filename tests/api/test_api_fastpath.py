"""The light response path: the record queue (read-through, bounds, shutdown), the response
serialised once from the domain objects, and shedding load with 503 under overload."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from api_support import hdr, quiet_api_settings, sample_needs
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.recordqueue import PendingRecord, RecordQueue
from api.schemas import (
    CoalitionPublic,
    MatchPublic,
    OfferedElsewherePublic,
    RecommendationPublic,
)
from api.views import recommendation_json, recommendation_view
from matcher.domain import Coalition, Match, OfferedElsewhere, Recommendation
from matcher.engine import Engine
from matcher.errors import OverloadedError
from matcher.store.models import RecommendationRow

NEED = {"text": "Food bank needs refrigerated vans and volunteers", "city": "Leeds"}


# the response body --------------------------------------------------------------------------
def test_public_schema_mirrors_the_domain_objects() -> None:
    """recommendation_json dumps the domain objects as the public body: their fields (names
    and types; every field is always dumped) must stay the same, or the API would leak or lose
    a field."""
    pairs = (
        (Match, MatchPublic),
        (Coalition, CoalitionPublic),
        (OfferedElsewhere, OfferedElsewherePublic),
    )
    for domain, public in pairs:
        mine = {k: str(f.annotation) for k, f in domain.model_fields.items()}
        theirs = {k: str(f.annotation) for k, f in public.model_fields.items()}
        theirs = {
            k: v.replace("api.schemas.MatchPublic", "matcher.domain.Match").replace(
                "api.schemas.OfferedElsewherePublic", "matcher.domain.OfferedElsewhere"
            )
            for k, v in theirs.items()
        }
        assert mine == theirs, domain.__name__
    rec_fields = set(Recommendation.model_fields) - {"need"}
    assert rec_fields == set(RecommendationPublic.model_fields) - {"recommendation_id", "need_id"}


@pytest.mark.parametrize("need_id", [None, 'need_"quoted"\\'])
def test_fast_body_equals_the_validated_public_model(engine: Engine, need_id: str | None) -> None:
    rec = engine.recommend(sample_needs(3)[2], limit=5)
    assert rec.results and rec.coalition.members
    fast = json.loads(recommendation_json(rec, "rec_0123", need_id=need_id))
    slow = recommendation_view(rec, "rec_0123", need_id=need_id).model_dump(mode="json")
    assert fast == slow
    RecommendationPublic.model_validate(fast)


# the record queue, alone ----------------------------------------------------------------------
def _record(i: int, rec: Recommendation) -> PendingRecord:
    return PendingRecord(f"rec_{i}", datetime.now(UTC), rec, rec.need, None)


def test_queue_is_bounded_readable_and_flushed_on_stop(engine: Engine) -> None:
    rec = engine.recommend(sample_needs(1)[0], limit=3)
    release = threading.Event()
    written: list[str] = []

    def slow_writer(batch: list[PendingRecord]) -> None:
        release.wait(10)
        written.extend(r.id for r in batch)

    queue = RecordQueue(
        slow_writer, batch_size=3, flush_seconds=0, put_timeout=0.2, stall_seconds=0.1
    )
    queue.start()
    for i in range(3):  # one in the stuck write, two waiting: the bound
        queue.submit(_record(i, rec))
    with pytest.raises(OverloadedError):
        queue.submit(_record(3, rec))
    assert queue.full and queue.stalled and len(queue) == 3
    assert all(queue.get(f"rec_{i}") is not None for i in range(3))  # readable while queued
    release.set()
    assert queue.flush(5)
    assert written == ["rec_0", "rec_1", "rec_2"] and not queue.full and not queue.stalled
    assert queue.get("rec_0") is None
    queue.submit(_record(4, rec))
    queue.stop()
    assert written[-1] == "rec_4" and len(queue) == 0


def test_queue_retries_a_failed_write_and_keeps_the_record_readable(engine: Engine) -> None:
    rec = engine.recommend(sample_needs(1)[0], limit=3)
    calls: list[int] = []

    def flaky(batch: list[PendingRecord]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database is locked")

    queue = RecordQueue(flaky, batch_size=4, flush_seconds=0, retry_seconds=0.05)
    queue.start()
    queue.submit(_record(1, rec))
    assert queue.flush(5)
    assert calls == [1, 1] and queue.failures == 1 and queue.written == 1
    queue.stop()


# the record queue, in the app ---------------------------------------------------------------
@pytest.fixture()
def slow_flush_app(engine: Engine) -> Iterator[tuple[FastAPI, TestClient, str]]:
    """An app whose record queue would wait 10 s to write: what is read comes from the queue."""
    app = create_app(engine.settings, quiet_api_settings(record_flush_ms=10_000), engine=engine)
    with TestClient(app) as client:
        key = app.state.api.keys.create("fastpath reader", "reader")[0]
        yield app, client, key


def _stored(app: FastAPI, rec_id: str) -> bool:
    with app.state.api.records.db.session() as s:
        return (
            s.scalar(select(RecommendationRow.id).where(RecommendationRow.id == rec_id)) is not None
        )


def test_a_recommendation_is_readable_and_takes_feedback_right_after_its_response(
    slow_flush_app: tuple[FastAPI, TestClient, str],
) -> None:
    app, client, key = slow_flush_app
    r = client.post("/v1/recommendations", json=NEED, headers=hdr(key))
    assert r.status_code == 200, r.text
    body = r.json()
    rec_id, first = body["recommendation_id"], body["results"][0]
    assert not _stored(app, rec_id)  # still queued: the request did not wait for the write
    page = client.get(f"/r/{rec_id}")
    assert page.status_code == 200 and first["name"] in page.text
    fb = {"recommendation_id": rec_id, "organisation_id": first["id"], "outcome": "contacted"}
    r = client.post("/v1/feedback", json=fb, headers=hdr(key))
    assert r.status_code == 201, r.text  # feedback writes the queued record first
    assert _stored(app, rec_id)
    page = client.get(f"/r/{rec_id}")
    assert page.status_code == 200 and first["name"] in page.text


def test_leaving_the_app_writes_every_queued_recommendation(engine: Engine) -> None:
    app = create_app(engine.settings, quiet_api_settings(record_flush_ms=10_000), engine=engine)
    with TestClient(app) as client:
        key = app.state.api.keys.create("fastpath reader", "reader")[0]
        ids = [
            client.post("/v1/recommendations", json={**NEED, "limit": 2}, headers=hdr(key)).json()[
                "recommendation_id"
            ]
            for _ in range(5)
        ]
        assert not any(_stored(app, i) for i in ids)
    assert all(_stored(app, i) for i in ids)


def test_a_full_record_queue_sheds_rankings_with_503(
    slow_flush_app: tuple[FastAPI, TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client, key = slow_flush_app
    records = app.state.api.records
    monkeypatch.setattr(type(records.queue), "stalled", property(lambda _self: True))
    r = client.post("/v1/recommendations", json=NEED, headers=hdr(key))
    assert r.status_code == 503 and r.headers["Retry-After"] == "1", r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    monkeypatch.undo()
    assert client.post("/v1/recommendations", json=NEED, headers=hdr(key)).status_code == 200
