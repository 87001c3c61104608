"""Hard filters are exact: a row passes the mask if and only if it satisfies every filter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.catalog import Catalog
from matcher.domain import LEVELS, SECTORS, SIZES, Filters, Need, Organisation, Sector
from matcher.engine import Engine
from matcher.geo import haversine_km
from matcher.places import region_key
from matcher.settings import Settings

REGIONS = ["Oregon", "Washington", "Greater Manchester", "Bristol"]
COUNTRIES = ["US", "GB"]

org_strategy = st.builds(
    lambda i, sector, size, region, country, coords, published, level, active, served: Organisation(
        id=f"o{i}",
        name=f"Org {i}",
        sector=sector,
        description="d",
        size=size,
        region=region,
        country=country,
        lat=coords[0] if coords else None,
        lon=coords[1] if coords else None,
        published=published,
        service_level=level,
        active=active,
        service_regions=served,
    ),
    i=st.integers(0, 10_000),
    sector=st.sampled_from(SECTORS),
    size=st.sampled_from([None, *SIZES]),
    region=st.sampled_from([None, *REGIONS]),
    country=st.sampled_from([None, *COUNTRIES]),
    coords=st.one_of(st.none(), st.tuples(st.floats(44, 48), st.floats(-124, -120))),
    published=st.booleans(),
    level=st.sampled_from([None, *LEVELS]),
    active=st.booleans(),
    served=st.one_of(
        st.just([]), st.lists(st.sampled_from([*REGIONS, "WA", "oregon"]), max_size=3)
    ),
)

filters_strategy = st.builds(
    Filters,
    sectors=st.lists(st.sampled_from(SECTORS), max_size=3, unique=True),
    country=st.sampled_from([None, *COUNTRIES]),
    region=st.sampled_from([None, *REGIONS, "oregon", "OR", "WA"]),
    sizes=st.lists(st.sampled_from(SIZES), max_size=2, unique=True),
    near=st.one_of(st.none(), st.tuples(st.floats(44, 48), st.floats(-124, -120))),
    include_inactive=st.booleans(),
).flatmap(
    lambda f: st.builds(
        lambda r, at: f.model_copy(
            update={"radius_km": r if f.near else None, "near_region": at if f.near else None}
        ),
        st.one_of(st.none(), st.floats(1, 400)),
        st.sampled_from([None, *REGIONS, "oregon", "WA"]),
    )
)


def satisfies(org: Organisation, f: Filters) -> bool:
    """The reference: place filters apply to the area the organisation serves."""
    if not org.published or not (org.active or f.include_inactive):
        return False
    if f.sectors and org.sector not in f.sectors:
        return False
    if f.sizes and org.size not in f.sizes:
        return False
    level = org.service_level.value if org.service_level else "local"
    if f.region and org.service_regions:  # limited to some regions: passes for those only
        served = {region_key(r) for r in org.service_regions}
        in_country = level == "international" or not f.country or org.country == f.country.upper()
        return region_key(f.region) in served and in_country and org.id not in f.exclude_ids
    if f.near is not None and f.radius_km is not None and org.service_regions:
        # a radius alone: it serves the point's region, or (that unknown) its office is close
        in_country = level == "international" or not f.country or org.country == f.country.upper()
        if f.near_region:
            close = region_key(f.near_region) in {region_key(r) for r in org.service_regions}
        else:
            close = org.lat is not None and org.lon is not None
            close = close and haversine_km(f.near[0], f.near[1], org.lat, org.lon) <= f.radius_km
        return close and in_country and org.id not in f.exclude_ids
    if level == "international":
        return org.id not in f.exclude_ids
    in_country = not f.country or org.country == f.country.upper()
    if not in_country:
        return False
    # a US state matches by name or code alike ("Oregon" = "oregon" = "OR")
    in_region = bool(f.region) and region_key(org.region) == region_key(f.region)
    if level == "national":
        return org.id not in f.exclude_ids
    if f.region and not in_region:
        return False
    if org.id in f.exclude_ids:
        return False
    if f.near is not None and f.radius_km is not None:
        point_state = bool(f.near_region) and region_key(org.region) == region_key(f.near_region)
        if level == "state" and (in_region or (point_state and not f.region)):
            return True
        if org.lat is None or org.lon is None:
            return False
        return haversine_km(f.near[0], f.near[1], org.lat, org.lon) <= f.radius_km
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orgs=st.lists(org_strategy, min_size=1, max_size=40, unique_by=lambda o: o.id),
    f=filters_strategy,
    exclude=st.integers(0, 3),
)
def test_mask_is_exactly_the_filter(orgs: list[Organisation], f: Filters, exclude: int) -> None:
    f = f.model_copy(update={"exclude_ids": [o.id for o in orgs[:exclude]]})
    cat = Catalog(4)
    cat.upsert(list(range(len(orgs))), orgs, np.zeros((len(orgs), 4), np.float32))
    mask = cat.mask(f)
    for i, org in enumerate(orgs):
        assert bool(mask[i]) == satisfies(org, f), (org, f)


def _random_orgs(
    seed: int, n: int, *, prefix: str = "m", words: tuple[str, ...] = ()
) -> list[Organisation]:
    """Organisations of every sector, size, level and place, some limited to listed regions
    (`words`: each description six of them, else "d")."""
    import random

    rnd = random.Random(seed)
    return [
        Organisation(
            id=f"{prefix}{i}",
            name=f"Org {i}",
            sector=rnd.choice(SECTORS),
            description=" ".join(rnd.choices(words, k=6)) if words else "d",
            size=rnd.choice([None, *SIZES]),
            region=rnd.choice([None, *REGIONS, "WA"]),
            country=rnd.choice([None, *COUNTRIES]),
            lat=rnd.uniform(44, 48) if i % 5 else None,
            lon=rnd.uniform(-124, -120) if i % 5 else None,
            published=rnd.random() > 0.1,
            service_level=rnd.choice([None, *LEVELS]),
            active=rnd.random() > 0.1,
            service_regions=rnd.choice([[], [], ["WA"], ["Oregon", "Bristol"]]),
        )
        for i in range(n)
    ]


def _many_filters() -> list[Filters]:
    """Every country and state filter, with and without a radius around a point of a state."""
    out = []
    for country in (None, *COUNTRIES, "FR"):
        for region in (None, *REGIONS, "WA", "Nowhere"):
            out.append(Filters(country=country, region=region))
            for near_region in (None, "Oregon", "WA"):
                out.append(
                    Filters(
                        country=country,
                        region=region,
                        near=(45.5, -122.6),
                        radius_km=60.0,
                        near_region=near_region,
                    )
                )
    return out


def test_masks_stay_exact_when_many_places_share_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request's place filter is made of parts cached between writes (each country's and
    state's rows); with more places than the cache keeps, the least used are dropped and
    made again, and every mask is still exactly the filter."""
    import matcher.catalog as catalog_module

    monkeypatch.setattr(catalog_module, "MASKS_KEPT_BYTES", 0)  # 16 masks: evictions
    orgs = _random_orgs(11, 200)
    cat = Catalog(2)
    cat.upsert(list(range(len(orgs))), orgs, np.zeros((len(orgs), 2), np.float32))
    filters = _many_filters()
    for f in [*filters, *reversed(filters)]:
        mask = cat.mask(f)
        assert [bool(x) for x in mask] == [satisfies(o, f) for o in orgs], f
        assert len(cat._masks) <= 16


