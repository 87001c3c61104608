"""Who offers the help a coalition's candidates do not: for each gap (a capability the need asks
for that none of the partners found offers), the organisation the request's hard filters allow
that offers it and whose profile is closest to the need.

The coalition draws on each role's first candidates by overall fit, so "no partner found offers
food supply" was said for a Missoula shelter's need while Missoula's food bank, 3 km away, offers
exactly that (found walking the page on real data): it matched the rest of the need less than
ten others. A capability is a gap only when no allowed organisation offers it; otherwise the
answer names the one that does, for the group to add.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher import benefits, funding_kinds
from matcher.catalog import Catalog
from matcher.coalition import asked_parts
from matcher.domain import Coalition, Match, Need, OfferedElsewhere
from matcher.geo import haversine_many
from matcher.reach import WIDE, nearest_within_reach, reach_km, serves_everywhere
from matcher.row_dot import row_dot
from matcher.score import Scored
from matcher.score_columns import ScoreColumns

# how much nearness weighs against meaning in choosing who to name (half of the choice at most:
# the nearest of several food banks, not a nearby body that barely matches the need)
NEAR_SHARE = 0.5
# a partner without coordinates, when the need has a place (as the scorer's proximity gives it)
UNKNOWN_NEARNESS = 0.2


def help_not_shown(
    required: Mapping[str, str], coalition: Coalition, by_sector: Mapping[str, Sequence[Match]]
) -> list[str]:
    """The help asked for that neither a coalition member nor a partner of the sector lists
    offers. The coalition draws on each role's first ten candidates and the sector lists show
    five, so "No member of this coalition offers volunteers; other partners found do" was said
    with no partner on the page covering volunteers (real data walk: four needs of twelve)."""
    shown = {c for ms in by_sector.values() for m in ms for c in m.covers}
    shown.update(c for c, ids in coalition.covered.items() if ids)
    return [c for c in required if c not in shown]


def offered_by_candidates(
    catalog: Catalog,
    per_role: Mapping[str, Sequence[Scored]],
    caps: Sequence[str],
    named: Mapping[str, OfferedElsewhere],
) -> dict[str, OfferedElsewhere]:
    """For each of `caps` not in `named`, the best-scored candidate of the request (above the
    relevance floor, in a role's ranking) that offers it: such help is no gap. `offered_elsewhere`
    measures closeness otherwise than the ranking's floor, and the coalition leaves out
    candidates beyond reach of the need (a Seattle job centre for a Portland need), so help
    only such a candidate offers was called a gap though one was found."""
    out: dict[str, OfferedElsewhere] = {}
    for cap in caps:
        if cap in named:
            continue
        offering = [s for ss in per_role.values() for s in ss if cap in s.offers]
        if offering:
            best = max(offering, key=lambda s: s.score)
            org = catalog.profile(best.position).org
            km = None if best.distance_km is None else round(best.distance_km, 1)
            out[cap] = OfferedElsewhere(
                id=org.id, name=org.name, sector=org.sector.value, distance_km=km
            )
    return out


def offered_elsewhere(
    catalog: Catalog,
    columns: ScoreColumns,
    gaps: Sequence[str],
    allowed: np.ndarray,
    closeness: Callable[[np.ndarray], np.ndarray],
    need: Need,
    scale_km: float,
    floor: float = -np.inf,
    asked_closeness: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    asked_benefits: benefits.AskedBenefits | None = None,
    gift_funding: bool = False,
) -> dict[str, OfferedElsewhere]:
    """capability -> the allowed organisation offering it that is closest to the need, for each
    of `gaps` some allowed row offers: by `closeness` (cosine of catalog positions to the
    need), or, for a capability in `asked_closeness`, by the cosine to the words that ask it
    ("a partner to provide hot meals" names a food bank; the whole shelter need named a house
    for families of sick children, real data walk), weighed by nearness to the need's point
    (exp(-km / scale_km); a body working nationwide or wider, or statewide in the need's state,
    is near everywhere in it), the ones within reach (`matcher.reach`) first. Only an
    organisation whose closeness to the need or to its ask reaches the relevance `floor` is
    named, as only such a partner is ever shown. Rows whose scoring columns are not filled yet
    (a data dir not built since the capability meaning changed) are not looked at.
    `gift_funding`: the ask wants money given, which an organisation that only lends does
    not offer (matcher.funding_kinds)."""
    out: dict[str, OfferedElsewhere] = {}
    keys = [g for g in gaps if g in columns.caps]
    if not keys or not allowed.any():
        return out
    rows = np.flatnonzero(allowed & columns.filled_ & catalog.alive_)
    if rows.size == 0:
        return out
    offers = np.asarray(columns.offers_[:, columns.cap_columns(keys)])[rows]
    point = (need.lat, need.lon) if need.lat is not None and need.lon is not None else None
    for j, cap in enumerate(keys):
        candidates = rows[offers[:, j]]
        if cap == benefits.CAPABILITY and asked_benefits is not None:
            # an ask naming a benefit: only a profile or programme naming it offers that help
            candidates = candidates[asked_benefits.named(columns.benefits_[candidates], candidates)]
        lends = columns.caps.get(funding_kinds.LENDS_ONLY)
        if cap == funding_kinds.FUNDING and gift_funding and lends is not None:
            # money given asked: a lender offers none (`gift_funding`, matcher.funding_kinds)
            candidates = candidates[~columns.offers_[candidates, lends]]
        close = closeness(candidates) if candidates.size else np.zeros(0, np.float32)
        by_ask = (asked_closeness or {}).get(cap)
        if by_ask is not None and candidates.size:
            asked = by_ask(candidates)
            keep = np.fmax(close, asked) >= floor
            close = asked
        else:
            keep = close >= floor
        candidates, close = candidates[keep], close[keep]
        if candidates.size == 0:
            continue
        km = np.full(candidates.size, np.nan)
        wide = catalog.level_[candidates] >= WIDE
        near = np.ones(candidates.size)
        if point is not None:
            km = haversine_many(*point, catalog.lat_[candidates], catalog.lon_[candidates])
            near = np.where(np.isnan(km), UNKNOWN_NEARNESS, np.exp(-km / scale_km))
            near[serves_everywhere(catalog, candidates, need.region)] = 1.0
        fit = np.clip(close, 0.0, None) * (1.0 - NEAR_SHARE + NEAR_SHARE * near)
        # one within reach of the need's place first: a hospital auxiliary 1,655 km away was
        # named for a Great Falls clinic's volunteer dentists (real data walk)
        reach = reach_km(need, scale_km)
        fit = np.where(
            nearest_within_reach(catalog, candidates, km, reach, need.region), fit, -np.inf
        )
        i = int(np.argmax(fit))
        org = catalog.profile(int(candidates[i])).org
        shown = None if wide[i] or np.isnan(km[i]) else round(float(km[i]), 1)
        out[cap] = OfferedElsewhere(
            id=org.id, name=org.name, sector=org.sector.value, distance_km=shown
        )
    return out


def _cosines_to(vectors: np.ndarray, v: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def cosines(positions: np.ndarray) -> np.ndarray:
        return row_dot(vectors, v, positions)

    return cosines


def ask_closeness(
    catalog: Catalog,
    caps: Sequence[str],
    required: Mapping[str, str],
    parts: Sequence[str],
    clause_vecs: np.ndarray,
) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """For each of `caps` asked in some part of the need (`asked_parts`; `clause_vecs` embeds
    `parts`), the cosine of catalog rows to those parts (their mean, at unit length)."""
    if clause_vecs.shape[0] != len(parts):
        return {}
    asked = asked_parts(required, parts)
    out: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for cap in caps:
        rows = [i for i, a in enumerate(asked) if cap in a]
        if rows:
            v = np.asarray(clause_vecs[rows].mean(axis=0), dtype=np.float32)
            v = np.ascontiguousarray(v / (float(np.linalg.norm(v)) or 1.0))
            out[cap] = _cosines_to(catalog.vectors, v)
    return out


@dataclass(frozen=True)
class HelpSought:
    """What a need asks, as the gap stage reads it: the capabilities required, the need's parts
    and their vectors (rows of `clause_vecs`), the need, and the relevance floor of the answer."""

    required: Mapping[str, str]
    parts: Sequence[str]
    clause_vecs: np.ndarray
    need: Need
    floor: float
    asked_benefits: benefits.AskedBenefits | None = None  # the benefits the ask names


def settle_gaps(
    coalition: Coalition,
    sought: HelpSought,
    catalog: Catalog,
    columns: ScoreColumns,
    by_sector: Mapping[str, Sequence[Match]],
    per_role: Mapping[str, Sequence[Scored]],
    allowed: np.ndarray,
    closeness: Callable[[np.ndarray], np.ndarray],
    scale_km: float,
) -> Coalition:
    """The coalition with its gaps as the page shows them: the help asked for that no partner
    shown offers (`help_not_shown`), less the help some allowed organisation offers, which is
    named instead (`offered_elsewhere`, then the request's own candidates). The coalition's own
    gaps are of its pools, which leave out partners beyond reach. Help no member offers that
    only far-off listed partners offer (`shown_only_far`) gets, by the same search, the
    organisation offering it within reach of the need's place (`offered_nearer`)."""
    unshown = help_not_shown(sought.required, coalition, by_sector)
    reach = reach_km(sought.need, scale_km)
    far = shown_only_far(sought.required, coalition, by_sector, reach)
    named: dict[str, OfferedElsewhere] = {}
    nearer: dict[str, OfferedElsewhere] = {}
    search = _Search(sought, catalog, columns, allowed, closeness, scale_km)
    if unshown or far:
        found = search.offerers([*unshown, *far], sought.asked_benefits)
        named = {c: o for c, o in found.items() if c in unshown}
        named.update(offered_by_candidates(catalog, per_role, unshown, named))
        # a far partner shown offers it: name one near only (based within reach, not wide)
        nearer = {
            c: o
            for c, o in found.items()
            if c in far
            and o.id not in far[c]
            and o.distance_km is not None
            and reach is not None
            and o.distance_km <= reach
        }
    return coalition.model_copy(
        update={
            "gaps": [g for g in unshown if g not in named],
            "offered_elsewhere": named,
            "offered_nearer": nearer,
            "benefits_elsewhere": _benefits_elsewhere(coalition, search),
        }
    )


@dataclass(frozen=True)
class _Search:
    """The gap stage's search for who offers help (`offered_elsewhere`) for one request."""

    sought: HelpSought
    catalog: Catalog
    columns: ScoreColumns
    allowed: np.ndarray
    closeness: Callable[[np.ndarray], np.ndarray]
    scale_km: float

    def offerers(
        self, caps: Sequence[str], asked: benefits.AskedBenefits | None
    ) -> dict[str, OfferedElsewhere]:
        s = self.sought
        return offered_elsewhere(
            self.catalog,
            self.columns,
            caps,
            self.allowed,
            self.closeness,
            s.need,
            self.scale_km,
            s.floor,
            ask_closeness(self.catalog, caps, s.required, s.parts, s.clause_vecs),
            asked,
            funding_kinds.asks_gift(s.required.get(funding_kinds.FUNDING), s.need.text),
        )


def _benefits_elsewhere(coalition: Coalition, search: _Search) -> dict[str, OfferedElsewhere]:
    """benefit -> who offers help with it, for each benefit no member runs or names
    (`Coalition.uncovered_benefits`), by the same search as `offered_elsewhere`: "No member
    runs or names SNAP" for seniors' Medicare and SNAP help in Albuquerque, where the Food and
    Nutrition Service runs it (real data walk)."""
    asked = search.sought.asked_benefits
    if asked is None or not coalition.uncovered_benefits:
        return {}
    cap = benefits.CAPABILITY
    out: dict[str, OfferedElsewhere] = {}
    for name in coalition.uncovered_benefits:
        bit = benefits.bit_named(name)
        if not bit & asked.bits:
            continue
        found = search.offerers([cap], asked.only(bit))
        if cap in found:
            out[name] = found[cap]
    return out


def shown_only_far(
    required: Mapping[str, str],
    coalition: Coalition,
    by_sector: Mapping[str, Sequence[Match]],
    reach: float | None,
) -> dict[str, set[str]]:
    """capability -> ids of the partners shown that offer it, for the help asked that no
    coalition member offers and that only partners based beyond `reach` of the need's point
    (or working nationwide, with no distance) among the sector lists offer. A real-data walk
    (2026-12-04): a Providence eviction need's legal aid was left to a federal justice office
    "among the partners by sector below" while Rhode Island Legal Services, 1 km away, offers
    it. None when the need has no point (`reach` None): nothing is near or far."""
    if reach is None:
        return {}
    shown = [m for ms in by_sector.values() for m in ms]
    out: dict[str, set[str]] = {}
    for cap in required:
        if coalition.covered.get(cap):
            continue
        offering = [m for m in shown if cap in m.covers]
        if offering and not any(
            m.distance_km is not None and m.distance_km <= reach for m in offering
        ):
            out[cap] = {m.id for m in offering}
    return out
