"""The pgvector back end under hard filters: SQL admits exactly what Catalog.mask admits, no
result ever violates a filter, the engine picks exact or HNSW from the admitted count, and an
HNSW search that returns too few rows falls back to an exact scan. Skips without a PostgreSQL
server with pgvector (MATCHER_TEST_POSTGRES_URL; .ci/run provides both)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from matcher.catalog import Catalog
from matcher.domain import Filters, Organisation
from matcher.errors import ArtifactMismatchError, ExtensionMissingError, StorageError
from matcher.index import filtered
from matcher.index.pg_filters import RowAttributes
from matcher.index.pg_store import PgVectorStore
from matcher.index.pgvector import PgVectorIndex
from matcher.retrieve import dense_candidates
from tests.index.support_pgvector import pgvector_indexes

DIM = 16
N = 1500
STATES = ["OR", "WA", "CA", "NY", "TX"]
SECTORS = ["business", "government", "nonprofit", "community", "academic"]
SIZES = ["micro", "small", "medium", "large", None]
LEVELS = ["local", "local", "local", "state", "national", "international", None]


def synthetic_orgs(rng: np.random.Generator) -> list[Organisation]:
    orgs = []
    for i in range(N):
        country = str(rng.choice(["US", "US", "US", "CA", "GB"]))
        has_point = rng.random() < 0.85
        orgs.append(
            Organisation(
                id=f"org-{i}",
                name=f"Org {i}",
                sector=str(rng.choice(SECTORS)),
                description="synthetic",
                region=str(rng.choice(STATES)) if country == "US" else "Somewhere",
                country=country,
                lat=float(rng.uniform(30, 48)) if has_point else None,
                lon=float(rng.uniform(-124, -70)) if has_point else None,
                size=rng.choice(SIZES),
                service_level=rng.choice(LEVELS),
                published=bool(rng.random() < 0.9),
                active=bool(rng.random() < 0.9),
            )
        )
    return orgs


def random_filters(rng: np.random.Generator) -> Filters:
    f: dict[str, object] = {}
    if rng.random() < 0.5:
        f["sectors"] = list(rng.choice(SECTORS, size=int(rng.integers(1, 3)), replace=False))
    if rng.random() < 0.3:
        f["sizes"] = [s for s in rng.choice(SIZES[:4], size=2, replace=False)]
    if rng.random() < 0.4:
        f["country"] = str(rng.choice(["US", "CA", "GB", "FR"]))
    if rng.random() < 0.4:
        f["region"] = str(rng.choice([*STATES, "Oregon", "somewhere", "Nowhere"]))
    if rng.random() < 0.3:
        f["near"] = (float(rng.uniform(32, 46)), float(rng.uniform(-120, -75)))
        f["radius_km"] = float(rng.choice([50, 300, 1200]))
    if rng.random() < 0.2:
        f["exclude_ids"] = [f"org-{int(i)}" for i in rng.integers(0, N, size=20)]
    if rng.random() < 0.2:
        f["include_inactive"] = True
    if "near" in f and rng.random() < 0.5:  # the point's state known: its statewide bodies pass
        f["near_region"] = str(rng.choice(STATES))
    return Filters.model_validate(f)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def world() -> tuple[list[Organisation], np.ndarray, Catalog]:
    rng = np.random.default_rng(11)
    orgs = synthetic_orgs(rng)
    vectors = unit(rng.standard_normal((N, DIM)))
    catalog = Catalog(DIM)
    catalog.upsert(list(range(1, N + 1)), orgs, vectors)
    return orgs, vectors, catalog


@pytest.fixture
def make_index() -> Iterator[Callable[..., PgVectorIndex]]:
    with pgvector_indexes() as make:
        yield make


@pytest.fixture(params=["plain", "region"])
def loaded(
    request: pytest.FixtureRequest,
    make_index: Callable[..., PgVectorIndex],
    world: tuple[list[Organisation], np.ndarray, Catalog],
) -> PgVectorIndex:
    """The world in one table, or partitioned by region (the same contract either way)."""
    orgs, vectors, _ = world
    index = make_index(
        DIM,
        exact_threshold=100,
        hnsw_m=8,
        ef_construction=32,
        ef_search=40,
        partition_by_region=request.param == "region",
    )
    index.upsert_rows(np.arange(1, N + 1), vectors, [RowAttributes.of(o) for o in orgs])
    return index


def admitted(catalog: Catalog, f: Filters) -> set[int]:
    return set(catalog.pk_array()[catalog.mask(f)].tolist())


def test_sql_filters_admit_exactly_what_the_catalog_admits(
    loaded: PgVectorIndex, world: tuple[list[Organisation], np.ndarray, Catalog]
) -> None:
    _, vectors, catalog = world
    rng = np.random.default_rng(7)
    sizes = []
    for _ in range(60):
        f = random_filters(rng)
        want = admitted(catalog, f)
        assert loaded.store.count_upto(f) == len(want), f
        ids, _ = loaded.store.exact(vectors[0], N, f)
        assert set(ids.tolist()) == want, f
        sizes.append(len(want))
    assert min(sizes) < 20 and max(sizes) > 500, "the random filters span narrow to broad"


def test_filtered_results_never_violate_filters(
    loaded: PgVectorIndex, world: tuple[list[Organisation], np.ndarray, Catalog]
) -> None:
    _, vectors, catalog = world
    rng = np.random.default_rng(6)
    methods = set()
    for threshold in (0, 100, 10_000):  # always HNSW, the engine's choice, always exact
        loaded.exact_threshold = threshold
        for i in range(25):
            f = random_filters(rng)
            hits = loaded.search_filtered(vectors[i], 10, f)
            methods.add(hits.method)
            assert set(hits.ids.tolist()) <= admitted(catalog, f), (f, hits.method)
            assert hits.ids.size == min(10, len(admitted(catalog, f)))
            assert (np.diff(hits.scores) <= 1e-6).all()
    assert {filtered.EXACT, filtered.APPROXIMATE} <= methods


def test_engine_chooses_exact_for_small_sets_and_hnsw_for_large(
    loaded: PgVectorIndex, world: tuple[list[Organisation], np.ndarray, Catalog]
) -> None:
    _, vectors, catalog = world
    small = Filters(sectors=["academic"], region="OR", country="US")
    large = Filters(sectors=["business", "nonprofit", "community"])
    assert len(admitted(catalog, small)) <= 100 < len(admitted(catalog, large))
    hits = loaded.search_filtered(vectors[3], 10, small)
    assert hits.method == filtered.EXACT
    exact_ids, _ = loaded.store.exact(vectors[3], 10, small)
    np.testing.assert_array_equal(hits.ids, exact_ids)
    hits = loaded.search_filtered(vectors[3], 10, large)
    assert hits.method == filtered.APPROXIMATE and hits.ids.size == 10
    exact_ids, _ = loaded.store.exact(vectors[3], 10, large)
    assert len(set(hits.ids.tolist()) & set(exact_ids.tolist())) >= 8
    # and PostgreSQL runs what was chosen: the HNSW index (of every partition) only on the
    # approximate path
    approximate = loaded.store.explain(vectors[3], 10, large, False)
    exact = loaded.store.explain(vectors[3], 10, large, True)
    assert "Order By: (embedding " in approximate and "Order By:" not in exact
    if not loaded.store.partition_by_region:
        assert f"{loaded.store.table}_hnsw" in approximate
    else:
        orders = approximate.count("Order By: (embedding ")
        assert orders == len(loaded.store.partitions()) > 1


def test_hnsw_returning_too_few_rows_falls_back_to_exact(
    make_index: Callable[..., PgVectorIndex],
    world: tuple[list[Organisation], np.ndarray, Catalog],
) -> None:
    orgs, vectors, catalog = world
    # without iterative scans the graph walk stops after ef_search rows, most filtered out
    index = make_index(DIM, exact_threshold=5, ef_search=10, iterative_scan="off", table="fb")
    index.upsert_rows(np.arange(1, N + 1), vectors, [RowAttributes.of(o) for o in orgs])
    rare = Filters(sectors=["academic"], region="TX", sizes=["large"])
    assert 5 < len(admitted(catalog, rare)) < 60
    raw, _ = index.store.approximate(vectors[0], 10, rare)
    assert raw.size < 10, "the HNSW path alone returns too few rows"
    hits = index.search_filtered(vectors[0], 10, rare)
    assert hits.method == filtered.FALLBACK and hits.ids.size == 10
    exact_ids, _ = index.store.exact(vectors[0], 10, rare)
    np.testing.assert_array_equal(hits.ids, exact_ids)


def test_attributes_follow_updates_and_plain_add_keeps_them(
    loaded: PgVectorIndex, world: tuple[list[Organisation], np.ndarray, Catalog]
) -> None:
    orgs, vectors, _ = world
    moved = orgs[0].model_copy(update={"region": "Nowhere", "country": "US", "published": True})
    moved = moved.model_copy(update={"active": True, "service_level": None})
    loaded.upsert_rows(np.array([1]), vectors[:1], [RowAttributes.of(moved)])
    nowhere = Filters(region="Nowhere", country="US")
    assert 1 in loaded.store.exact(vectors[0], 50, nowhere)[0]
    loaded.add(np.array([1]), vectors[5:6])  # a new vector only: filter columns unchanged
    ids, scores = loaded.store.exact(vectors[5], 50, nowhere)
    assert ids[0] == 1 and scores[0] == pytest.approx(1.0, abs=2e-3)


def test_a_server_without_the_extension_gives_one_clear_error(
    make_index: Callable[..., PgVectorIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_index(DIM).store.url
    monkeypatch.setattr(PgVectorStore, "EXTENSION", "vector_not_installed")
    with pytest.raises(ExtensionMissingError) as caught:
        PgVectorStore(url, DIM, table="other")
    message = str(caught.value)
    assert "'vector_not_installed' extension" in message
    assert "scripts/install-pgvector.sh" in message
    assert (
        isinstance(caught.value, StorageError) and caught.value.extension == "vector_not_installed"
    )


def test_reopening_a_table_of_another_dimension_is_refused(
    make_index: Callable[..., PgVectorIndex],
) -> None:
    index = make_index(DIM, table="dims")
    with pytest.raises(ArtifactMismatchError, match=r"halfvec\(16\).*halfvec\(8\)"):
        PgVectorStore(index.store.url, 8, table="dims")


def test_store_rejects_bad_names_and_vectors(make_index: Callable[..., PgVectorIndex]) -> None:
    index = make_index(DIM)
    with pytest.raises(ValueError, match="table name"):
        PgVectorStore(index.store.url, DIM, table="x; DROP TABLE y")
    with pytest.raises(ValueError, match="half precision"):
        index.add(np.array([1]), np.full((1, DIM), 1e6, dtype=np.float32))
    with pytest.raises(ValueError, match="16 dimensions"):
        index.store.exact(np.zeros(3, np.float32), 5)


def test_retrieval_uses_the_back_end_filters_and_the_mask_has_the_last_word(
    loaded: PgVectorIndex, world: tuple[list[Organisation], np.ndarray, Catalog]
) -> None:
    _, vectors, catalog = world
    f = Filters(sectors=["business", "nonprofit"], country="US")
    mask = catalog.mask(f)
    for threshold in (10_000, 0):  # exact in SQL, then HNSW
        loaded.exact_threshold = threshold
        pos, scores, _ = dense_candidates(
            catalog, vectors[7], mask, 10, index=loaded, exact_threshold=0, filters=f
        )
        assert mask[pos].all() and pos.size == 10
        want, _, _ = dense_candidates(catalog, vectors[7], mask, 10, index=None, exact_threshold=0)
        assert len(set(pos.tolist()) & set(want.tolist())) >= 9
        np.testing.assert_allclose(scores, catalog.vectors[pos] @ vectors[7], atol=2e-3)
    # a back end whose rows disagree with the catalog (stale filter columns) cannot leak a
    # row the mask refuses: too few allowed rows come back, and an exact scan answers
    stricter = catalog.mask(Filters(sectors=["business"], country="US", sizes=["large"]))
    pos, _, _ = dense_candidates(
        catalog, vectors[7], stricter, 10, index=loaded, exact_threshold=0, filters=f
    )
    want, _, _ = dense_candidates(catalog, vectors[7], stricter, 10, index=None, exact_threshold=0)
    assert stricter[pos].all()
    np.testing.assert_array_equal(pos, want)
