"""Coalition assembly: a few partners across sectors that together cover the need.

Greedy maximisation of a monotone submodular objective (coverage of the required capabilities,
each weighted by how well the partner fits, plus the value of filling a new sector role, plus how
well the need's parts are met: for each part of the need, the best match any member gives, a
facility-location term), with a penalty for redundancy. Greedy selection is within (1 - 1/e) of
the best set of the same size.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matcher import benefits
from matcher.capabilities import capabilities_in
from matcher.domain import COALITION_ROLES
from matcher.need_reading import quote_core

ROLE_OF_SECTOR = {s: role for role, sectors in COALITION_ROLES.items() for s in sectors}


@dataclass(frozen=True)
class Member:
    key: str  # organisation id
    sector: str
    score: float
    offers: frozenset[str]
    # how closely it meets each part (clause) of the need, >= 0; empty when not measured
    aspects: tuple[float, ...] = ()


def _value(
    chosen: Sequence[Member],
    required: Sequence[str],
    role_bonus: float,
    score_weight: float,
    aspect_weight: float = 0.0,
) -> float:
    total = 0.0
    for cap in required:
        total += max((m.score for m in chosen if cap in m.offers), default=0.0)
    roles = {ROLE_OF_SECTOR.get(m.sector) for m in chosen} - {None}
    total += role_bonus * len(roles)
    total += score_weight * sum(m.score for m in chosen)
    parts = max((len(m.aspects) for m in chosen), default=0)
    if aspect_weight and parts:
        met = sum(
            max((m.aspects[i] for m in chosen if i < len(m.aspects)), default=0.0)
            for i in range(parts)
        )
        total += aspect_weight * met / parts  # the mean over the need's parts
    return total


# Gains are recomputed exactly as plain greedy computes them; a stale bound this much below the
# best gain could only hide a better member through rounding, which is far smaller.
_BOUND_SLACK = 1e-9


def select_coalition(
    pool: Sequence[Member],
    required: Sequence[str],
    *,
    min_size: int = 3,
    max_size: int = 5,
    role_bonus: float = 0.6,
    min_gain: float = 0.05,
    seed: Sequence[Member] = (),
    score_weight: float = 0.25,
    aspect_weight: float = 0.0,
) -> list[Member]:
    """Greedy selection; stops at max_size, or after min_size once gains become small.

    Each round picks the member with the largest gain, the first in `pool` on a tie (plain
    greedy). Lazily: a member's gain can only shrink as the coalition grows (the objective is
    submodular), so the gain last computed for it bounds its gain now; members are re-evaluated
    best bound first, only while a bound could still beat the best fresh gain. Same picks as
    plain greedy (the reference in tests/engine/test_coalition.py), with a fraction of the
    evaluations.
    """
    chosen: list[Member] = list(seed)
    taken = {m.key for m in chosen}
    members = [m for m in pool if m.key not in taken]
    current = _value(chosen, required, role_bonus, score_weight, aspect_weight) if chosen else 0.0
    # (-bound, pool index): the best bound first, ties in pool order
    heap = [(-math.inf, i) for i in range(len(members))]
    while heap and len(chosen) < max_size:
        fresh: list[tuple[float, int]] = []
        best, best_gain = -1, -1.0
        while heap and (not fresh or -heap[0][0] + _BOUND_SLACK >= best_gain):
            _, i = heapq.heappop(heap)
            gain = (
                _value([*chosen, members[i]], required, role_bonus, score_weight, aspect_weight)
                - current
            )
            fresh.append((gain, i))
            if gain > best_gain or (gain == best_gain and i < best):
                best, best_gain = i, gain
        if best < 0 or (len(chosen) >= min_size and best_gain < min_gain):
            break
        chosen.append(members[best])
        current += best_gain
        for gain, i in fresh:
            if i != best:
                heapq.heappush(heap, (-gain, i))
    return chosen


def parts_added(
    chosen: Sequence[Member],
    added: set[str],
    min_match: float = 0.0,
    asked: Sequence[frozenset[str]] = (),
) -> dict[str, int]:
    """For each member in `added` (joined beyond the role seeds): the part of the need (index
    into the members' aspects) it meets best beyond every member before it, when it improves
    one and meets it at least `min_match`; what the page gives as the reason it joins.

    `asked[i]`: the capabilities part i asks for (`asked_parts`). A part that asks for some is
    named only for a member that offers one of them: a food pantry "joins for: 'volunteers for
    Saturday distributions'" above its own "Does not cover: volunteers" (T4, real data)."""
    out: dict[str, int] = {}
    best: list[float] = []

    def may_name(m: Member, i: int) -> bool:
        wanted = asked[i] if i < len(asked) else frozenset()
        return not wanted or bool(wanted & m.offers)

    for m in chosen:
        if len(best) < len(m.aspects):
            best.extend([0.0] * (len(m.aspects) - len(best)))
        if m.key in added:
            lifts = [
                (a - best[i], i)
                for i, a in enumerate(m.aspects)
                if a >= min_match and may_name(m, i)
            ]
            lift, i = max(lifts, default=(0.0, -1))
            if lift > 0:
                out[m.key] = i
        for i, a in enumerate(m.aspects):
            best[i] = max(best[i], a)
    return out


def asked_parts(required: Mapping[str, str], parts: Sequence[str]) -> list[frozenset[str]]:
    """For each part of the need (a clause as written), the capabilities whose quoted ask lies
    in it (`required`: capability -> the words that ask it, as the reasons quote them, maybe
    cut with "..."; compared without case). A capability whose quote lies in no part (the
    group named it under Required help: its quote is the capability's name) is asked by the
    parts that name it by its words ("money to run a shelter": funding; real data walk); the
    words alone are not read otherwise ("a place to store food" asks no food supply)."""
    out: list[set[str]] = [set() for _ in parts]
    lowered = [p.lower() for p in parts]
    unplaced: set[str] = set()
    for cap, quote in required.items():
        core = quote_core(quote)
        found = False
        for i, part in enumerate(lowered):
            if core and part and (core in part or part in core):
                out[i].add(cap)
                found = True
        if not found:
            unplaced.add(cap)
    if unplaced:
        for i, part in enumerate(parts):
            out[i] |= capabilities_in(part) & unplaced
    if benefits.CAPABILITY in required:
        # a part naming a benefit asks it, though the quote is another part's: in "help
        # signing up for SNAP and WIC" the part "WIC" named a food charity that "joins for
        # 'WIC'" without covering it (real data walk)
        for i, part in enumerate(parts):
            if benefits.in_ask(part):
                out[i].add(benefits.CAPABILITY)
    return [frozenset(c) for c in out]


def coverage_map(chosen: Sequence[Member], required: Sequence[str]) -> dict[str, list[str]]:
    return {cap: [m.key for m in chosen if cap in m.offers] for cap in required}


def gaps(pool_offers: Mapping[str, frozenset[str]], required: Sequence[str]) -> list[str]:
    """Required capabilities that no candidate in the pool offers."""
    offered: set[str] = set()
    for offers in pool_offers.values():
        offered |= offers
    return [c for c in required if c not in offered]


def close_calls(pools: Mapping[str, Sequence[Member]], margin: float) -> list[tuple[Member, str]]:
    """(runner-up, the role's first) for each role whose first two candidates are too close to
    call: the runner-up's score is within `margin` of the first's, as a share of the spread of
    the role's scores (first minus last of the pool). Closest first. With scores this close the
    order of the two says little about which is the better partner, so both are suggested."""
    out: list[tuple[float, int, Member, str]] = []
    for i, ms in enumerate(pools.values()):
        if len(ms) < 3 or margin <= 0:
            continue
        spread = ms[0].score - ms[-1].score
        gap = (ms[0].score - ms[1].score) / spread if spread > 0 else 0.0
        if gap < margin:
            out.append((gap, i, ms[1], ms[0].key))
    return [(m, anchor) for _, _, m, anchor in sorted(out, key=lambda t: (t[0], t[1]))]


@dataclass(frozen=True)
class Assembly:
    members: list[Member]
    roles: dict[str, str]  # role -> the member that fills it
    unfilled: list[str]  # roles with no candidate
    alternatives: dict[str, str]  # member -> the role's first it is an alternative to


def assemble(
    pools: Mapping[str, Sequence[Member]],
    required: Sequence[str],
    size: tuple[int, int],
    *,
    aspect_weight: float = 0.0,
    alternative_margin: float = 0.0,
) -> Assembly:
    """The coalition for these role pools (each a role's candidates above the relevance floor,
    best first). Each role is filled by its best candidate; a role whose first two are too
    close to call (`close_calls`) also gets its runner-up, as an alternative, while there is
    room; then candidates that add coverage of `required` and of the need's parts join, up to
    size[1]. A role with no candidate is named, never filled with anyone."""
    anchors = sorted((ms[0] for ms in pools.values() if ms), key=lambda m: -m.score)[: size[1]]
    pool = [m for ms in pools.values() for m in ms]
    # a runner-up covering none of the benefits asked (counted one by one) that the roles'
    # firsts leave open gives way to the candidates that cover them: two alternatives covering
    # nothing filled a coalition for seniors' "Medicare and SNAP" help while the Food and
    # Nutrition Service was the pool's third government body (real data walk). Other help
    # keeps the runners-up: giving way there cost T4 a relevant member (README)
    named = {c for c in required if c.startswith(benefits.CAPABILITY + ":")}
    open_benefits = (named - {c for m in anchors for c in m.offers}) & {
        c for m in pool for c in m.offers
    }
    calls = [
        (m, anchor)
        for m, anchor in close_calls(pools, alternative_margin)
        if not open_benefits or m.offers & open_benefits
    ][: max(0, size[1] - len(anchors))]
    seed = anchors + [m for m, _ in calls]
    chosen = select_coalition(
        pool,
        required,
        seed=seed,
        min_size=min(size[0], len(seed)),
        max_size=size[1],
        score_weight=0.0,
        aspect_weight=aspect_weight,
    )
    roles: dict[str, str] = {}
    for m in chosen:
        roles.setdefault(ROLE_OF_SECTOR.get(m.sector, m.sector), m.key)
    firsts = {m.key: m for m in anchors}
    wanted = set(required)
    return Assembly(
        members=chosen,
        roles=roles,
        unfilled=[role for role, ms in pools.items() if not ms],
        # a runner-up covering help its role's first does not is no alternative to it: it
        # joins beside it (the Centers for Medicare & Medicaid Services for the Medicaid of
        # "SNAP and Medicaid", the Food and Nutrition Service for SNAP; real data walk)
        alternatives={
            m.key: anchor
            for m, anchor in calls
            if anchor not in firsts or not (m.offers & wanted) - firsts[anchor].offers
        },
    )
