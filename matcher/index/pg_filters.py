"""Hard filters as SQL over the pgvector table's filter columns, with Catalog.mask's semantics.

Each row carries the columns Catalog.mask reads (published, active, sector, size, service level,
country, region key, point). `where_clause` turns a Filters into one SQL condition that admits
exactly the rows Catalog.mask admits (tests/index/test_pgvector_filters.py checks the two agree on
random data), so a filtered search in PostgreSQL never returns a row the engine would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matcher.domain import LEVELS, SECTORS, SIZES, Filters, Organisation
from matcher.geo import EARTH_RADIUS_KM
from matcher.places import region_key

INTERNATIONAL = LEVELS.index("international")
NATIONAL = LEVELS.index("national")
STATE = LEVELS.index("state")

# name, SQL type; the order of RowAttributes' fields and of the COPY columns
COLUMNS: tuple[tuple[str, str], ...] = (
    ("org_id", "text"),
    ("published", "boolean NOT NULL DEFAULT true"),
    ("active", "boolean NOT NULL DEFAULT true"),
    ("sector", "smallint NOT NULL DEFAULT -1"),
    ("size", "smallint NOT NULL DEFAULT -1"),
    ("level", "smallint NOT NULL DEFAULT 0"),
    ("country", "text NOT NULL DEFAULT ''"),
    ("region", "text NOT NULL DEFAULT ''"),
    ("lat", "double precision"),
    ("lon", "double precision"),
)


@dataclass(frozen=True)
class RowAttributes:
    """What the hard filters read of one organisation (as Catalog._set_row derives it)."""

    org_id: str | None = None
    published: bool = True
    active: bool = True
    sector: int = -1
    size: int = -1
    level: int = 0
    country: str = ""
    region: str = ""
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, org: Organisation) -> RowAttributes:
        has_point = org.lat is not None and org.lon is not None
        return cls(
            org_id=org.id,
            published=org.published,
            active=org.active,
            sector=SECTORS.index(org.sector.value),
            size=SIZES.index(org.size.value) if org.size else -1,
            level=LEVELS.index(org.service_level.value) if org.service_level else 0,
            country=(org.country or "").upper(),
            region=region_key(org.region),
            lat=org.lat if has_point else None,
            lon=org.lon if has_point else None,
        )

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name, _ in COLUMNS)


def place_keys_sql() -> str:
    """A stored generated column: the keys a country or region filter looks up in one GIN index
    ('c:US', 'r:or'; 'nat' and 'nat:US' for a national body, 'intl' for an international one),
    so "in the region, or serving the whole country, or the world" is one indexable test."""
    return (
        "text[] GENERATED ALWAYS AS (ARRAY['c:' || country, 'r:' || region]"
        f" || CASE WHEN level = {NATIONAL} THEN ARRAY['nat', 'nat:' || country]"
        " ELSE ARRAY[]::text[] END"
        f" || CASE WHEN level = {INTERNATIONAL} THEN ARRAY['intl'] ELSE ARRAY[]::text[] END"
        ") STORED"
    )


# Region partitioning (PgVectorStore(partition_by_region=True)): LIST partitions on a stored
# `part` column, so a region filter reads the region's own partition and the wide one only.
WIDE = "*"  # national and international bodies: region filters (of their country) admit them
NO_REGION = "-"  # bodies with no region that serve no country or world: no region filter does


def partition_key(level: int, region: str) -> str:
    """The partition of a row: WIDE, NO_REGION or 'r:' + its region key."""
    if level in (NATIONAL, INTERNATIONAL):
        return WIDE
    return f"r:{region}" if region else NO_REGION


# partition_key in SQL, over a row's (staged) level and region columns
PARTITION_SQL = (
    f"CASE WHEN level IN ({NATIONAL}, {INTERNATIONAL}) THEN '{WIDE}' "
    f"WHEN region = '' THEN '{NO_REGION}' ELSE 'r:' || region END"
)


def region_partitions(filters: Filters | None) -> list[str] | None:
    """The partitions that can hold a row the filters admit (None: any may). A region filter
    admits rows in the region (its partition; national and international ones are in WIDE)
    or national or international (WIDE): exactly where_clause's region condition."""
    if filters is None or not filters.region:
        return None
    region = region_key(filters.region)
    return sorted({partition_key(-1, region), WIDE})  # -1: the level of no body


