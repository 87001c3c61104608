"""Recommendation ids carry their issue time; a reader in another process waits (bounded) for
an id that may still be in its issuer's record queue, and answers any other id at once.

Two `Records` on one database stand for two uvicorn workers: each has its own record queue, so
the reader cannot see the writer's queued records, only the database."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from api_support import sample_needs

from api.recids import (
    CLOCK_SKEW,
    ID_LENGTH,
    WRITE_SECONDS,
    in_flight_wait_seconds,
    issued_at,
    new_recommendation_id,
    wait_until,
)
from api.records import Records
from api.saved_schemas import REC_ID
from api.schemas import ID_PATTERN
from matcher.engine import Engine
from matcher.errors import NotFoundError

T = TypeVar("T")
NOW = 1_800_000_000.123  # a fixed clock (Unix seconds)
WINDOW = in_flight_wait_seconds(0.05)  # the default 50 ms flush window


# the id ---------------------------------------------------------------------------------------
def test_a_new_id_carries_its_issue_time_and_80_random_bits() -> None:
    rec_id = new_recommendation_id(NOW)
    assert len(rec_id) == ID_LENGTH == 36 <= 64  # every route takes up to 64 characters
    assert re.fullmatch(r"rec_[0-9a-f]{32}", rec_id)
    assert re.fullmatch(REC_ID, rec_id) and re.fullmatch(ID_PATTERN, rec_id)
    assert rec_id[4:16] == f"{int(NOW * 1000):012x}"
    assert issued_at(rec_id) == pytest.approx(NOW, abs=0.001)
    ids = {new_recommendation_id(NOW) for _ in range(1000)}
    assert len(ids) == 1000  # the random part differs (80 bits)
    assert len({i[16:] for i in ids}) == 1000
    assert abs((issued_at(new_recommendation_id()) or 0) - time.time()) < 1


@pytest.mark.parametrize(
    "rec_id",
    [
        "rec_1a2b3c4d5e6f7a8b",  # the old format: rec_ + 16 hex
        "rec_doesnotexist",
        "rec_" + "0" * 32 + "0",  # one digit too many
        "rec_" + "g" * 32,
        "REC_" + "0" * 32,
        "",
    ],
)
def test_other_ids_have_no_issue_time_and_never_wait(rec_id: str) -> None:
    assert issued_at(rec_id) is None
    assert wait_until(rec_id, WINDOW, now=NOW) is None


# the wait rule --------------------------------------------------------------------------------
def test_the_wait_is_two_flush_windows_plus_the_write() -> None:
    assert in_flight_wait_seconds(0.05) == pytest.approx(0.1 + WRITE_SECONDS)
    assert in_flight_wait_seconds(0) == WRITE_SECONDS


def test_only_an_id_issued_within_the_window_waits_and_never_longer_than_the_window() -> None:
    rec_id = new_recommendation_id(NOW)
    # just issued: the whole window
    assert wait_until(rec_id, WINDOW, now=NOW + 0.002) == pytest.approx(NOW + 0.002 + WINDOW)
    # issued a while ago (or on a machine whose clock is behind): until window + skew after it
    later = NOW + WINDOW + 0.1
    assert wait_until(rec_id, WINDOW, now=later) == pytest.approx(NOW + WINDOW + CLOCK_SKEW)
    # issued "in the future" by a machine whose clock is ahead, within the skew: the window
    assert wait_until(rec_id, WINDOW, now=NOW - 0.3) == pytest.approx(NOW - 0.3 + WINDOW)
    # older, or further in the future: at once
    assert wait_until(rec_id, WINDOW, now=NOW + WINDOW + CLOCK_SKEW + 0.01) is None
    assert wait_until(rec_id, WINDOW, now=NOW + 3600) is None
    assert wait_until(rec_id, WINDOW, now=NOW - CLOCK_SKEW - 0.01) is None
    # a process without a record queue writes before it answers: nothing is in flight
    assert wait_until(rec_id, 0, now=NOW) is None


# two processes' records on one database -------------------------------------------------------
FLUSH = 0.2  # seconds: long enough that the reader surely asks before the write


@pytest.fixture()
def two_workers(engine: Engine) -> Iterator[tuple[Records, Records]]:
    settings = {"batch_size": 64, "flush_seconds": FLUSH}
    writer, reader = Records(engine.store.db, settings), Records(engine.store.db, settings)
    writer.start()
    reader.start()
    try:
        yield writer, reader
    finally:
        writer.stop()
        reader.stop()


def _timed(fn: Callable[[], T]) -> tuple[T | NotFoundError, float]:
    start = time.perf_counter()
    try:
        return fn(), time.perf_counter() - start
    except NotFoundError as exc:
        return exc, time.perf_counter() - start


def test_another_processes_just_issued_id_is_waited_for(
    engine: Engine, two_workers: tuple[Records, Records]
) -> None:
    writer, reader = two_workers
    rec = engine.recommend(sample_needs(1)[0], limit=3)
    rec_id = writer.save_recommendation(rec, api_key_id=None)
    assert reader.queue is not None and reader.queue.get(rec_id) is None  # not this queue's
    found, took = _timed(lambda: reader.get_recommendation(rec_id))
    assert not isinstance(found, NotFoundError), found
    assert found.id == rec_id
    assert took < reader.in_flight_seconds + 0.5

    other = writer.save_recommendation(rec, api_key_id=None)
    org = rec.results[0].id
    fb = reader.add_feedback(
        recommendation_id=other,
        organisation_id=org,
        outcome="contacted",
        note=None,
        api_key_id=None,
    )
    assert fb.recommendation_id == other
    assert reader.ensure_stored(writer.save_recommendation(rec, api_key_id=None))


def test_a_slow_write_is_still_waited_for(
    engine: Engine, two_workers: tuple[Records, Records], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that takes a second to write (a loaded machine: the fresh-clone CI beside other
    jobs answered 404 for 8 of 32 permalinks on PostgreSQL, the wait allowing 0.25 s)."""
    writer, reader = two_workers
    assert writer.queue is not None
    write = writer.queue._write

    def slow(batch: list[Any]) -> None:
        time.sleep(1.0)
        write(batch)

    monkeypatch.setattr(writer.queue, "_write", slow)
    rec = engine.recommend(sample_needs(1)[0], limit=3)
    rec_id = writer.save_recommendation(rec, api_key_id=None)
    found, took = _timed(lambda: reader.get_recommendation(rec_id))
    assert not isinstance(found, NotFoundError), (found, took)
    assert 1.0 <= took < reader.in_flight_seconds + 0.5


