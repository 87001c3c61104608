"""Coalition assembly: a few partners across sectors that together cover the need.

Greedy maximisation of a monotone submodular objective (coverage of the required capabilities,
each weighted by how well the partner fits, plus the value of filling a new sector role), with a
penalty for redundancy. Greedy selection is within (1 - 1/e) of the best set of the same size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matcher.domain import COALITION_ROLES

ROLE_OF_SECTOR = {s: role for role, sectors in COALITION_ROLES.items() for s in sectors}


@dataclass(frozen=True)
class Member:
    key: str  # organisation id
    sector: str
    score: float
    offers: frozenset[str]


def _value(chosen: Sequence[Member], required: Sequence[str], role_bonus: float) -> float:
    total = 0.0
    for cap in required:
        total += max((m.score for m in chosen if cap in m.offers), default=0.0)
    roles = {ROLE_OF_SECTOR.get(m.sector) for m in chosen} - {None}
    total += role_bonus * len(roles)
    total += 0.25 * sum(m.score for m in chosen)
    return total


def select_coalition(
    pool: Sequence[Member],
    required: Sequence[str],
    *,
    min_size: int = 3,
    max_size: int = 5,
    role_bonus: float = 0.6,
    min_gain: float = 0.05,
) -> list[Member]:
    """Greedy selection; stops at max_size, or after min_size once gains become small."""
    chosen: list[Member] = []
    remaining = list(pool)
    current = 0.0
    while remaining and len(chosen) < max_size:
        best, best_gain = None, -1.0
        for m in remaining:
            gain = _value([*chosen, m], required, role_bonus) - current
            if gain > best_gain:
                best, best_gain = m, gain
        if best is None or (len(chosen) >= min_size and best_gain < min_gain):
            break
        chosen.append(best)
        remaining.remove(best)
        current += best_gain
    return chosen


def coverage_map(chosen: Sequence[Member], required: Sequence[str]) -> dict[str, list[str]]:
    return {cap: [m.key for m in chosen if cap in m.offers] for cap in required}


def gaps(pool_offers: Mapping[str, frozenset[str]], required: Sequence[str]) -> list[str]:
    """Required capabilities that no candidate in the pool offers."""
    offered: set[str] = set()
    for offers in pool_offers.values():
        offered |= offers
    return [c for c in required if c not in offered]
