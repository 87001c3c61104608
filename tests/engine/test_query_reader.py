"""The reading stage: a need's clauses are embedded one by one, each cached by its text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.embedding.hashing import HashingEmbedder
from matcher.query_reader import QueryReader
from matcher.settings import Settings

VOLUNTEERS = "volunteers for Saturday distributions"
TRUCKS = "refrigerated trucks for deliveries"
FREEZER = "funding for a walk-in freezer with room for a month of donated produce"


class RecordingEmbedder:
    """An embedder that records every text it is asked to embed."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_name = inner.model_name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], **kw: object) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts, **kw)  # type: ignore[attr-defined,no-any-return]


def _reader(embedder: object, tmp_path: Path, **settings: object) -> QueryReader:
    return QueryReader(
        embedder,  # type: ignore[arg-type]
        Settings(data_dir=tmp_path, **settings),  # type: ignore[arg-type]
        lambda: None,
    )


def test_the_clauses_of_a_need_and_its_topic_take_one_pass(tmp_path: Path) -> None:
    """A need with place words is read twice (its topic, without them, and as written, whose
    clauses are quoted back): their clauses now go through the model in one call, a clause
    both share once. Each call costs 1-2 ms of CPU whatever its length."""
    embedder = RecordingEmbedder(HashingEmbedder())
    reader = _reader(embedder, tmp_path)
    topic = f"We need {VOLUNTEERS}, {TRUCKS}"
    written = f"We need {VOLUNTEERS} in Hartford, {TRUCKS}"
    topic_vecs, written_vecs = reader.clause_vectors_of([topic, written])
    assert embedder.calls == [
        [f"We need {VOLUNTEERS}", TRUCKS, f"We need {VOLUNTEERS} in Hartford"]
    ]
    assert topic_vecs.shape == written_vecs.shape == (2, 384)
    np.testing.assert_array_equal(topic_vecs[1], written_vecs[1])  # the shared clause
    np.testing.assert_array_equal(reader.clause_vectors(topic), topic_vecs)  # cached
    assert len(embedder.calls) == 1
    alone = _reader(RecordingEmbedder(HashingEmbedder()), tmp_path).clause_vectors(written)
    np.testing.assert_allclose(alone, written_vecs, atol=1e-6)


def test_an_engine_reads_a_need_with_place_words_in_two_passes(tmp_path: Path) -> None:
    from matcher.domain import Need
    from matcher.engine import Engine
    from matcher.need_reading import topic_text

    settings = Settings(data_dir=tmp_path, model_name="hashing-v1")
    embedder = RecordingEmbedder(HashingEmbedder())
    embedder.model_name = "recording-v1"  # not the hashing model's name: asks read by meaning
    from tests.engine.conftest import small_corpus

    engine = Engine.open(settings, embedder=embedder, load=False)  # type: ignore[arg-type]
    engine.store.upsert_organisations(small_corpus())
    engine.build()
    assert engine.meaning is not None  # the asks are read from the clauses by meaning
    need = Need(id="n", text=f"Families in Hartford, Connecticut need {VOLUNTEERS}, {TRUCKS}")
    assert "Hartford" not in topic_text(need)  # read as a place, not as topic
    embedder.calls.clear()
    engine.read_need(need)
    assert len(embedder.calls) == 2, embedder.calls  # the query, then every clause (was 3)
    engine.close()


def test_with_no_cache_nothing_is_kept(tmp_path: Path) -> None:
    embedder = RecordingEmbedder(HashingEmbedder())
    reader = _reader(embedder, tmp_path, query_cache_size=0)
    text = f"We need {VOLUNTEERS}, {TRUCKS}"
    once = reader.clause_vectors(text)
    reader.vector(text)
    calls = len(embedder.calls)
    np.testing.assert_array_equal(reader.clause_vectors(text), once)
    reader.vector(text)
    assert len(embedder.calls) == 2 * calls  # embedded again: the benchmarks measure this


def test_the_cache_keeps_at_most_its_size(tmp_path: Path) -> None:
    reader = _reader(HashingEmbedder(), tmp_path, query_cache_size=3)
    for i in range(10):
        reader.vector(f"need number {i} about food")
    assert len(reader._cache) == 3