def test_masks_read_by_many_threads_at_once_are_exact() -> None:
    """Requests read the cached masks from several threads: eight threads asking for every
    place filter at once, in different orders, all get exactly the filter, and none fails."""
    import threading

    orgs = _random_orgs(12, 200)
    cat = Catalog(2)
    cat.upsert(list(range(len(orgs))), orgs, np.zeros((len(orgs), 2), np.float32))
    filters = _many_filters()
    expected = [[satisfies(o, f) for o in orgs] for f in filters]
    start = threading.Barrier(8)
    failures: list[object] = []

    def work(k: int) -> None:
        start.wait()
        try:
            for rep in range(3):
                for j in range(len(filters)):
                    i = (j * (k + 1) + rep) % len(filters)
                    if [bool(x) for x in cat.mask(filters[i])] != expected[i]:
                        failures.append(filters[i])
        except Exception as exc:  # noqa: BLE001 - any failure of a thread is the test's
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_removed_rows_never_pass() -> None:
    orgs = [
        Organisation(id=f"o{i}", name="n", sector="business", description="d") for i in range(3)
    ]
    cat = Catalog(2)
    cat.upsert([10, 11, 12], orgs, np.ones((3, 2), np.float32))
    cat.remove([11])
    assert cat.mask(None).tolist() == [True, False, True]
    assert cat.position_of_id("o1") is None


