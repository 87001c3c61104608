"""In-memory columns of the indexed organisations: exact filters and fast lookups.

The database is the truth; a Catalog mirrors what the indexes hold so hard filters are applied
exactly (never approximately) over every stored organisation, and candidates can be scored
without a database round trip.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from matcher import capabilities
from matcher.causes import CauseSpace
from matcher.coarse_rows import CoarseRows
from matcher.domain import LEVELS, SECTORS, SERVED_REGIONS_MAX, SIZES, Filters, Organisation
from matcher.geo import EARTH_RADIUS_KM, haversine_many
from matcher.places import region_key

logger = logging.getLogger(__name__)
# the masks kept between writes take at most this much memory (16 masks at least)
MASKS_KEPT_BYTES = 32_000_000
FOCUS_SLOTS = 4  # focus areas of a row used as evidence (the first ones given)


class Profile:
    """An organisation plus what scoring needs of it, computed on first use (only candidates
    that get scored pay for it; a 100k catalog builds without reading every mission)."""

    __slots__ = ("org", "_offers", "_needs", "_inferred")

    def __init__(self, org: Organisation):
        self.org = org
        self._offers: dict[str, str] | None = None
        self._needs: dict[str, str] | None = None
        self._inferred = False

    @property
    def offers(self) -> dict[str, str]:
        """Capability -> the phrase it came from."""
        if self._offers is None:
            offers = capabilities.canonical(self.org.offers)
            inferred = False
            if not offers:
                # No list of offers (e.g. registry imports): read them from the mission.
                offers = capabilities.canonical(capabilities.phrases(self.org.description))
                inferred = True
            self._inferred = inferred
            self._offers = offers
        return self._offers

    @property
    def offers_inferred(self) -> bool:
        _ = self.offers
        return self._inferred

    @property
    def needs(self) -> dict[str, str]:
        if self._needs is None:
            self._needs = capabilities.canonical(self.org.needs)
        return self._needs


def make_profile(org: Organisation) -> Profile:
    return Profile(org)


# Reads the organisations of some vector ids from the database (absent ids left out).
ProfileLoader = Callable[[Sequence[int]], dict[int, Organisation]]
# Per-row arrays derived from `pks`, not saved in a snapshot.
_DERIVED = frozenset({"pks_", "pos_of_pk_", "cause_idx_", "cause_p_", "written_"})


class Catalog:
    """Columns aligned by position; `pks[i]` is the vector id of row i.

    Columns are kept up to date by every write (callers hold the engine's write lock), so reads
    never mutate anything but the profile cache and may run concurrently. A catalog made
    `from_snapshot` has its columns but reads each organisation from the database when first
    asked for it (`profile`, `prefetch`), so opening an index does not read every profile.
    """

    def __init__(self, dimension: int):
        self.dimension = dimension
        self._profiles: list[Profile | None] = []
        self._ids: list[str | None] = []  # org id by position, None for removed rows
        self._loader: ProfileLoader | None = None
        self.pks: list[int] = []
        self._pos: dict[int, int] = {}
        self._by_id: dict[str, int] = {}
        self._vectors = np.zeros((0, dimension), dtype=np.float32)
        self._n = 0
        self.alive_ = np.zeros(0, dtype=bool)
        self.published_ = np.zeros(0, dtype=bool)
        self.sector_ = np.zeros(0, dtype=np.int8)
        self.size_ = np.zeros(0, dtype=np.int8)
        self.active_ = np.zeros(0, dtype=bool)
        # service level as LEVELS index (0 = local, also when none is given)
        self.level_ = np.zeros(0, dtype=np.int8)
        self.lat_ = np.zeros(0)
        self.lon_ = np.zeros(0)
        # country and region as small integer codes (0 = none): exact filters compare ints
        self.country_ = np.zeros(0, dtype=np.int32)
        self.region_ = np.zeros(0, dtype=np.int32)
        self._codes: dict[str, dict[str, int]] = {
            "country": {"": 0},
            "region": {"": 0},
            "focus": {"": 0},
        }
        # each row's focus areas as codes of distinct phrases (0 = none), FOCUS_SLOTS per row
        self.focus_codes_ = np.zeros((0, FOCUS_SLOTS), dtype=np.int32)
        # the only regions a row serves, as region codes (0 = none; all 0: not limited)
        self.served_ = np.zeros((0, SERVED_REGIONS_MAX), dtype=np.int32)
        self.pks_ = np.zeros(0, dtype=np.int64)
        self.pos_of_pk_ = np.zeros(0, dtype=np.int64)
        # a large catalog's coarse copy of its vectors (`fit_coarse`), kept in step by writes
        self.coarse_: CoarseRows | None = None
        # each row's top causes and their probabilities, when a cause space is set
        self.cause_space: CauseSpace | None = None
        self.cause_idx_ = np.zeros((0, 0), dtype=np.int32)
        self.cause_p_ = np.zeros((0, 0), dtype=np.float32)
        # when each row was last written by this catalog (0: as loaded from a snapshot): what
        # is derived from a row (the scoring columns) is valid while its stamp is unchanged
        self.written_ = np.zeros(0, dtype=np.int64)
        self._writes = 0
        # masks every request reads again (the live rows, each sector's), while no row is
        # written: (self._writes, key) -> read-only mask
        self._masks: dict[tuple[int, object], np.ndarray] = {}
        self._masks_lock = threading.Lock()  # requests read masks from several threads

    def __len__(self) -> int:
        return len(self._by_id)

    # writes -------------------------------------------------------------------------------
    def upsert(self, pks: Sequence[int], orgs: Sequence[Organisation], vectors: np.ndarray) -> None:
        touched: list[int] = []
        for pk, org, vec in zip(pks, orgs, vectors, strict=True):
            pos = self._pos.get(pk)
            if pos is None:
                pos = self._append_slot(pk)
            else:
                old_id = self._id_at(pos)
                if old_id is not None and old_id != org.id:
                    self._by_id.pop(old_id, None)
            self._profiles[pos] = make_profile(org)
            self._ids[pos] = org.id
            self._vectors[pos] = vec
            self._by_id[org.id] = pos
            touched.append(pos)
        self._project(touched)
        self._grow_columns()
        self._stamp(touched)
        for pos in touched:
            self._set_row(pos)
        if self.cause_space is not None and touched:
            idx, prob = self.cause_space.sparse(self._vectors[touched])
            self.cause_idx_[touched] = idx
            self.cause_p_[touched] = prob

    def set_vectors(self, pks: Sequence[int], vectors: np.ndarray) -> None:
        """Replace the vectors of these rows (call `set_cause_space` after, if causes are set)."""
        positions = [self._pos[pk] for pk in pks]
        self._vectors[positions] = vectors
        self._project(positions)

    def fit_coarse(self) -> None:
        """Keep a coarse copy of the vectors (matcher.coarse_rows), fitted on them now."""
        self.coarse_ = CoarseRows.fit(self.vectors, capacity=self._vectors.shape[0])

    def _project(self, positions: list[int]) -> None:
        if self.coarse_ is not None:
            self.coarse_.set_rows(positions, self._vectors[positions], self._n)

    def vectors_of(self, pks: Sequence[int]) -> np.ndarray:
        return self._vectors[[self._pos[pk] for pk in pks]]

    def set_cause_space(self, space: CauseSpace | None) -> None:
        """Use `space` (fitted on vectors centred like the catalog's), or none."""
        self.cause_space = space
        if space is None:
            self.cause_idx_ = np.zeros((self._n, 0), dtype=np.int32)
            self.cause_p_ = np.zeros((self._n, 0), dtype=np.float32)
            return
        self.cause_idx_, self.cause_p_ = space.sparse(self.vectors)

    def remove(self, pks: Sequence[int]) -> None:
        for pk in pks:
            pos = self._pos.get(pk)
            if pos is None:
                continue
            old_id = self._id_at(pos)
            if old_id is not None:
                self._by_id.pop(old_id, None)
            self._profiles[pos] = None
            self._ids[pos] = None
            self._stamp([pos])
            self._set_row(pos)

    def _stamp(self, positions: list[int]) -> None:
        if positions:
            self._writes += 1
            self.written_[positions] = self._writes

    def _append_slot(self, pk: int) -> int:
        pos = self._n
        if pos >= self._vectors.shape[0]:
            grown = np.zeros((max(1024, 2 * self._vectors.shape[0]), self.dimension), np.float32)
            grown[: self._n] = self._vectors[: self._n]
            self._vectors = grown
        self._n += 1
        self._profiles.append(None)
        self._ids.append(None)
        self.pks.append(pk)
        self._pos[pk] = pos
        return pos

    def _grow_columns(self) -> None:
        n, have = self._n, self.alive_.size
        if n == have:
            return
        extra = n - have

        def grow(a: np.ndarray, fill: object) -> np.ndarray:
            return np.concatenate([a, np.full(extra, fill, dtype=a.dtype)])

        self.alive_ = grow(self.alive_, False)
        self.published_ = grow(self.published_, False)
        self.sector_ = grow(self.sector_, -1)
        self.size_ = grow(self.size_, -1)
        self.active_ = grow(self.active_, False)
        self.level_ = grow(self.level_, 0)
        self.lat_ = grow(self.lat_, np.nan)
        self.lon_ = grow(self.lon_, np.nan)
        self.country_ = grow(self.country_, 0)
        self.region_ = grow(self.region_, 0)
        self.focus_codes_ = np.concatenate(
            [self.focus_codes_, np.zeros((extra, FOCUS_SLOTS), np.int32)]
        )
        self.served_ = np.concatenate(
            [self.served_, np.zeros((extra, SERVED_REGIONS_MAX), np.int32)]
        )
        width = self.cause_idx_.shape[1]
        self.cause_idx_ = np.concatenate([self.cause_idx_, np.zeros((extra, width), np.int32)])
        self.cause_p_ = np.concatenate([self.cause_p_, np.zeros((extra, width), np.float32)])
        self.written_ = grow(self.written_, 0)
        self._index_pks()

    def _index_pks(self) -> None:
        n = self._n
        self.pks_ = np.asarray(self.pks, dtype=np.int64)
        top = int(self.pks_.max()) + 1 if n else 0
        lookup = np.full(top, -1, dtype=np.int64)
        lookup[self.pks_] = np.arange(n, dtype=np.int64)
        self.pos_of_pk_ = lookup

    def _set_row(self, i: int) -> None:
        prof = self._profiles[i]
        if prof is None:
            self.alive_[i] = self.published_[i] = False
            return
        o = prof.org
        self.alive_[i] = True
        self.published_[i] = o.published
        self.sector_[i] = SECTORS.index(o.sector.value)
        self.size_[i] = SIZES.index(o.size.value) if o.size else -1
        self.active_[i] = o.active
        self.level_[i] = LEVELS.index(o.service_level.value) if o.service_level else 0
        has_point = o.lat is not None and o.lon is not None
        self.lat_[i] = o.lat if has_point else np.nan
        self.lon_[i] = o.lon if has_point else np.nan
        self.country_[i] = self._code("country", (o.country or "").upper())
        self.region_[i] = self._code("region", region_key(o.region))
        codes = [self._code("focus", f) for f in o.focus_areas[:FOCUS_SLOTS]]
        self.focus_codes_[i] = codes + [0] * (FOCUS_SLOTS - len(codes))
        served = [self._code("region", region_key(r)) for r in o.service_regions]
        self.served_[i] = served + [0] * (SERVED_REGIONS_MAX - len(served))

    def _code(self, column: str, value: str) -> int:
        codes = self._codes[column]
        return codes.setdefault(value, len(codes))

    # reads --------------------------------------------------------------------------------
    def region_code(self, region: str | None) -> int:
        """The code of `region` in `region_`; -1 when no row is in it, 0 for none."""
        return self._codes["region"].get(region_key(region), -1)

    def with_focus(self, phrases: Iterable[str]) -> np.ndarray:
        """Rows with any of these focus areas (compared lowercase; an industry a company list
        names, say), read-only: made once while no row is written, as the other masks (a
        request about young people asks three trades of every row: 2 ms each at 100k)."""
        wanted = frozenset(p.lower() for p in phrases)

        def make() -> np.ndarray:
            codes = [c for p, c in self._codes["focus"].items() if p.lower() in wanted]
            out = np.zeros(self.alive_.size, dtype=bool)  # a mask's length
            if codes:
                rows = min(out.size, self.focus_codes_.shape[0])
                out[:rows] = np.isin(self.focus_codes_[:rows], codes).any(axis=1)
            return out

        return self._cached(("focus", wanted), make)

    def focus_phrases(self) -> list[str]:
        """The distinct focus phrases by code (code 0: none)."""
        return list(self._codes["focus"])

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors[: self._n]

    def position_of_pk(self, pk: int) -> int | None:
        return self._pos.get(pk)

    def positions_of_pks(self, pks: np.ndarray) -> np.ndarray:
        """Vectorised pk -> position; -1 for unknown pks."""
        pks = np.asarray(pks, dtype=np.int64)
        out = np.full(pks.shape, -1, dtype=np.int64)
        ok = (pks >= 0) & (pks < self.pos_of_pk_.size)
        out[ok] = self.pos_of_pk_[pks[ok]]
        return out

    def position_of_id(self, org_id: str) -> int | None:
        return self._by_id.get(org_id)

    def profile(self, pos: int) -> Profile:
        prof = self._profiles[pos]
        if prof is None:
            self.prefetch([pos])
            prof = self._profiles[pos]
            if prof is None:
                raise KeyError(pos)
        return prof

    @property
    def profiles(self) -> list[Profile | None]:
        """Every row's profile by position (None for removed rows); reads any not yet read."""
        self.prefetch(range(self._n))
        return list(self._profiles)

    def prefetch(self, positions: Sequence[int] | np.ndarray) -> None:
        """Read the profiles of these live rows that are not in memory yet, in one query."""
        if self._loader is None:
            return
        want = [int(p) for p in positions if self._profiles[p] is None and self.alive_[p]]
        if not want:
            return
        found = self._loader([self.pks[p] for p in want])
        for p in want:
            org = found.get(self.pks[p])
            if org is None:
                logger.warning("organisation with vector id %d is no longer stored", self.pks[p])
                continue
            # a list item is replaced atomically: concurrent readers see None or the profile
            self._profiles[p] = make_profile(org)

    def _id_at(self, pos: int) -> str | None:
        return self._ids[pos]

    def ids_by_position(self) -> list[str | None]:
        """The organisation id of every row (None for removed rows)."""
        return list(self._ids)

    # snapshot -----------------------------------------------------------------------------
    def _row_columns(self) -> list[str]:
        """The per-row columns `_set_row` fills: every array attribute named `x_` (one row per
        organisation; some, like the focus codes, several values a row)."""
        return sorted(
            k
            for k, v in vars(self).items()
            if k.endswith("_") and k not in _DERIVED and isinstance(v, np.ndarray) and v.ndim >= 1
        )

    def snapshot(self) -> dict[str, Any]:
        """Columns, code tables and ids (by position) of every row; profiles are not kept.
        `from_snapshot` with the same vectors rebuilds an equal catalog."""
        n = self._n
        return {
            "pks": self.pks_[:n].copy(),
            "columns": {k: getattr(self, k)[:n].copy() for k in self._row_columns()},
            "codes": {k: dict(v) for k, v in self._codes.items()},
            "ids": list(self._ids),
        }

    @classmethod
    def from_snapshot(
        cls, dimension: int, snap: dict[str, Any], vectors: np.ndarray, loader: ProfileLoader
    ) -> Catalog | None:
        """A catalog of the snapshot's rows whose profiles `loader` reads on demand; None when
        the snapshot was made by a catalog with other columns (rebuild from rows then)."""
        cat = cls(dimension)
        columns: dict[str, np.ndarray] = snap["columns"]
        pks = np.asarray(snap["pks"], dtype=np.int64)
        n = int(pks.size)
        if sorted(columns) != cat._row_columns() or set(snap["codes"]) != set(cat._codes):
            return None
        if vectors.shape != (n, dimension) or len(snap["ids"]) != n:
            return None
        if any(
            columns[k].shape != (n, *getattr(cat, k).shape[1:])
            or columns[k].dtype != getattr(cat, k).dtype
            for k in columns
        ):
            return None
        cat._n = n
        cat.pks = pks.tolist()
        cat._pos = {pk: i for i, pk in enumerate(cat.pks)}
        cat._ids = [None if oid is None else str(oid) for oid in snap["ids"]]
        cat._by_id = {oid: i for i, oid in enumerate(cat._ids) if oid is not None}
        cat._profiles = [None] * n
        cat._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not cat._vectors.flags.writeable:
            cat._vectors = np.array(cat._vectors)
        for k, v in columns.items():
            # kept as given: memory-mapped copy-on-write columns stay mapped until written
            setattr(cat, k, v if isinstance(v, np.ndarray) and v.flags.writeable else np.array(v))
        cat._codes = {k: dict(v) for k, v in snap["codes"].items()}
        cat.cause_idx_ = np.zeros((n, 0), dtype=np.int32)
        cat.cause_p_ = np.zeros((n, 0), dtype=np.float32)
        cat.written_ = np.zeros(n, dtype=np.int64)
        cat._index_pks()
        cat._loader = loader
        return cat

    def mask(self, filters: Filters | None, *, include_unpublished: bool = False) -> np.ndarray:
        """Boolean mask of rows that satisfy every hard filter exactly.

        Place filters apply to the area an organisation serves: a national body passes a region
        (or radius) filter in its country, an international one passes every place filter, a
        state-level one passes a radius filter given with its region. One limited to some
        regions (`service_regions`) passes a region filter for those regions only (its own
        included only when listed), and a radius filter given with one of them. Under a radius
        filter alone it passes when it serves the point's region (`near_region`), or, that
        unknown, when its office is within the radius: never as nationwide. A state-level body
        passes a radius filter around a point in its state (`near_region`) as well.
        """
        inactive = filters is not None and filters.include_inactive
        m = self._base_mask(include_unpublished, inactive).copy()
        if filters is None:
            return m
        if filters.sectors:
            m &= self.sector_mask(tuple(sorted({SECTORS.index(s.value) for s in filters.sectors})))
        if filters.sizes:
            m &= np.isin(self.size_, [SIZES.index(s.value) for s in filters.sizes])
        country = None
        if filters.country:
            country = self._codes["country"].get(filters.country.upper(), -1)
            m &= self._in_country(country)
        region = None
        if filters.region:
            region = self.region_code(filters.region)
            m &= self._in_region_or_serving(country, region)
        if filters.exclude_ids:
            for oid in filters.exclude_ids:
                pos = self._by_id.get(oid)
                if pos is not None:
                    m[pos] = False
        if filters.near is not None and filters.radius_km is not None:
            close = self.within(filters.near, filters.radius_km)
            if region is not None:  # (a region filter has placed the limited bodies above)
                m &= close | self._wide_or_statewide(country, region, region)
            elif filters.near_region:
                near = self.region_code(filters.near_region)
                close = (close & ~self._limited()) | self._serving(near)
                m &= close | self._wide_or_statewide(country, None, near)
            else:
                m &= close | self._wide_or_statewide(country, None, None)
        return m

    # the place filters' parts over every row, each made once between writes (a request
    # filters by the same country and state several times, once per role)

    def _level(self, level: str) -> np.ndarray:
        return self._cached(("level", level), lambda: self.level_ == LEVELS.index(level))

    def _in_country(self, country: int) -> np.ndarray:
        """Rows in the country (code), or international."""
        return self._cached(
            ("country", country),
            lambda: (self.country_ == country) | self._level("international"),
        )

    def _nationwide(self, country: int | None) -> np.ndarray:
        """National bodies of the country (any, with no country filter) and international ones."""

        def make() -> np.ndarray:
            national = self._level("national")
            if country is not None:
                national = national & (self.country_ == country)
            return national | self._level("international")

        return self._cached(("nationwide", country), make)

    def _in_region(self, region: int) -> np.ndarray:
        """Rows of the region (code) that are not limited to listed regions."""
        return self._cached(
            ("in region", region), lambda: (self.region_ == region) & ~self._limited()
        )

    def _wide_serving(self, country: int | None, region: int | None) -> np.ndarray:
        """Bodies that serve every place of a region filter (or, with none, of a radius):
        nationwide ones not limited to listed regions, and those that list the region."""

        def make() -> np.ndarray:
            wide = self._nationwide(country) & ~self._limited()
            return wide | self._serving(region) if region is not None else wide

        return self._cached(("wide serving", country, region), make)

    def _in_region_or_serving(self, country: int | None, region: int) -> np.ndarray:
        return self._cached(
            ("region filter", country, region),
            lambda: self._in_region(region) | self._wide_serving(country, region),
        )

    def _wide_or_statewide(
        self, country: int | None, region: int | None, state: int | None
    ) -> np.ndarray:
        """What passes a radius filter wherever the point is: the bodies serving the region
        filter's area (or nationwide ones), and state-level bodies of the point's state."""

        def make() -> np.ndarray:
            out = self._wide_serving(country, region).copy()
            if state is not None:
                out |= self._level("state") & self._in_region(state)
            return out

        return self._cached(("radius wide", country, region, state), make)

    def _limited(self) -> np.ndarray:
        """Rows limited to some regions (service_regions), read-only."""
        return self._cached("limited", lambda: self.served_[:, 0] != 0)

    def _serving(self, code: int) -> np.ndarray:
        """Rows limited to some regions, one of them `code`, read-only (only the few limited
        rows are read: the whole table is 20 columns of every row)."""

        def make() -> np.ndarray:
            out = np.zeros(self.served_.shape[0], dtype=bool)
            rows = np.flatnonzero(self._limited())
            out[rows] = (self.served_[rows] == code).any(axis=1)
            return out

        return self._cached(("serving", code), make)

    def _cached(
        self, key: object, make: Callable[[], np.ndarray], *, per_row: bool = True
    ) -> np.ndarray:
        """A mask made once while no row is written (read-only: callers copy it). `per_row`:
        one value a row (made again when the rows grew); else any array, keyed by the row
        count too."""
        full = (self._writes, key if per_row else (key, self.alive_.size))
        with self._masks_lock:
            got = self._masks.pop(full, None)  # put back last: the least used go first
            if got is not None and not (per_row and got.size != self.alive_.size):
                self._masks[full] = got
                return got
        got = make()  # (outside the lock: a mask may be made of others)
        got.setflags(write=False)
        keep = max(16, min(256, MASKS_KEPT_BYTES // max(1, self.alive_.size)))
        with self._masks_lock:
            masks = {k: v for k, v in self._masks.items() if k[0] == full[0]}
            if len(masks) >= keep:  # the least used go first
                masks = dict(list(masks.items())[len(masks) - keep + 1 :])
            masks[full] = got
            self._masks = masks
        return got

    def _base_mask(self, include_unpublished: bool, include_inactive: bool) -> np.ndarray:
        """The live rows (published, active, unless asked to include the others)."""

        def make() -> np.ndarray:
            m = self.alive_.copy()
            if not include_unpublished:
                m &= self.published_
            if not include_inactive:
                m &= self.active_
            return m

        return self._cached(("base", include_unpublished, include_inactive), make)

    def sector_mask(self, sectors: tuple[int, ...]) -> np.ndarray:
        """Rows of these sectors (indexes in SECTORS), read-only."""

        def make() -> np.ndarray:
            wanted = np.zeros(len(SECTORS) + 1, dtype=bool)  # index -1 (none) stays False
            wanted[list(sectors)] = True
            return np.asarray(wanted[self.sector_])

        return self._cached(("sectors", sectors), make)

    def holds_in_region(self, sectors: tuple[int, ...], region: str) -> bool:
        """Whether a live row of these sectors (indexes in SECTORS) is based in `region` (a
        US state by code or name)."""
        code = self.region_code(region)
        if code <= 0:
            return False
        return bool((self.mask(None) & self.sector_mask(sectors) & (self.region_ == code)).any())

    def countries_held(self) -> dict[str, int]:
        """How many live, published, active rows are based in each country (by its code; ""
        for none)."""
        counts = np.bincount(self.country_[self._base_mask(False, False)])
        return {c: int(counts[i]) for c, i in self._codes["country"].items() if i < counts.size}

    def sectors_held(self) -> list[int]:
        """Indexes (in SECTORS) of the sectors of the live, published, active rows."""
        # not one value a row: the row-count check of a mask would make it every call
        held = self._cached(
            ("held",),
            lambda: np.unique(self.sector_[self._base_mask(False, False)]),
            per_row=False,
        )
        return [int(i) for i in held if i >= 0]

    def within(self, point: tuple[float, float], radius_km: float) -> np.ndarray:
        """Rows with a point at most `radius_km` from `point` (great-circle). Only the rows of
        the latitude band that can be that close are measured: two points' great-circle
        distance is at least the earth's radius times their difference in latitude."""
        band_deg = math.degrees(radius_km / EARTH_RADIUS_KM) * (1 + 1e-9) + 1e-9
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero(np.abs(self.lat_ - point[0]) <= band_deg)  # NaN: never
        out = np.zeros(self.lat_.size, dtype=bool)
        if near.size:
            d = haversine_many(point[0], point[1], self.lat_[near], self.lon_[near])
            with np.errstate(invalid="ignore"):
                out[near] = np.nan_to_num(d, nan=np.inf) <= radius_km
        return out

    def distances(self, point: tuple[float, float]) -> np.ndarray:
        return haversine_many(point[0], point[1], self.lat_, self.lon_)

    def pk_array(self) -> np.ndarray:
        return self.pks_