def test_side_by_side_runs_the_spare_part_on_another_thread_when_free() -> None:
    import threading

    from matcher.query_reader import side_by_side

    here_thread: list[str] = []
    got = side_by_side(
        lambda: here_thread.append(threading.current_thread().name) or 1,
        lambda: threading.current_thread().name,
        parallel=True,
    )
    assert got[0] == 1 and got[1].startswith("query-pass") and here_thread != [got[1]]
    assert (
        side_by_side(lambda: 1, lambda: threading.current_thread().name, parallel=False)[1]
        == threading.current_thread().name
    )
    with pytest.raises(ZeroDivisionError):
        side_by_side(lambda: 1, lambda: 1 // 0, parallel=True)
    assert side_by_side(lambda: 2, lambda: 3, parallel=True) == (2, 3)  # still usable


def test_needs_read_by_many_threads_at_once_read_as_one_at_a_time(tmp_path: Path) -> None:
    """The spare thread is shared by every request of a process: 8 threads reading 40 needs
    at once (some finding it busy, some not) get exactly the vectors read one by one."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"We need {VOLUNTEERS} for site {i}, {TRUCKS} and {FREEZER} {i}" for i in range(40)]
    alone = _reader(HashingEmbedder(), tmp_path, parallel_query_passes=False)
    want = [alone.need_vectors(t) for t in texts]
    shared = _reader(HashingEmbedder(), tmp_path, query_cache_size=0, parallel_query_passes=True)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: shared.need_vectors(t, parallel=True), texts))
    for (q, c), (wq, wc) in zip(got, want, strict=True):
        np.testing.assert_array_equal(q, wq)
        np.testing.assert_array_equal(c, wc)


def test_an_engine_reads_on_two_threads_only_as_the_one_ranking_in_progress(
    tmp_path: Path,
) -> None:
    """On an idle server one request's need is read on two cores (p50 28.0 -> 20.5 ms at
    100k); with rankings running beside it both cores are busy, and the spare thread would only
    slow them (4-7% fewer requests/s with 16 clients)."""
    from matcher.domain import Need
    from matcher.engine import Engine

    seen: list[int] = []

    class Counting(HashingEmbedder):
        def encode(self, texts: Sequence[str], **kw: object) -> np.ndarray:
            seen.append(engine.rankings.now)
            return super().encode(texts)

    settings = Settings(data_dir=tmp_path, model_name="hashing-v1")
    engine = Engine.open(settings, embedder=Counting(), load=False)
    from tests.engine.conftest import small_corpus

    engine.store.upsert_organisations(small_corpus())
    engine.build()
    need = Need(id="n", text=f"We need {VOLUNTEERS}, {TRUCKS}")
    assert engine._reads_in_parallel()  # nothing in progress
    seen.clear()
    engine.recommend(need)
    assert seen and set(seen) == {1}  # counted while it ran
    assert engine.rankings.now == 0
    with engine.rankings, engine.rankings:  # this one and another request
        assert not engine._reads_in_parallel()
    engine.settings.parallel_query_passes = False
    assert not engine._reads_in_parallel()
    engine.close()


class PackingEmbedder(RecordingEmbedder):
    """A recording embedder that also reads several texts in one call (`encode_packed`), each
    as on its own (the hashing embedder's vectors do not depend on their batch)."""

    packed = True
    packs = True

    def __init__(self, inner: object, *, declines: bool = False) -> None:
        super().__init__(inner)
        self.packed_calls: list[list[str]] = []
        self.wide: list[bool] = []  # whether each packed call could use two threads
        self.declines = declines  # as a row longer than the limit: None

    def encode_packed(self, texts: Sequence[str], *, wide: bool = False) -> np.ndarray | None:
        self.packed_calls.append(list(texts))
        self.wide.append(wide)
        if self.declines:
            return None
        return self.inner.encode(texts)  # type: ignore[attr-defined,no-any-return]


def test_a_need_and_its_clauses_take_one_call_when_packing_all(tmp_path: Path) -> None:
    """With packed_query_pass "one", one call into the model for a need: its text and its
    distinct clauses in one packed row (two calls cost two fixed overheads and the clauses'
    padding). The vectors are the two-call ones (to int8 noise with the real model)."""
    text = f"{VOLUNTEERS}, {TRUCKS}; {VOLUNTEERS}"
    two = RecordingEmbedder(HashingEmbedder())
    want_q, want_c = _reader(two, tmp_path, parallel_query_passes=False).need_vectors(text)
    assert len(two.calls) == 2  # as before: the need, then its clauses
    one = PackingEmbedder(HashingEmbedder())
    reader = _reader(one, tmp_path, packed_query_pass="one")
    q, clause_vecs = reader.need_vectors(text)
    assert one.calls == [] and one.packed_calls == [[text, VOLUNTEERS, TRUCKS]]
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(clause_vecs, want_c)  # the repeated clause read once
    got = reader.need_vectors(text)  # cached, both
    np.testing.assert_array_equal(got[1], want_c)
    assert len(one.packed_calls) == 1 and one.calls == []


def test_packing_keeps_two_calls_where_it_cannot_help(tmp_path: Path) -> None:
    """A one-clause need is one call already; an embedder that declines (a row too long) and
    a need whose vector is cached are read as before."""
    one = PackingEmbedder(HashingEmbedder())
    _reader(one, tmp_path, packed_query_pass="one").need_vectors(VOLUNTEERS)
    assert one.packed_calls == [] and one.calls == [[VOLUNTEERS]]
    declining = PackingEmbedder(HashingEmbedder(), declines=True)
    text = f"We need {VOLUNTEERS}, {TRUCKS}"
    reader = _reader(declining, tmp_path, parallel_query_passes=False, packed_query_pass="one")
    q, c = reader.need_vectors(text)
    assert len(declining.packed_calls) == 2  # the need and its clauses, then the clauses
    assert declining.calls == [[f"We need {VOLUNTEERS}", TRUCKS], [text]]
    assert c.shape == (2, 384)
    cached = PackingEmbedder(HashingEmbedder())
    reader = _reader(cached, tmp_path, packed_query_pass="one")  # its clauses still packed
    reader.vector(text)
    reader.need_vectors(text)
    assert cached.packed_calls == [[f"We need {VOLUNTEERS}", TRUCKS]]  # the clauses packed
    assert cached.calls == [[text]]


@pytest.mark.parametrize(("mode", "calls"), [("one", 1), ("clauses", 2)])
def test_an_engine_reads_a_need_with_place_words_packed(
    tmp_path: Path, mode: str, calls: int
) -> None:
    """The topic (place words left out), its clauses and the clauses as written (quoted back
    in the asks): one call into the model with "one", the clauses packed with "clauses"; the
    same reading as the two padded calls of before."""
    from matcher.domain import Need
    from matcher.engine import Engine
    from tests.engine.conftest import small_corpus

    need = Need(id="n", text=f"Families in Hartford, Connecticut need {VOLUNTEERS}, {TRUCKS}")
    readings = []
    for i, embedder in enumerate(
        (RecordingEmbedder(HashingEmbedder()), PackingEmbedder(HashingEmbedder()))
    ):
        embedder.model_name = "recording-v1"  # not the hashing model's name: asks by meaning
        settings = Settings(
            data_dir=tmp_path / str(i), model_name="hashing-v1", packed_query_pass=mode
        )
        engine = Engine.open(settings, embedder=embedder, load=False)  # type: ignore[arg-type]
        engine.store.upsert_organisations(small_corpus())
        engine.build()
        embedder.calls.clear()
        packed_calls = getattr(embedder, "packed_calls", [])
        packed_calls.clear()
        readings.append(engine.read_need(need))
        assert len(embedder.calls) + len(packed_calls) == (2 if i == 0 else calls)
        assert len(packed_calls) == i  # the packing embedder packs once, either way
        engine.close()
    two, one = readings
    np.testing.assert_allclose(one.query, two.query, atol=1e-6)
    np.testing.assert_allclose(one.clauses, two.clauses, atol=1e-6)
    assert one.required == two.required and one.required


def test_packing_the_clauses_reads_the_need_as_before(tmp_path: Path) -> None:
    """packed_query_pass "clauses": the query vector comes from the need's own call, exactly
    as before; its distinct clauses go through the model in one packed row instead of a padded
    batch (their vectors equal the batch's with a model whose vectors do not depend on their
    batch; to int8 noise with the real one). The default; "off" packs nothing."""
    text = f"{VOLUNTEERS}, {TRUCKS}; {FREEZER}"
    two = RecordingEmbedder(HashingEmbedder())
    want_q, want_c = _reader(two, tmp_path, parallel_query_passes=False).need_vectors(text)
    packing = PackingEmbedder(HashingEmbedder())
    reader = _reader(packing, tmp_path, parallel_query_passes=False, packed_query_pass="clauses")
    q, c = reader.need_vectors(text)
    assert packing.calls == [[text]] and packing.packed_calls == [[VOLUNTEERS, TRUCKS, FREEZER]]
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(c, want_c)
    off = PackingEmbedder(HashingEmbedder())
    unpacked = _reader(off, tmp_path, parallel_query_passes=False, packed_query_pass="off")
    unpacked.need_vectors(text)
    assert off.packed_calls == [] and len(off.calls) == 2
    assert Settings(data_dir=tmp_path).packed_query_pass == "clauses"  # the default


def test_the_one_request_in_flight_reads_its_packed_need_on_two_threads(tmp_path: Path) -> None:
    """With packed_query_pass "one" a need is one call, which `side_by_side` cannot split: the
    request alone on a server asks for the two-thread call instead; beside another request, or
    while the spare core is taken, one thread (two would take the other request's core)."""
    from matcher import query_reader

    text = f"We need {VOLUNTEERS}, {TRUCKS}"
    one = PackingEmbedder(HashingEmbedder())
    reader = _reader(one, tmp_path, packed_query_pass="one", query_cache_size=0)
    reader.need_vectors(text, parallel=True)
    reader.need_vectors(text, parallel=False)
    assert query_reader._SPARE_FREE.acquire(blocking=False)  # another request holds it
    try:
        reader.need_vectors(text, parallel=True)
    finally:
        query_reader._SPARE_FREE.release()
    assert one.wide == [True, False, False]
    assert len(one.packed_calls) == 3 and one.calls == []