@pytest.fixture(scope="module")
def random_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    words = ("food", "bank", "jobs", "training", "housing", "climate", "health", "youth", "data")
    orgs = _random_orgs(7, 300, prefix="r", words=words)
    eng = Engine.open(
        Settings(
            data_dir=tmp_path_factory.mktemp("prop") / "var",
            model_name="hashing-v1",
            exact_filter_threshold=50,
        ),
        load=False,
    )
    eng.store.upsert_organisations(orgs)
    eng.build()
    yield eng
    eng.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(f=filters_strategy, text=st.sampled_from(["food bank", "jobs training", "climate data"]))
def test_no_recommendation_ever_violates_a_filter(
    random_engine: Engine, f: Filters, text: str
) -> None:
    rec = random_engine.recommend(Need(text=text), filters=f, limit=50)
    expected = sum(satisfies(p.org, f) for p in random_engine.catalog.profiles if p is not None)
    assert len(rec.results) == min(50, expected)  # nothing allowed is lost either
    for m in rec.results:
        org = random_engine.store.get_organisation(m.id).record
        assert satisfies(org, f), (m.id, f)
    for m in rec.coalition.members:
        assert satisfies(random_engine.store.get_organisation(m.id).record, f)


def test_within_equals_measuring_every_row() -> None:
    """The radius filter measures only the latitude band that can be close enough: the same
    rows as measuring every row, near the poles, across the antimeridian, at every radius."""
    from matcher.geo import haversine_many

    rng = np.random.default_rng(3)
    n = 5_000
    cat = Catalog(2)
    cat.lat_ = rng.uniform(-90, 90, n)
    cat.lon_ = rng.uniform(-180, 180, n)
    cat.lat_[::17] = np.nan
    cat.lat_[1::50] = 89.99
    cat.lon_[2::50] = 179.99
    points = [(0.0, 0.0), (89.9, 10.0), (-89.95, -170.0), (10.0, 179.95), (45.0, -122.0)]
    for point in points:
        for radius in (0.0, 0.5, 50.0, 400.0, 3_000.0, 20_000.0):
            d = haversine_many(point[0], point[1], cat.lat_, cat.lon_)
            with np.errstate(invalid="ignore"):
                want = np.nan_to_num(d, nan=np.inf) <= radius
            np.testing.assert_array_equal(cat.within(point, radius), want, err_msg=str(point))
        # a row exactly on the radius passes (the band is not cut at its own edge)
        edge = float(np.nanmax(haversine_many(point[0], point[1], cat.lat_[:50], cat.lon_[:50])))
        assert cat.within(point, edge)[:50].sum() == np.isfinite(cat.lat_[:50]).sum()