@pytest.mark.parametrize("rec_id", ["rec_1a2b3c4d5e6f7a8b", "rec_doesnotexist", "x" * 64])
def test_an_id_that_cannot_be_in_flight_is_not_found_at_once(
    two_workers: tuple[Records, Records], rec_id: str
) -> None:
    _, reader = two_workers
    old = new_recommendation_id(time.time() - 60)
    for missing in (rec_id, old):
        found, took = _timed(lambda m=missing: reader.get_recommendation(m))
        assert isinstance(found, NotFoundError)
        assert took < 0.3, took  # the wait would be 1.9 s
        start = time.perf_counter()
        assert not reader.ensure_stored(missing)
        assert time.perf_counter() - start < 0.3
        with pytest.raises(NotFoundError):
            reader.add_feedback(
                recommendation_id=missing,
                organisation_id="x",
                outcome="contacted",
                note=None,
                api_key_id=None,
            )


def test_a_fresh_id_never_written_is_not_found_after_the_bounded_wait(
    two_workers: tuple[Records, Records],
) -> None:
    """A record lost with its process (kill -9 before its batch was written): 404 after the
    wait, not before and not much later."""
    _, reader = two_workers
    assert reader.in_flight_seconds == pytest.approx(2 * FLUSH + WRITE_SECONDS)
    found, took = _timed(lambda: reader.get_recommendation(new_recommendation_id()))
    assert isinstance(found, NotFoundError)
    assert reader.in_flight_seconds - 0.02 <= took < reader.in_flight_seconds + 0.5, took


def test_without_a_record_queue_nothing_waits(engine: Engine) -> None:
    records = Records(engine.store.db)
    assert records.in_flight_seconds == 0
    found, took = _timed(lambda: records.get_recommendation(new_recommendation_id()))
    assert isinstance(found, NotFoundError) and took < 0.3
