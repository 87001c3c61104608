"""What scoring reads of each profile, as column arrays by catalog position (`ScoreColumns`).

Per position: its offers and needs as boolean capability matrices, its focus areas, city, region
and country as codes, its service radius, the time it was updated and its column in the
partnership-history model. A position is read from its profile the first time it is a candidate,
or taken from the columns saved with the index generation (matcher.score_files). Only this
module and the ones it derives with (capabilities, meaning, offers) are in the saved columns'
recipe digest, so a change to how candidates are ranked (matcher.score_arrays) keeps every saved
generation's columns valid.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from matcher import benefits, capabilities, funding_kinds, populations, score_files
from matcher.catalog import Catalog, Profile
from matcher.domain import Sector
from matcher.meaning import CapabilityMeaning
from matcher.offers import partner_offers
from matcher.score_files import SavedScore, focus_digest, recipe_digest

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(t: datetime) -> int:
    """Microseconds since the epoch (a naive time read as UTC): exact, so ages computed from
    two of them equal `(now - t).total_seconds()` to the last bit."""
    aware = t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND


class _Codes:
    """Strings to small integer codes (0: none/empty)."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {"": 0}

    def add(self, value: str | None) -> int:
        return self.of.setdefault(value or "", len(self.of))

    def get(self, value: str | None) -> int:
        """The code of a value to compare with (-1: no row has it; 0 only for none)."""
        return self.of.get(value, -1) if value else 0