def test_cached_masks_follow_every_write() -> None:
    """The live and per-sector masks are made once between writes: every write (a new row,
    a changed sector or flag, a removal) is seen by the next mask, and a caller changing the
    mask it got cannot change the next caller's."""
    orgs = [
        Organisation(id=f"o{i}", name="n", sector=s, description="d")
        for i, s in enumerate(["business", "government", "nonprofit"])
    ]
    cat = Catalog(2)
    cat.upsert([1, 2, 3], orgs, np.ones((3, 2), np.float32))
    business = Filters(sectors=["business"])
    got = cat.mask(business)
    assert got.tolist() == [True, False, False]
    got[:] = True  # the caller's copy
    assert cat.mask(business).tolist() == [True, False, False]
    assert cat.mask(None).tolist() == [True, True, True]
    assert cat.sectors_held() == sorted(
        SECTORS.index(s) for s in ("business", "government", "nonprofit")
    )
    cat.upsert(
        [2], [orgs[1].model_copy(update={"sector": Sector.business})], np.ones((1, 2), np.float32)
    )
    assert cat.mask(business).tolist() == [True, True, False]
    assert SECTORS.index("government") not in cat.sectors_held()
    cat.upsert([3], [orgs[2].model_copy(update={"published": False})], np.ones((1, 2), np.float32))
    assert cat.mask(None).tolist() == [True, True, False]
    assert cat.mask(None, include_unpublished=True).tolist() == [True, True, True]
    cat.upsert([4], [orgs[0].model_copy(update={"id": "o4"})], np.ones((1, 2), np.float32))
    assert cat.mask(business).tolist() == [True, True, False, True]
    cat.remove([1])
    assert cat.mask(business).tolist() == [False, True, False, True]


def test_the_sectors_held_are_counted_once_between_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sectors_held` (read by every request without a sector filter) was cached as a mask,
    and a cached mask is made again when its size is not the row count: the few sectors held
    never were, so every request ran np.unique over all rows (0.5 ms at 100k)."""
    orgs = [
        Organisation(id=f"o{i}", name="n", sector=s, description="d")
        for i, s in enumerate(["business", "business", "nonprofit"])
    ]
    cat = Catalog(2)
    cat.upsert([1, 2, 3], orgs, np.ones((3, 2), np.float32))
    calls = 0
    unique = np.unique

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return unique(*args, **kwargs)

    monkeypatch.setattr(np, "unique", counted)
    held = [SECTORS.index("business"), SECTORS.index("nonprofit")]
    assert cat.sectors_held() == held and cat.sectors_held() == held
    assert calls == 1
    gov = Organisation(id="o4", name="n", sector="government", description="d")
    cat.upsert([4], [gov], np.ones((1, 2), np.float32))  # a write: counted again
    assert SECTORS.index("government") in cat.sectors_held()
    assert calls == 2


def test_a_statewide_body_serves_a_point_in_its_state() -> None:
    """A need in Bennington searched within 30 km: Vermont's statewide association (Montpelier,
    about 150 km) serves it; New Hampshire's (Concord, about 100 km) and a Vermont local body
    in Burlington do not."""

    def org(i: str, level: str, region: str, lat: float, lon: float) -> Organisation:
        return Organisation(
            id=i, name=i, sector="nonprofit", description="d", region=region, country="US",
            lat=lat, lon=lon, service_level=level,
        )  # fmt: skip

    orgs = [
        org("vt-state", "state", "VT", 44.26, -72.58),
        org("nh-state", "state", "NH", 43.21, -71.54),
        org("vt-local", "local", "VT", 44.48, -73.21),
        org("near-local", "local", "VT", 42.88, -73.20),
    ]
    cat = Catalog(2)
    cat.upsert(list(range(len(orgs))), orgs, np.ones((len(orgs), 2), np.float32))
    bennington = (42.88, -73.20)
    for point_state, want in ((None, ["near-local"]), ("VT", ["vt-state", "near-local"])):
        f = Filters(near=bennington, radius_km=30, near_region=point_state)
        assert [orgs[i].id for i in np.flatnonzero(cat.mask(f))] == want
        assert [o.id for o in orgs if satisfies(o, f)] == want
