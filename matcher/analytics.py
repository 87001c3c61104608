"""Introduction and partnership analytics for analysts: acceptance and response rates, time to
answer, partnership records started and their outcomes, by sector pair and by cause.

Groups:
- sector pair: the asking organisation's sector -> the asked organisation's sector (for a
  partnership record: its introduction's direction, else proposer -> partner);
- cause: the asked (partner) organisation's cause. An NTEE-style cause code ('K31') counts under
  its major group ('K'); another cause code under itself; without one, its first focus area;
  else "(none)".

Figures of a group:
- requests: every introduction request; `open` the ones still waiting;
- responses: accepted + declined; response rate = responses / (responses + expired): open and
  withdrawn requests are left out (they may still be answered, or were taken back);
- acceptance rate = accepted / responses; median hours from request to answer (answered ones);
- records proposed, started (accepted by the partner), closed with each outcome, and the mean
  check-in rating (1-5) over every check-in of the group's records.

A rate whose denominator is 0 is None (no evidence), never 0. `load_facts` reads the database;
`summarise` is a pure function of what it read.

Small groups (privacy): a group's size is its number of introduction requests, or of partnership
records when it has more of those. A group smaller than `min_group` (MATCHER_ANALYTICS_MIN_GROUP,
default 5) is not shown on its own, so an analyst cannot read that one organisation declined: the
small groups of a grouping are merged into one row, "other (small groups)", whose `groups` says how
many it holds. When that row is itself smaller than `min_group`, the smallest shown groups are
merged into it too until it is not (else the figures of a lone small group could be worked out
as the totals minus the shown rows). The totals count everything.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from matcher.domain import utcnow
from matcher.store.db import Database, aware
from matcher.store.models import (
    CauseRow,
    CheckInRow,
    IntroductionRow,
    OrganisationRow,
    PartnershipRecordRow,
    PartnershipRow,
)

RESULTS = ("achieved", "partly_achieved", "not_achieved")
NO_CAUSE = "(none)"
OTHER = "(other)"
OTHER_LABEL = "other (small groups)"
ALL = "all"  # the totals' key
ALL_LABEL = "All introduction requests and partnership records"  # was "All introductions"
DEFAULT_MIN_GROUP = 5
UNKNOWN_SECTOR = "unknown"
_NTEE = re.compile(r"^[A-Z]\d\d")


# ---- what was read ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgFact:
    sector: str
    cause_code: str | None = None
    focus_areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntroFact:
    id: str
    from_org: str
    to_org: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RecordFact:
    id: str
    organisation_id: str
    partner_id: str
    introduction_id: str | None
    status: str
    result: str | None = None  # the outcome of a closed record
    ratings: tuple[int, ...] = ()


@dataclass
class Facts:
    orgs: dict[str, OrgFact] = field(default_factory=dict)
    intros: list[IntroFact] = field(default_factory=list)
    records: list[RecordFact] = field(default_factory=list)
    cause_titles: dict[str, str] = field(default_factory=dict)


# ---- what is reported ---------------------------------------------------------------------


class GroupStats(BaseModel):
    key: str = Field(description="'nonprofit->business' (sector pair) or a cause key ('K')")
    label: str
    requests: int = 0
    open: int = 0
    accepted: int = 0
    declined: int = 0
    withdrawn: int = 0
    expired: int = 0
    responses: int = 0
    response_rate: float | None = Field(None, description="responses / (responses + expired)")
    acceptance_rate: float | None = Field(None, description="accepted / responses")
    median_hours_to_answer: float | None = None
    records_proposed: int = 0
    records_started: int = 0
    records_closed: int = 0
    achieved: int = 0
    partly_achieved: int = 0
    not_achieved: int = 0
    ratings: int = 0
    mean_rating: float | None = None
    groups: int = Field(1, description="groups counted in this row (the 'other' row: several)")


class Analytics(BaseModel):
    generated_at: datetime
    totals: GroupStats = Field(
        description="every introduction request and every partnership record (with or without "
        "an introduction), small groups included; key 'all'"
    )
    by_sector_pair: list[GroupStats]
    by_cause: list[GroupStats]
    min_group: int = Field(
        DEFAULT_MIN_GROUP,
        description="a group with fewer requests (or records) is shown only inside "
        "'other (small groups)'",
    )
    merged_sector_pairs: int = Field(0, description="sector pairs merged into 'other'")
    merged_causes: int = Field(0, description="causes merged into 'other'")
    history_partnerships: int = Field(
        0,
        description="past partnerships imported as history (train history, registry imports): "
        "what models learn from, not counted in these figures",
    )


# ---- grouping -----------------------------------------------------------------------------


def cause_key(org: OrgFact | None) -> str:
    if org is None:
        return NO_CAUSE
    code = (org.cause_code or "").strip()
    if code:
        return code[0].upper() if _NTEE.match(code.upper()) else code
    for area in org.focus_areas:
        if area.strip():
            return area.strip()
    return NO_CAUSE


def sector_pair(orgs: Mapping[str, OrgFact], asking: str, asked: str) -> str:
    a, b = orgs.get(asking), orgs.get(asked)
    return f"{a.sector if a else UNKNOWN_SECTOR}->{b.sector if b else UNKNOWN_SECTOR}"


@dataclass
class _Acc:
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hours: list[float] = field(default_factory=list)
    proposed: int = 0
    started: int = 0
    results: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ratings: list[int] = field(default_factory=list)

    def size(self) -> int:
        return max(sum(self.statuses.values()), self.proposed)

    def merge(self, other: _Acc) -> None:
        for k, v in other.statuses.items():
            self.statuses[k] += v
        for k, v in other.results.items():
            self.results[k] += v
        self.hours.extend(other.hours)
        self.ratings.extend(other.ratings)
        self.proposed += other.proposed
        self.started += other.started

    def add_intro(self, intro: IntroFact, now: datetime) -> None:
        status = intro.status
        if status == "requested" and intro.expires_at and aware(intro.expires_at) <= now:
            status = "expired"  # past its expiry, not yet marked (the service expires lazily)
        self.statuses[status] += 1
        if intro.status in ("accepted", "declined") and intro.decided_at is not None:
            delta = aware(intro.decided_at) - aware(intro.created_at)
            self.hours.append(delta.total_seconds() / 3600)

    def add_record(self, record: RecordFact) -> None:
        self.proposed += 1
        if record.status in ("active", "closed"):
            self.started += 1
        if record.status == "closed" and record.result in RESULTS:
            self.results[record.result] += 1
        self.ratings.extend(record.ratings)

    def stats(self, key: str, label: str, groups: int = 1) -> GroupStats:
        st = self.statuses
        responses = st["accepted"] + st["declined"]
        closed = sum(self.results.values())
        return GroupStats(
            key=key,
            label=label,
            requests=sum(st.values()),
            open=st["requested"],
            accepted=st["accepted"],
            declined=st["declined"],
            withdrawn=st["withdrawn"],
            expired=st["expired"],
            responses=responses,
            response_rate=_ratio(responses, responses + st["expired"]),
            acceptance_rate=_ratio(st["accepted"], responses),
            median_hours_to_answer=round(statistics.median(self.hours), 2) if self.hours else None,
            records_proposed=self.proposed,
            records_started=self.started,
            records_closed=closed,
            achieved=self.results["achieved"],
            partly_achieved=self.results["partly_achieved"],
            not_achieved=self.results["not_achieved"],
            ratings=len(self.ratings),
            mean_rating=round(statistics.fmean(self.ratings), 2) if self.ratings else None,
            groups=groups,
        )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pair_label(key: str) -> str:
    a, _, b = key.partition("->")
    return f"{a} → {b}"


def _cause_label(key: str, titles: Mapping[str, str]) -> str:
    title = titles.get(key)
    return f"{title} ({key})" if title and title != key else key


def _order(key: str, acc: _Acc) -> tuple[int, int, str]:
    return (-sum(acc.statuses.values()), -acc.proposed, key)


def shown_groups(groups: dict[str, _Acc], min_group: int) -> tuple[dict[str, _Acc], list[str]]:
    """(the groups shown on their own, the keys merged into 'other'): the groups smaller than
    `min_group`, then the smallest others until 'other' reaches `min_group` (or none is left)."""
    small = [k for k, acc in groups.items() if acc.size() < min_group]
    if not small:
        return dict(groups), []
    other = _Acc()
    for k in small:
        other.merge(groups[k])
    rest = sorted((k for k in groups if k not in small), key=lambda k: _order(k, groups[k]))
    while other.size() < min_group and rest:
        k = rest.pop()  # the smallest shown group
        other.merge(groups[k])
        small.append(k)
    return {k: groups[k] for k in rest}, small


def summarise(
    facts: Facts, *, now: datetime | None = None, min_group: int = DEFAULT_MIN_GROUP
) -> Analytics:
    """The figures of every sector pair and cause of at least `min_group` requests (largest
    groups first; the smaller ones merged into 'other (small groups)', last), and the totals."""
    now = now or utcnow()
    orgs = facts.orgs
    intro_by_id = {i.id: i for i in facts.intros}
    pairs: dict[str, _Acc] = defaultdict(_Acc)
    causes: dict[str, _Acc] = defaultdict(_Acc)
    total = _Acc()
    for intro in facts.intros:
        for acc in (
            pairs[sector_pair(orgs, intro.from_org, intro.to_org)],
            causes[cause_key(orgs.get(intro.to_org))],
            total,
        ):
            acc.add_intro(intro, now)
    for record in facts.records:
        origin = intro_by_id.get(record.introduction_id or "")
        asking, asked = (
            (origin.from_org, origin.to_org)
            if origin is not None
            and {origin.from_org, origin.to_org} == {record.organisation_id, record.partner_id}
            else (record.organisation_id, record.partner_id)
        )
        for acc in (
            pairs[sector_pair(orgs, asking, asked)],
            causes[cause_key(orgs.get(asked))],
            total,
        ):
            acc.add_record(record)

    def rows(groups: dict[str, _Acc], label: Callable[[str], str]) -> tuple[list[GroupStats], int]:
        shown, merged = shown_groups(groups, min_group)
        out = [acc.stats(key, label(key)) for key, acc in shown.items()]
        out.sort(key=lambda g: (-g.requests, -g.records_proposed, g.key))
        if merged:
            other = _Acc()
            for key in merged:
                other.merge(groups[key])
            out.append(other.stats(OTHER, OTHER_LABEL, groups=len(merged)))
        return out, len(merged)

    by_pair, merged_pairs = rows(pairs, _pair_label)
    by_cause, merged_causes = rows(causes, lambda k: _cause_label(k, facts.cause_titles))
    return Analytics(
        generated_at=now,
        totals=total.stats(ALL, ALL_LABEL),
        by_sector_pair=by_pair,
        by_cause=by_cause,
        min_group=min_group,
        merged_sector_pairs=merged_pairs,
        merged_causes=merged_causes,
    )


# ---- reading ------------------------------------------------------------------------------


def load_facts(db: Database, cause_titles: Mapping[str, str] | None = None) -> Facts:
    """Every introduction and partnership record, the organisations they name, and titles of
    causes (the taxonomy in the database; `cause_titles` first, e.g. NTEE major groups)."""
    with db.session() as s:
        intros = [
            IntroFact(
                r.id, r.from_org, r.to_org, r.status, r.created_at, r.decided_at, r.expires_at
            )
            for r in s.scalars(select(IntroductionRow))
        ]
        ratings: dict[str, list[int]] = defaultdict(list)
        q = select(CheckInRow.record_id, CheckInRow.rating).where(CheckInRow.rating.is_not(None))
        for record_id, rating in s.execute(q):
            if rating is not None:
                ratings[str(record_id)].append(int(rating))
        records = [
            RecordFact(
                r.id,
                r.organisation_id,
                r.partner_id,
                r.introduction_id,
                r.status,
                (r.outcome or {}).get("result"),
                tuple(ratings.get(r.id, ())),
            )
            for r in s.scalars(select(PartnershipRecordRow))
        ]
        ids = _named(intros, records)
        orgs: dict[str, OrgFact] = {}
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            q2 = select(
                OrganisationRow.id,
                OrganisationRow.sector,
                OrganisationRow.cause_code,
                OrganisationRow.focus_areas,
            ).where(OrganisationRow.id.in_(chunk))
            for org_id, sector, code, areas in s.execute(q2):
                orgs[str(org_id)] = OrgFact(str(sector), code, tuple(areas or ()))
        titles = {str(c): str(t) for c, t in s.execute(select(CauseRow.code, CauseRow.title))}
    titles.update(cause_titles or {})
    return Facts(orgs=orgs, intros=intros, records=records, cause_titles=titles)


def _named(intros: Iterable[IntroFact], records: Iterable[RecordFact]) -> set[str]:
    ids: set[str] = set()
    for i in intros:
        ids.update((i.from_org, i.to_org))
    for r in records:
        ids.update((r.organisation_id, r.partner_id))
    return ids


def analytics(
    db: Database,
    *,
    cause_titles: Mapping[str, str] | None = None,
    now: datetime | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
) -> Analytics:
    result = summarise(load_facts(db, cause_titles), now=now, min_group=min_group)
    with db.session() as s:
        history = s.scalar(select(func.count()).select_from(PartnershipRow)) or 0
    return result.model_copy(update={"history_partnerships": int(history)})
