"""Within reach of a need's place: the organisations a group could work with in person.

One rule for every stage that prefers partners within reach (the coalition's members, the
organisation named for help no partner shown offers): based within `REACH_SCALES` proximity
scales of the need's point (200 km at the default 50), working nationwide or wider, statewide
in the need's state, or of unknown place (nothing says it is far).
"""

from __future__ import annotations

import numpy as np

from matcher.catalog import Catalog
from matcher.domain import LEVELS, Need, ServiceLevel

WIDE = LEVELS.index(ServiceLevel.national.value)
STATE = LEVELS.index(ServiceLevel.state.value)
# how far (in proximity scales) an organisation working locally is within reach of a need
REACH_SCALES = 4.0


def reach_km(need: Need, scale_km: float) -> float | None:
    """How far from the need's point is within reach; None when the need has no point."""
    if need.lat is None or need.lon is None:
        return None
    return REACH_SCALES * scale_km


def serves_everywhere(catalog: Catalog, positions: np.ndarray, region: str | None) -> np.ndarray:
    """Which of the catalog `positions` serve anywhere in a need's state (`region`): bodies
    working nationwide or wider, and statewide ones of that state (spelled as a code or a
    name: 'WA', 'Washington')."""
    positions = np.asarray(positions, dtype=np.int64)
    level = catalog.level_[positions]
    out = level >= WIDE
    code = catalog.region_code(region) if region else -1
    if code > 0:
        out |= (level == STATE) & (catalog.region_[positions] == code)
    return out


def within_reach(
    catalog: Catalog,
    positions: np.ndarray,
    km: np.ndarray,
    reach: float | None,
    region: str | None,
) -> np.ndarray:
    """Which of the catalog `positions` (at `km` from the need's point, NaN when unknown) are
    within `reach` of the need, whose state is `region`. All of them when `reach` is None."""
    positions = np.asarray(positions, dtype=np.int64)
    if reach is None:
        return np.ones(positions.size, dtype=bool)
    km = np.asarray(km, dtype=np.float64)
    return serves_everywhere(catalog, positions, region) | np.isnan(km) | (km <= reach)


# when none is within reach, the rings tried next (multiples of the reach), nearest first
WIDER_RINGS = (2.0, 4.0)


def nearest_within_reach(
    catalog: Catalog,
    positions: np.ndarray,
    km: np.ndarray,
    reach: float | None,
    region: str | None,
) -> np.ndarray:
    """The rows to prefer: those within reach (`within_reach`); when none is, those within the
    first wider ring (`WIDER_RINGS`: 400 km, then 800 km at the default scale) that holds any;
    all of them when none does (a rural need may have no partner near). A Fargo senior
    center's coalition took meal programmes 1,935 and 1,993 km away over one 207 km away,
    since none was within 200 km (a walk on real data)."""
    if reach is not None:
        for ring in (1.0, *WIDER_RINGS):
            near = within_reach(catalog, positions, km, reach * ring, region)
            if near.any():
                return near
    return np.ones(np.asarray(positions).size, dtype=bool)
