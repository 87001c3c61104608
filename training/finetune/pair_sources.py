"""More kinds of training triplets for `matcher train embed` than two missions of one cause.

- `definitions`: a cause's definition (title, definition, keywords of a taxonomy) and one of
  its members' missions; the hard negative is a member of a sibling cause (same major group,
  the code's first letter), else of any other cause.
- `outcomes`: a text and the organisation that took it up: an accepted introduction's need
  text and the organisation that accepted, an active partnership record's title and goals and
  its partner, a past partnership with a positive outcome (`matcher train history`, closed
  partnership records) and its partner.
- `grants`: a grant's title and description and its recipient (past partnerships with the
  outcome `funded`, e.g. `matcher train import 360giving`).
A text's hard negative is another organisation of the positive's sector. A positive must
describe itself: a profile whose description is missing, shorter than MIN_TEXT or written by
an importer from the partnerships themselves (a 360Giving recipient's "X is a UK organisation
funded by Y") teaches nothing about what it does, and is skipped (counted). Organisations of
held-out states never enter.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from matcher.causes import Cause
from matcher.domain import Organisation
from matcher.store import Database
from matcher.store.models import IntroductionRow, PartnershipRecordRow
from training.finetune.pairs import MIN_TEXT, Triplet, profile_text

SOURCES = ("missions", "definitions", "outcomes", "grants")
# what training.importers.giving360 writes for funders and recipients it knows only by name
_GENERATED = re.compile(
    r" is a UK (organisation|grant recipient|grant-making funder|public funder)\b"
)


def parse_sources(value: str) -> list[str]:
    """The comma list of `--pairs`, checked; ValueError naming the unknown ones."""
    chosen = list(dict.fromkeys(s.strip().lower() for s in value.split(",") if s.strip()))
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise ValueError(
            f"unknown pair source(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{', '.join(SOURCES)}"
        )
    return chosen


def describes_itself(org: Organisation) -> bool:
    text = org.description or ""
    return len(text) >= MIN_TEXT and not _GENERATED.search(text)


def definition_triplets(
    orgs: Iterable[Organisation],
    causes: Sequence[Cause],
    *,
    per_cause: int = 3,
    hold_out_states: Sequence[str] = (),
    seed: int = 0,
    code_length: int = 3,
) -> tuple[list[Triplet], dict[str, int]]:
    """Up to `per_cause` (definition, member mission, sibling cause's mission) triplets per
    cause of `causes` that has members among the coded profiles outside the held-out states."""
    held = {s.upper() for s in hold_out_states}
    by_cause: dict[str, list[Organisation]] = defaultdict(list)
    for org in orgs:
        code = (org.cause_code or "")[:code_length].upper()
        if code and (org.region or "").upper() not in held and describes_itself(org):
            by_cause[code].append(org)
    rng = random.Random(seed)
    codes = sorted(by_cause)
    out: list[Triplet] = []
    counts = {"causes_with_members": 0, "causes_without_members": 0}
    for cause in causes:
        code = cause.code[:code_length].upper()
        members = list(by_cause.get(code, ()))
        if not members or not cause.definition:
            counts["causes_without_members"] += 1
            continue
        counts["causes_with_members"] += 1
        rng.shuffle(members)
        siblings = [c for c in codes if c != code and c[:1] == code[:1]]
        others = siblings or [c for c in codes if c != code]
        if not others:
            continue
        for member in members[:per_cause]:
            negative = rng.choice(by_cause[rng.choice(others)])
            out.append(Triplet(cause.text(), profile_text(member), profile_text(negative)))
    counts["triplets"] = len(out)
    return out, counts


def _record_text(body: Mapping[str, Any]) -> str:
    goals = "; ".join(str(g.get("description", "")) for g in body.get("goals") or [])
    title = str(body.get("title") or "").strip()
    return f"{title.rstrip('.')}. {goals}" if goals else title


def taken_up(db: Database) -> dict[str, list[tuple[str, str]]]:
    """(text, organisation id that took it up) by source: `outcomes` and `grants` (see the
    module's docstring), from the store's tables."""
    from matcher.store import Store
    from training.history import list_partnerships

    found: dict[str, list[tuple[str, str]]] = {"outcomes": [], "grants": []}
    for p in list_partnerships(Store(db)):
        if p.label == 1 and p.text():
            kind = "grants" if p.outcome == "funded" else "outcomes"
            found[kind].append((p.text(), p.partner_id))
    with db.session() as s:
        q = select(IntroductionRow.need_text, IntroductionRow.to_org).where(
            IntroductionRow.status == "accepted"
        )
        found["outcomes"] += [(str(t), str(o)) for t, o in s.execute(q) if (t or "").strip()]
        q2 = select(PartnershipRecordRow.body, PartnershipRecordRow.partner_id).where(
            PartnershipRecordRow.status == "active"
        )
        for body, partner in s.execute(q2):
            text = _record_text(body or {})
            if text:
                found["outcomes"].append((text, str(partner)))
    return found


def taken_up_triplets(
    pairs: Sequence[tuple[str, str]],
    orgs: Iterable[Organisation],
    *,
    max_pairs: int,
    hold_out_states: Sequence[str] = (),
    seed: int = 0,
) -> tuple[list[Triplet], dict[str, int]]:
    """(text, the organisation that took it up, another organisation of its sector) for each
    (text, organisation id) whose organisation describes itself, at most `max_pairs`."""
    held = {s.upper() for s in hold_out_states}
    by_id: dict[str, Organisation] = {}
    by_sector: dict[str, list[Organisation]] = defaultdict(list)
    for org in orgs:
        if describes_itself(org) and (org.region or "").upper() not in held:
            by_id[org.id] = org
            by_sector[org.sector.value].append(org)
    rng = random.Random(seed)
    order = list(pairs)
    rng.shuffle(order)
    out: list[Triplet] = []
    counts = {"texts": len(order), "no_description_or_held_out": 0, "no_negative": 0}
    for text, org_id in order:
        if len(out) >= max_pairs:
            break
        positive = by_id.get(org_id)
        if positive is None or len(text) < MIN_TEXT:
            counts["no_description_or_held_out"] += 1
            continue
        pool = by_sector[positive.sector.value]
        negative = next(
            (n for n in (pool[rng.randrange(len(pool))] for _ in range(20)) if n.id != org_id),
            None,
        )
        if negative is None:
            counts["no_negative"] += 1
            continue
        out.append(Triplet(text, profile_text(positive), profile_text(negative)))
    counts["triplets"] = len(out)
    return out, counts