def _distance_km(params: dict[str, Any]) -> str:
    """Haversine distance from the filter's point, as matcher.geo.haversine_many computes it."""
    params["near_lat"], params["near_lon"] = params.pop("_near")
    return (
        f"2 * {EARTH_RADIUS_KM!r} * asin(least(1.0, sqrt("
        "power(sin((radians(lat) - radians(%(near_lat)s)) / 2), 2)"
        " + cos(radians(%(near_lat)s)) * cos(radians(lat))"
        " * power(sin(radians(lon - %(near_lon)s) / 2), 2))))"
    )


# the indexed filter columns, written so the planner cannot use their indexes: the HNSW path
# must walk the graph, not scan another index and sort (same rows, no-op expressions)
OPAQUE = {
    "sector": "(sector + 0)",
    "level": "(level + 0)",
    "country": "(country || '')",
    "region": "(region || '')",
    "place_keys": "(place_keys || ARRAY[]::text[])",
}


def where_clause(
    filters: Filters | None,
    *,
    include_unpublished: bool = False,
    include_all: bool = False,
    opaque: bool = False,
    partitioned: bool = False,
) -> tuple[str, dict[str, Any]]:
    """(SQL condition, psycopg parameters) admitting exactly the rows Catalog.mask admits;
    `include_all` with no filters admits every stored row (the plain VectorIndex view);
    `opaque` keeps the planner off the filter columns' B-tree indexes; `partitioned` adds the
    partition-key test a region filter implies (region_partitions), so the planner prunes."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    c = OPAQUE if opaque else {name: name for name in OPAQUE}
    if include_all and filters is None:
        return "TRUE", params
    if not include_unpublished:
        conds.append("published")
    if filters is None or not filters.include_inactive:
        conds.append("active")
    if filters is None:
        return " AND ".join(conds) or "TRUE", params
    if filters.sectors:
        conds.append(f"{c['sector']} = ANY(%(sectors)s)")
        params["sectors"] = [SECTORS.index(s.value) for s in filters.sectors]
    if filters.sizes:
        conds.append("size = ANY(%(sizes)s)")
        params["sizes"] = [SIZES.index(s.value) for s in filters.sizes]
    international = f"{c['level']} = {INTERNATIONAL}"
    in_country = "TRUE"
    country = filters.country.upper() if filters.country else None
    if country:
        in_country = f"{c['country']} = %(country)s"
        params["country"] = country
        # in the country, or international (place_keys_sql)
        conds.append(f"{c['place_keys']} && %(country_keys)s")
        params["country_keys"] = [f"c:{country}", "intl"]
    nationwide = f"(({c['level']} = {NATIONAL} AND {in_country}) OR {international})"
    in_region = "FALSE"
    if filters.region:
        in_region = f"{c['region']} = %(region)s"
        params["region"] = region_key(filters.region)
        # in the region, or national (in the filter's country when it has one), or international
        conds.append(f"{c['place_keys']} && %(region_keys)s")
        params["region_keys"] = [
            f"r:{params['region']}",
            f"nat:{country}" if country else "nat",
            "intl",
        ]
    parts = region_partitions(filters) if partitioned else None
    if parts is not None:  # implied by the region condition above: the same rows, pruned
        conds.append("part = ANY(%(parts)s)")
        params["parts"] = parts
    if filters.exclude_ids:
        conds.append("(org_id IS NULL OR org_id <> ALL(%(exclude)s))")
        params["exclude"] = list(filters.exclude_ids)
    if filters.near is not None and filters.radius_km is not None:
        params["_near"] = (float(filters.near[0]), float(filters.near[1]))
        distance = _distance_km(params)
        params["radius_km"] = float(filters.radius_km)
        statewide = f"({c['level']} = {STATE} AND {in_region})"
        if filters.near_region and not filters.region:
            # a state-level body serves a point in its state (Catalog.mask decides the limited)
            params["near_region"] = region_key(filters.near_region)
            statewide = f"({c['level']} = {STATE} AND {c['region']} = %(near_region)s)"
        conds.append(
            f"(coalesce({distance} <= %(radius_km)s, false) OR {nationwide} OR {statewide})"
        )
    return " AND ".join(conds) or "TRUE", params
