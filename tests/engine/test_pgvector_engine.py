"""The engine with vector_backend='pgvector': vectors and filter columns in PostgreSQL, the
same recommendations as the in-process back end, writes and reopening followed. Skips without
a PostgreSQL server with pgvector (MATCHER_TEST_POSTGRES_URL; .ci/run provides both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as SettingsError

from matcher.domain import Filters, Need
from matcher.engine import Engine
from matcher.errors import ExtensionMissingError
from matcher.index.factory import PG_TABLE_PREFIX
from matcher.index.filtered import DenseHits
from matcher.index.pgvector import PgVectorIndex
from matcher.settings import Settings
from tests.engine.conftest import PORTLAND, small_corpus
from tests.index.support_pgvector import NO_PGVECTOR
from tests.support_databases import pg_schema_url

NEEDS = [
    Need(id="n-food", text="Families go hungry; we need fresh food and volunteers"),
    Need(id="n-jobs", text="Young people need job training and apprenticeships"),
    Need(id="n-data", text="We need an evaluation of our community programme with data"),
]
FILTERS = [
    None,
    Filters(sectors=["business", "nonprofit"]),
    Filters(region="Oregon"),
    Filters(near=PORTLAND, radius_km=50),
    Filters(sectors=["government"], country="US"),
]


def ranked(engine: Engine, need: Need, f: Filters | None) -> list[str]:
    return [m.id for m in engine.recommend(need, filters=f, limit=20).results]


@pytest.fixture(params=["plain", "region"])
def engines(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, Engine, Settings]]:
    """(pgvector engine on PostgreSQL, faiss engine on SQLite, the pgvector settings); its
    table plain or partitioned by region."""
    with pg_schema_url("pgveng") as url:
        pg_settings = Settings(
            data_dir=tmp_path / "pg",
            model_name="hashing-v1",
            database_url=url,
            vector_backend="pgvector",
            pgvector_exact_threshold=2,  # HNSW for every filter keeping more than 2 rows
            pgvector_partition_by_region=request.param == "region",
        )
        pg = Engine.open(pg_settings, load=False)
        ref = Engine.open(Settings(data_dir=tmp_path / "ref", model_name="hashing-v1"), load=False)
        try:
            for eng in (pg, ref):
                eng.store.upsert_organisations(small_corpus())
            ref.build()
            try:
                pg.build()
            except ExtensionMissingError as exc:
                pytest.skip(f"{NO_PGVECTOR}: {exc}")
            yield pg, ref, pg_settings
        finally:
            if isinstance(pg.ann, PgVectorIndex):
                pg.ann.close()
            pg.close()
            ref.close()


def test_recommends_what_the_in_process_back_end_recommends(
    engines: tuple[Engine, Engine, Settings],
) -> None:
    pg, ref, _ = engines
    assert isinstance(pg.ann, PgVectorIndex) and pg.ann.kind == "pgvector"
    assert pg.ann.store.table == f"{PG_TABLE_PREFIX}000001" and len(pg.ann) == len(small_corpus())
    partitioned = pg.settings.pgvector_partition_by_region
    assert pg.ann.store.partition_by_region is partitioned
    assert (len(pg.ann.store.partitions()) > 1) is partitioned  # Oregon and Washington
    searched: list[str] = []
    search = pg.ann.search_filtered

    def spy(*args: Any, **kwargs: Any) -> DenseHits:
        hits = search(*args, **kwargs)
        searched.append(hits.method)
        return hits

    pg.ann.search_filtered = spy  # type: ignore[method-assign]
    for need in NEEDS:
        for f in FILTERS:
            assert ranked(pg, need, f) == ranked(ref, need, f), (need.id, f)
    assert {"exact", "hnsw"} <= set(searched), "dense retrieval went through PostgreSQL"


def test_writes_reach_the_table_and_its_filter_columns(
    engines: tuple[Engine, Engine, Settings],
) -> None:
    pg, ref, _ = engines
    oregon = Filters(region="Oregon")
    need = NEEDS[1]
    assert "jobs-sea" not in ranked(pg, need, oregon)
    for eng in (pg, ref):
        eng.update_organisation("jobs-sea", {"region": "Oregon", "city": "Salem"})
    assert "jobs-sea" in ranked(pg, need, oregon)
    assert ranked(pg, need, oregon) == ranked(ref, need, oregon)
    pk = pg.store.get_organisation("fb-pdx").pk
    assert isinstance(pg.ann, PgVectorIndex) and pk in pg.ann.ids()
    for eng in (pg, ref):
        eng.delete_organisation("fb-pdx")
    assert pk not in pg.ann.ids()
    assert "fb-pdx" not in ranked(pg, NEEDS[0], None)
    assert ranked(pg, NEEDS[0], None) == ranked(ref, NEEDS[0], None)


def test_reopening_reads_the_table_and_rebuilding_drops_old_generations(
    engines: tuple[Engine, Engine, Settings],
) -> None:
    pg, ref, settings = engines
    pg.update_organisation("uni-sea", {"region": "Oregon"})  # after the save: table moved on
    ref.update_organisation("uni-sea", {"region": "Oregon"})
    again = Engine.open(settings)
    try:
        assert isinstance(again.ann, PgVectorIndex)
        assert again.index_generation == 1, "reopened, not rebuilt"
        for f in FILTERS:
            assert ranked(again, NEEDS[2], f) == ranked(ref, NEEDS[2], f), f
        tables = []
        for _ in range(3):
            again.build()
            assert isinstance(again.ann, PgVectorIndex)
            tables = again.ann.store.sibling_tables(PG_TABLE_PREFIX)
        assert tables == [f"{PG_TABLE_PREFIX}000003", f"{PG_TABLE_PREFIX}000004"]
        assert ranked(again, NEEDS[2], None) == ranked(ref, NEEDS[2], None)
    finally:
        if isinstance(again.ann, PgVectorIndex):
            again.ann.close()
        again.close()


def test_pgvector_needs_a_postgresql_url(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="needs a PostgreSQL URL"):
        Settings(data_dir=tmp_path, vector_backend="pgvector")
    ok = Settings(data_dir=tmp_path, vector_backend="pgvector", pgvector_url="postgresql://x/y")
    assert ok.pgvector_url == "postgresql://x/y"
