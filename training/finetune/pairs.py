"""Training triplets from labelled profiles: (anchor, positive, hard negative), where anchor
and positive are two missions with the same cause code and the negative is a mission of the
same state with another cause (harder than a random one: it shares the place, not the cause).
Profiles of held-out states never enter, so a benchmark on those states stays clean."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from matcher.domain import Organisation

MIN_TEXT = 40  # characters: shorter missions say too little to learn from


@dataclass(frozen=True)
class Triplet:
    anchor: str
    positive: str
    negative: str


def profile_text(org: Organisation) -> str:
    return f"{org.name}. {org.description}"


def build_triplets(
    orgs: Iterable[Organisation],
    *,
    max_pairs: int,
    hold_out_states: Sequence[str] = (),
    seed: int = 0,
    code_length: int = 3,
) -> tuple[list[Triplet], dict[str, int]]:
    """At most `max_pairs` triplets, spread over the causes (round-robin, so large causes do
    not take every pair), and counts of what was used and skipped."""
    held = {s.upper() for s in hold_out_states}
    by_cause: dict[str, list[Organisation]] = defaultdict(list)
    by_state: dict[str, list[Organisation]] = defaultdict(list)
    counts = {"profiles": 0, "held_out": 0, "no_code": 0, "short": 0}
    for org in orgs:
        if not org.cause_code:
            counts["no_code"] += 1
            continue
        if (org.region or "").upper() in held:
            counts["held_out"] += 1
            continue
        if len(org.description) < MIN_TEXT:
            counts["short"] += 1
            continue
        counts["profiles"] += 1
        by_cause[org.cause_code[:code_length].upper()].append(org)
        by_state[(org.region or "").upper()].append(org)
    rng = random.Random(seed)
    causes = sorted(c for c, members in by_cause.items() if len(members) >= 2)
    for c in causes:
        rng.shuffle(by_cause[c])
    out: list[Triplet] = []
    cursor = dict.fromkeys(causes, 0)
    while len(out) < max_pairs and causes:
        progressed = False
        for c in causes:
            members = by_cause[c]
            i = cursor[c]
            if i + 1 >= len(members) or len(out) >= max_pairs:
                continue
            a, p = members[i], members[i + 1]
            cursor[c] = i + 2
            negative = _negative(rng, by_state[(a.region or "").upper()], c, code_length)
            if negative is None:
                continue
            out.append(Triplet(profile_text(a), profile_text(p), profile_text(negative)))
            progressed = True
        if not progressed:
            break
    counts["causes"] = len(causes)
    counts["triplets"] = len(out)
    return out, counts


def _negative(
    rng: random.Random, pool: list[Organisation], cause: str, code_length: int
) -> Organisation | None:
    for _ in range(20):
        cand = pool[rng.randrange(len(pool))]
        if (cand.cause_code or "")[:code_length].upper() != cause:
            return cand
    return None


def data_hash(triplets: Sequence[Triplet]) -> str:
    h = hashlib.sha256()
    for t in triplets:
        for part in (t.anchor, t.positive, t.negative):
            h.update(part.encode("utf-8"))
            h.update(b"\x1f")
    return h.hexdigest()
