"""The pgvector table partitioned by region: a region filter reads its region's partition and
the wide one only, partitions are made on demand (two writers bringing the same new region both
succeed), a row that moves region moves partition and ids stay unique, and a table opens only in
the layout it was made in. The filter semantics on this layout are checked with the plain one's
tests (test_pgvector_filters.py, test_index_contract.py run on both). Skips without a PostgreSQL
server with pgvector (MATCHER_TEST_POSTGRES_URL; .ci/run provides both)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from matcher.domain import Filters
from matcher.errors import ArtifactMismatchError
from matcher.index.factory import new_vector_index
from matcher.index.pg_filters import NATIONAL, NO_REGION, WIDE, RowAttributes
from matcher.index.pg_store import PgVectorStore
from matcher.index.pgvector import PgVectorIndex
from matcher.settings import Settings
from tests.index.support_pgvector import pgvector_indexes

DIM = 8


@pytest.fixture
def make_index() -> Iterator[Callable[..., PgVectorIndex]]:
    with pgvector_indexes() as make:
        yield make


def vectors(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def at(region: str, level: int = 0, i: int = 0) -> RowAttributes:
    return RowAttributes(org_id=f"o{i}", region=region, level=level, country="US")


def scanned(plan: str) -> set[str]:
    """The tables a plan reads rows of (not the indexes nor the CTE)."""
    return set(re.findall(r"(?:Seq Scan|Heap Scan|Index Scan using \S+) on (\S+)", plan))


def test_a_region_filter_reads_its_partition_and_the_wide_one_only(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    index = make_index(DIM, partition_by_region=True, table="pr")
    regions = ["or", "wa", "ca", ""]
    attrs = [at(regions[i % 4], NATIONAL if i % 10 == 0 else 0, i) for i in range(200)]
    index.upsert_rows(np.arange(1, 201), vectors(200), attrs)
    parts = index.store.partitions()
    assert set(parts) == {"r:or", "r:wa", "r:ca", NO_REGION, WIDE}
    oregon = Filters(region="Oregon", sectors=["business"])
    want = {parts["r:or"], parts[WIDE]}
    for exact in (True, False):
        assert scanned(index.store.explain(vectors(1)[0], 10, oregon, exact)) == want
    assert scanned(index.store.explain(vectors(1)[0], 10, None, False)) == set(parts.values())
    # a count is pruned too, and the rows are those of the region and the national bodies
    admitted = {i + 1 for i, a in enumerate(attrs) if a.region == "or" or a.level == NATIONAL}
    assert index.store.count_upto(Filters(region="OR")) == len(admitted)
    assert set(index.store.exact(vectors(1)[0], 500, Filters(region="OR"))[0]) == admitted


def _race(stores: list[PgVectorStore], write: Callable[[int, PgVectorStore], None]) -> None:
    """Run `write(w, store)` for each store in a thread of its own, then close the stores."""
    threads = [threading.Thread(target=write, args=(w, s)) for w, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in stores:
        store.close()


def test_two_writers_bringing_the_same_new_regions_both_succeed(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    first = make_index(DIM, partition_by_region=True, table="race")
    # every writer its own store (own connections), all opened before the regions exist
    stores = [
        PgVectorStore(first.store.url, DIM, table="race", partition_by_region=True)
        for _ in range(6)
    ]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(w: int, store: PgVectorStore) -> None:
        ids = np.arange(w * 100 + 1, w * 100 + 41)
        attrs = [at(["new1", "new2", "new3", ""][i % 4], i=int(i)) for i in ids]
        try:
            barrier.wait(timeout=60)
            store.upsert(ids, vectors(40, w), attrs)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this one

    _race(stores, write)
    assert not errors, errors
    assert set(first.store.partitions()) == {"r:new1", "r:new2", "r:new3", NO_REGION}
    assert len(first) == 240 and np.unique(first.ids()).size == 240


def test_concurrent_replacements_of_the_same_ids_leave_one_row_each(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    first = make_index(DIM, partition_by_region=True, table="dup")
    stores = [
        PgVectorStore(first.store.url, DIM, table="dup", partition_by_region=True) for _ in range(4)
    ]
    ids = np.arange(1, 51)
    first.upsert_rows(ids, vectors(50), [at("or", i=i) for i in range(50)])
    first.upsert_rows(np.array([999]), vectors(1), [at("wa")])  # both partitions exist
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(w: int, store: PgVectorStore) -> None:
        region = ["or", "wa"][w % 2]  # half the writers move the rows to another partition
        try:
            for round_ in range(3):
                barrier.wait(timeout=60)
                store.upsert(
                    ids, vectors(50, 10 * w + round_), [at(region, i=i) for i in ids.tolist()]
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this one

    _race(stores, write)
    assert not errors, errors
    assert len(first) == 51 and np.unique(first.ids()).size == 51


def test_a_row_moves_partition_with_its_region_and_a_new_vector_keeps_it(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    index = make_index(DIM, partition_by_region=True, table="moves")
    v = vectors(3)
    index.upsert_rows(np.array([1, 2]), v[:2], [at("or"), at("wa")])
    index.upsert_rows(np.array([1]), v[:1], [at("wa")])
    assert len(index) == 2
    assert index.store.count_upto(Filters(region="OR")) == 0
    assert index.store.count_upto(Filters(region="WA")) == 2
    index.upsert_rows(np.array([1]), v[:1], [at("or", NATIONAL)])  # national: every region's
    assert index.store.count_upto(Filters(region="TX")) == 1
    index.add(np.array([1, 3]), v[1:3])  # vectors only: 1 keeps its columns, 3 gets defaults
    assert len(index) == 3 and np.unique(index.ids()).size == 3
    ids, scores = index.store.exact(v[1], 1, Filters(region="TX"))
    assert ids.tolist() == [1] and scores[0] == pytest.approx(1.0, abs=2e-3)
    assert set(index.store.partitions()) == {"r:or", "r:wa", WIDE, NO_REGION}
    index.remove(np.array([1]))
    assert index.store.count_upto(Filters(region="TX")) == 0 and len(index) == 2


def test_a_table_opens_only_in_its_layout_and_keeps_its_rows(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    plain = make_index(DIM, table="plainlayout")
    plain.upsert_rows(np.array([1, 2]), vectors(2), [at("or"), at("wa")])
    with pytest.raises(ArtifactMismatchError, match="plain.*partitioned.*partition_by_region"):
        PgVectorStore(plain.store.url, DIM, table="plainlayout", partition_by_region=True)
    parted = make_index(DIM, table="partlayout", partition_by_region=True)
    parted.upsert_rows(np.array([1]), vectors(1), [at("or")])
    with pytest.raises(ArtifactMismatchError, match="partitioned.*plain"):
        PgVectorStore(plain.store.url, DIM, table="partlayout")
    assert len(plain) == 2 and len(parted) == 1  # nothing dropped or rewritten


def test_the_setting_partitions_new_generations(tmp_path: Path) -> None:
    with pgvector_indexes() as make:
        url = make(DIM, table="probe").store.url  # skips without pgvector
        made = []
        for generation, partitioned in ((1, False), (2, True), (2, False)):
            settings = Settings(
                data_dir=tmp_path,
                database_url=url,
                vector_backend="pgvector",
                pgvector_partition_by_region=partitioned,
            )
            index = new_vector_index(settings, DIM, 10, generation=generation)
            assert isinstance(index, PgVectorIndex)
            made.append(index)
            assert index.store.partition_by_region is partitioned
            index.add(np.array([1]), vectors(1))
        # the unfinished generation 2 is rebuilt in the other layout, not refused
        assert len(made[2]) == 1
        for index in made:
            index.close()