class ScoreColumns:
    """Per catalog position, the profile facts scoring reads (filled on first use, under a lock:
    requests read concurrently; or taken from the columns saved with the index generation,
    `from_saved`). Valid for one catalog, capability meaning, focus offers and history columns:
    `successor` carries the filled rows over when only the catalog's rows or the history
    columns changed. A row is filled for the catalog's `written_` stamp it had then; a row the
    catalog wrote since is filled again."""

    def __init__(
        self,
        catalog: Catalog,
        meaning: CapabilityMeaning | None,
        focus_offers: list[dict[str, str]],
        history_column: Mapping[str, int],
    ):
        self.catalog = catalog
        self.meaning = meaning
        self.focus_offers = focus_offers
        self.history_column = history_column
        n = catalog.alive_.size
        self.caps: dict[str, int] = {k: i for i, k in enumerate(capabilities.CAPABILITY_KEYS)}
        width = len(self.caps)
        self.filled_ = np.zeros(n, dtype=bool)
        self.stamp_ = np.zeros(n, dtype=np.int64)  # catalog.written_ of the row when filled
        self.offers_ = np.zeros((n, width), dtype=bool)
        self.needs_ = np.zeros((n, width), dtype=bool)
        self.n_needs_ = np.zeros(n, dtype=np.int64)
        self.inferred_ = np.zeros(n, dtype=bool)
        self.radius_ = np.full(n, np.nan)
        self.updated_us_ = np.zeros(n, dtype=np.int64)
        self.city_ = np.zeros(n, dtype=np.int32)  # lowercased
        self.region_ = np.zeros(n, dtype=np.int32)  # lowercased
        self.country_ = np.zeros(n, dtype=np.int32)  # as written
        self.focus_ = np.full((n, 0), -1, dtype=np.int32)  # distinct focus areas, -1 padded
        self.history_ = np.full(n, -1, dtype=np.int64)  # column in the history model
        self.benefits_ = np.zeros(n, dtype=np.int16)  # public benefits named (matcher.benefits)
        self.populations_ = np.zeros(n, dtype=np.int8)  # whom its name serves (populations)
        # capability -> phrase by position; rows taken from saved columns get it when explained
        self.offers: list[dict[str, str] | None] = [None] * n
        self.cities, self.regions, self.countries, self.focus = (_Codes() for _ in range(4))
        self._lock = threading.Lock()

    # what is saved with an index generation (matcher.score_files), by name
    SAVED = score_files.COLUMNS

    def matches(
        self,
        catalog: Catalog,
        meaning: CapabilityMeaning | None,
        focus_offers: list[dict[str, str]],
        history_column: Mapping[str, int],
    ) -> bool:
        return (
            catalog is self.catalog
            and meaning is self.meaning
            and focus_offers is self.focus_offers
            and history_column is self.history_column
            and catalog.alive_.size == self.filled_.size
        )

    def saved_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, list[str]], list[str]]:
        """(arrays by name, with the catalog's pks; code tables; capability keys by column)."""
        with self._lock:
            n = self.filled_.size
            arrays = {k: np.array(getattr(self, k)) for k in self.SAVED}
            arrays["filled_"] &= self.stamp_ == self.catalog.written_[:n]
            arrays["pks"] = np.asarray(self.catalog.pks_[:n], dtype=np.int64)
            codes = {
                name: list(getattr(self, name).of)
                for name in ("cities", "regions", "countries", "focus")
            }
            caps = sorted(self.caps, key=self.caps.__getitem__)
        return arrays, codes, caps

    @classmethod
    def from_saved(
        cls,
        catalog: Catalog,
        meaning: CapabilityMeaning | None,
        focus_offers: list[dict[str, str]],
        history_column: Mapping[str, int],
        saved: SavedScore,
    ) -> ScoreColumns | None:
        """Columns taken from `saved` (memory-mapped) for the catalog's rows it holds and the
        catalog has not written since; None when `saved` was made for other rows, code or
        meaning (then columns are filled from the profiles as they are needed)."""
        why = cls.unusable(catalog, meaning, focus_offers, saved)
        if why is not None:
            logger.info("saved scoring columns %s: not used", why)
            return None
        n = catalog.alive_.size
        cols = cls(catalog, meaning, focus_offers, history_column)
        cols.caps = {k: i for i, k in enumerate(saved.caps)}
        for name in cls.SAVED:
            setattr(cols, name, _rows(saved.arrays[name], getattr(cols, name), n))
        cols.filled_ = cols.filled_ & (catalog.written_ == 0)
        for name in ("cities", "regions", "countries", "focus"):
            getattr(cols, name).of = {v: i for i, v in enumerate(saved.codes[name])}
        cols._history_all()
        return cols

    @staticmethod
    def unusable(
        catalog: Catalog,
        meaning: CapabilityMeaning | None,
        focus_offers: list[dict[str, str]],
        saved: SavedScore,
    ) -> str | None:
        """Why `saved` cannot serve this catalog, code and meaning (None: it can)."""
        keys = meaning.keys_ if meaning is not None else None
        vectors = meaning.vectors_ if meaning is not None else None
        if saved.recipe != recipe_digest(keys, vectors):
            return "were made by other code or capability meaning"
        if saved.focus_count > len(focus_offers) or saved.focus_digest != focus_digest(
            focus_offers[: saved.focus_count]
        ):
            return "were made with other focus offers"
        count = saved.count
        if count > catalog.alive_.size or not np.array_equal(
            saved.arrays["pks"], catalog.pks_[:count]
        ):
            return "are of other rows than the catalog"
        return None

    @classmethod
    def successor(
        cls,
        prev: ScoreColumns | None,
        catalog: Catalog,
        meaning: CapabilityMeaning | None,
        focus_offers: list[dict[str, str]],
        history_column: Mapping[str, int],
    ) -> ScoreColumns:
        """Columns for these inputs, keeping the rows `prev` filled when they stay valid: same
        catalog (rows it wrote since are filled again) and meaning, and focus offers that only
        add focus areas to prev's."""
        cols = cls(catalog, meaning, focus_offers, history_column)
        if (
            prev is None
            or prev.catalog is not catalog
            or prev.meaning is not meaning
            or len(focus_offers) < len(prev.focus_offers)
            or focus_offers[: len(prev.focus_offers)] != prev.focus_offers
        ):
            return cols
        n = catalog.alive_.size
        with prev._lock:
            cols.caps = dict(prev.caps)
            for name in (*cls.SAVED, "stamp_", "history_"):
                setattr(cols, name, _rows(getattr(prev, name), getattr(cols, name), n, copy=True))
            cols.offers = prev.offers[:n] + [None] * max(0, n - len(prev.offers))
            for name in ("cities", "regions", "countries", "focus"):
                getattr(cols, name).of = dict(getattr(prev, name).of)
        if history_column is not prev.history_column:
            cols._history_all()
        return cols

    def _history_all(self) -> None:
        ids = self.catalog.ids_by_position()
        get = self.history_column.get
        self.history_ = np.fromiter(
            (get(i, -1) if i is not None else -1 for i in ids), np.int64, len(ids)
        )

    def cap_columns(self, keys: Sequence[str]) -> np.ndarray:
        """Columns of these capabilities (keys no row has are left out)."""
        return np.asarray([self.caps[k] for k in keys if k in self.caps], dtype=np.int64)

    def _valid(self, positions: np.ndarray) -> np.ndarray:
        return self.filled_[positions] & (
            self.stamp_[positions] == self.catalog.written_[positions]
        )

    def fill(self, positions: np.ndarray) -> None:
        """Read the profiles of the positions never seen yet (or written since)."""
        if self._valid(positions).all():
            return
        with self._lock:
            todo = np.unique(positions[~self._valid(positions)])
            if not todo.size:
                return
            # the stamps before reading: a row the catalog writes meanwhile (a caller that
            # holds no engine lock, e.g. the build) stays invalid and is filled again
            stamps = self.catalog.written_[todo].copy()
            self.catalog.prefetch(todo)
            offers = partner_offers(self.catalog, self.meaning, self.focus_offers, todo)
            for pos, off in zip(todo.tolist(), offers, strict=True):
                self._fill_row(pos, self.catalog.profile(pos), off)
            self.stamp_[todo] = stamps
            self.filled_[todo] = True

    def offers_at(self, pos: int) -> dict[str, str]:
        """Capability -> phrase of a filled row (read from its profile when the row's columns
        were taken from saved ones)."""
        got = self.offers[pos]
        if got is None:
            with self._lock:
                got = self.offers[pos]
                if got is None:
                    one = np.asarray([pos], dtype=np.int64)
                    got = partner_offers(self.catalog, self.meaning, self.focus_offers, one)[0]
                    self.offers[pos] = got
        return got

    def _column(self, key: str) -> int:
        col = self.caps.get(key)
        if col is None:  # not a capability key (none is known to occur): a column more
            col = len(self.caps)
            pad = np.zeros((self.filled_.size, 1), dtype=bool)
            self.offers_ = np.hstack([self.offers_, pad])
            self.needs_ = np.hstack([self.needs_, pad])
            self.caps[key] = col  # after the columns exist: readers look keys up first
        return col

    def _fill_row(self, pos: int, prof: Profile, offers: dict[str, str]) -> None:
        org = prof.org
        self.offers[pos] = offers
        self.offers_[pos] = False  # the row may be filled again after a write
        self.needs_[pos] = False
        self.focus_[pos] = -1
        # a key's column first: `_column` may widen the arrays, and `a[i, f()] = v` would
        # write to the array `a` was before f() ran (IndexError: a new key never got its column)
        offered = [self._column(k) for k in offers]
        if funding_kinds.lends_only(offers.get(funding_kinds.FUNDING, "")):
            # its funding only lends or invests: no cover for money to be given
            offered.append(self._column(funding_kinds.LENDS_ONLY))
        needed = [self._column(k) for k in prof.needs]
        self.offers_[pos, offered] = True
        self.needs_[pos, needed] = True
        self.n_needs_[pos] = len(prof.needs)
        self.inferred_[pos] = prof.offers_inferred
        self.radius_[pos] = np.nan if org.service_radius_km is None else org.service_radius_km
        self.updated_us_[pos] = micros(org.updated_at)
        self.city_[pos] = self.cities.add(org.city.lower() if org.city else None)
        self.region_[pos] = self.regions.add(org.region.lower() if org.region else None)
        self.country_[pos] = self.countries.add(org.country)
        codes = list(dict.fromkeys(self.focus.add(f) for f in org.focus_areas))
        if len(codes) > self.focus_.shape[1]:
            extra = len(codes) - self.focus_.shape[1]
            self.focus_ = np.hstack(
                [self.focus_, np.full((self.filled_.size, extra), -1, dtype=np.int32)]
            )
        self.focus_[pos, : len(codes)] = codes
        self.history_[pos] = self.history_column.get(org.id, -1)
        self.benefits_[pos] = benefits.of_profile(org)
        self.populations_[pos] = populations.of_name(org.name, org.sector == Sector.government)


def _rows(saved: np.ndarray, empty: np.ndarray, n: int, *, copy: bool = False) -> np.ndarray:
    """`saved` with n rows: cut, or grown with rows of `empty` (a fresh column of n rows; its
    width is used when `saved` has none: the focus column's width grows with use)."""
    have = saved.shape[0]
    if have == n:
        return np.array(saved) if copy else saved
    if have > n:
        return np.array(saved[:n])
    pad = empty[have:n]
    if saved.ndim == 2 and pad.shape[1] != saved.shape[1]:
        fill = -1 if saved.dtype.kind == "i" else 0
        pad = np.full((n - have, saved.shape[1]), fill, dtype=saved.dtype)
    return np.concatenate([saved, pad.astype(saved.dtype)])
