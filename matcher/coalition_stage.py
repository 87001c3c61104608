"""The last stages of a recommendation: which of a role's ranked partners are explained (the
ones an answer can show), and the cross-sector coalition assembled from each role's best."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from matcher import benefits
from matcher.catalog import Catalog
from matcher.coalition import Member, asked_parts, assemble, coverage_map, gaps, parts_added
from matcher.domain import Coalition, Match
from matcher.reach import nearest_within_reach
from matcher.score import Scored
from matcher.score_arrays import Ranked

PER_SECTOR = 5
COALITION_POOL = 10  # candidates per role the coalition may draw on


def shown_rows(catalog: Catalog, ranked: Ranked) -> list[int]:
    """The entries of a role's ranking that can be shown, in order: the COALITION_POOL its
    coalition draws on and the first PER_SECTOR of each sector (the rest is never explained)."""
    sectors = catalog.sector_[ranked.positions]
    rows = [np.arange(min(COALITION_POOL, len(ranked)))]
    for sector in np.unique(sectors).tolist():
        rows.append(np.flatnonzero(sectors == sector)[:PER_SECTOR])
    return [int(i) for i in np.unique(np.concatenate(rows))]


def shown(catalog: Catalog, ranked: Ranked) -> list[Scored]:
    """`shown_rows` of a role's ranking, explained."""
    return ranked.explain(shown_rows(catalog, ranked))


def coalition(
    catalog: Catalog,
    per_role: dict[str, list[Scored]],
    required: dict[str, str],
    size: tuple[int, int],
    make: Callable[[Scored], Match],
    clause_vecs: np.ndarray,
    parts: list[str],
    floor: float,
    *,
    aspect_weight: float,
    alternative_margin: float,
    reach_km: float | None = None,
    region: str | None = None,
    asked_benefits: benefits.AskedBenefits | None = None,
) -> Coalition:
    """The coalition from each role's candidates above the floor (matcher.coalition); with
    `reach_km` (the need has a point), of those within reach when a role has any
    (`within_reach`). An ask naming two benefits or more (`asked_benefits`) counts each as help
    of its own (`counted_keys`)."""
    by_id: dict[str, Scored] = {}
    pools: dict[str, list[Member]] = {}
    asked = asked_parts(required, parts)
    split = counted_keys(required, asked_benefits)
    counted = [
        k for c in required for k in (split.values() if split and c == benefits.CAPABILITY else [c])
    ]
    for role, ss in per_role.items():
        pools[role] = []
        ss = within_reach(catalog, ss[:COALITION_POOL], reach_km, region)
        aspects = np.zeros((len(ss), 0), np.float32)
        if clause_vecs.shape[0] and ss:
            rows = catalog.vectors[[s.position for s in ss]]
            aspects = np.clip(rows @ clause_vecs.T, 0.0, None)
        for j, s in enumerate(ss):
            org = catalog.profile(s.position).org
            by_id[org.id] = s
            offers = frozenset(s.offers)
            if split and asked_benefits is not None and benefits.CAPABILITY in offers:
                run = asked_benefits.covering(benefits.of_profile(org), s.position)
                offers |= {key for bit, key in split.items() if run & bit}
            pools[role].append(
                Member(org.id, org.sector.value, s.score, offers, _met(aspects[j], offers, asked))
            )
    made = assemble(
        pools,
        counted,
        size,
        aspect_weight=aspect_weight,
        alternative_margin=alternative_margin,
    )
    roles = made.roles
    alternatives = {k: v for k, v in made.alternatives.items() if k in by_id}
    seeded = set(roles.values()) | set(alternatives)

    def named(members: list[Member]) -> dict[str, int]:
        joined = {m.key for m in members} - seeded
        return parts_added(members, joined, floor, asked)

    # a member joined beyond the roles that covers nothing asked and meets no part of the need
    # the page can name is left out: its closeness to some part, below the relevance floor,
    # had added a little (FEMA for a food pantry's broken freezer, real data)
    reasons = named(made.members)
    chosen = [
        m for m in made.members if m.key in seeded or m.key in reasons or m.offers & set(required)
    ]
    each = coverage_map(chosen, counted)
    covered = sum(1 for v in each.values() if v)
    offered = {m.key: m.offers for ms in pools.values() for m in ms}
    return Coalition(
        members=[make(by_id[m.key]) for m in chosen],
        roles=roles,
        covered=coverage_map(chosen, list(required)),
        gaps=gaps(offered, list(required)),
        coverage=round(covered / len(counted), 4) if counted else None,
        benefits_asked=[benefits.names_of(bit)[0] for bit in split],
        uncovered_benefits=[
            benefits.names_of(bit)[0] for bit, key in split.items() if not each.get(key)
        ],
        unfilled_roles=made.unfilled,
        alternative_to=alternatives,
        joins_for={
            **{key: parts[i] for key, i in named(chosen).items() if i < len(parts)},
            **_benefits_added(chosen, split, seeded),
        },
    )


def _benefits_added(
    chosen: list[Member], split: dict[int, str], seeded: set[str]
) -> dict[str, str]:
    """member -> the benefits asked it covers that no member before it does ("LIHEAP"), for
    the members beyond the roles' first that add one: the Administration for Children and
    Families "joins for" LIHEAP, not the whole "help enrolling families in SNAP, WIC and
    LIHEAP" (real data walk)."""
    out: dict[str, str] = {}
    covered: set[str] = set()
    for m in chosen:
        adds = [bit for bit, key in split.items() if key in m.offers and key not in covered]
        covered.update(split[bit] for bit in adds)
        if adds and m.key not in seeded:
            out[m.key] = " and ".join(benefits.names_of(sum(adds)))
    return out


def counted_keys(
    required: dict[str, str], asked_benefits: benefits.AskedBenefits | None
) -> dict[int, str]:
    """Benefit -> the key its coverage is counted under, when the ask for public programmes
    names two benefits or more (else empty: the capability is counted as one). "Help enrolling
    families in SNAP and Medicaid" was covered 100% by the Food and Nutrition Service alone,
    and the Centers for Medicare & Medicaid Services was only "an alternative" to it (real
    data walk): each benefit is help of its own."""
    if asked_benefits is None or benefits.CAPABILITY not in required:
        return {}
    bits = benefits.split_bits(asked_benefits.bits)
    return {bit: benefits.key_of(bit) for bit in bits} if len(bits) > 1 else {}


def _met(
    aspects: np.ndarray, offers: frozenset[str], asked: list[frozenset[str]]
) -> tuple[float, ...]:
    """How closely a candidate meets each part of the need: its closeness by meaning, but none
    for a part that asks for help it does not offer. A member joined for such a part, its card
    saying "Does not cover" what the part asks (Hilo's fifth member covered nothing and said
    no part, real data walk)."""
    return tuple(
        0.0 if i < len(asked) and asked[i] and not asked[i] & offers else float(a)
        for i, a in enumerate(aspects)
    )


def within_reach(
    catalog: Catalog, ss: list[Scored], reach_km: float | None, region: str | None
) -> list[Scored]:
    """The candidates a group could work with in person (`matcher.reach`); when none is, the
    nearest ring that holds any (`nearest_within_reach`). A Santa Fe school joined a Hilo
    after-school coalition, hospitals 400-770 km away one for Miles City (real data walks)."""
    if reach_km is None or not ss:
        return ss
    km = np.array([np.nan if s.distance_km is None else s.distance_km for s in ss])
    keep = nearest_within_reach(catalog, np.array([s.position for s in ss]), km, reach_km, region)
    return [s for s, k in zip(ss, keep.tolist(), strict=True) if k]
