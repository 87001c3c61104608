"""US Federal Program Inventory: agencies as government organisations, programmes as needs.

Columns: program_id, name, top_agency, objective (required); popular_name, program_type,
sub_agency, applicant_types, beneficiary_types, assistance_types, categories (pipe-separated).

Each agency (top agency, and sub-agency when given) becomes a `government` organisation with id
`agency-<slug>`. Each programme becomes a partnership opportunity stored as a Need with id
`fpi-<program_id>`, owned (requester_id) by its most specific agency, its text the objective,
its required capabilities from the assistance types, and its eligible applicant types kept as
`wanted_sectors` (nonprofit -> nonprofit, for-profit/small business -> business,
state/local/tribal/territories -> government, individuals/public -> community,
higher-education institutions -> academic) and listed in the text.

A programme whose objective says it has ended ("Program is inactive and pending archival", "no
longer funded", "no longer making awards", "defunct") is stored with status "closed", is left out
of its agency's description, and is listed in `flagged`; an agency all of whose programmes
ended is imported with active=False. Every agency keeps its source: ["fpi:<agency id>"].

An agency with a running programme offers "public programme funding" and what its programmes
are for: each capability the titles of at least 5% of them name (and two, when it runs two or
more), as "<label> programmes" (HUD: "housing and shelter programmes"), so a card can say it
covers a shelter's ask instead of "Does not cover: housing and shelter".

A tax expenditure (program_type "tax_expenditure": an exclusion, deduction or credit in the tax
code) is not a programme anyone applies to or partners on, and the inventory files all 174 of
them under the IRS, across every budget function; taken as programmes they made the IRS a
partner for every need (wildfire rebuilding, reading classes, stray dogs). They are listed in
`flagged` and left out.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from matcher import capabilities
from matcher.domain import Need, Organisation
from training.importers.base import (
    ImportBatch,
    RowRejected,
    free_text,
    iter_rows,
    reject,
    required_text,
    safe_text,
    shorten,
    slug,
    validated,
)
from training.importers.regional_bodies import served_states

REQUIRED = ("program_id", "name", "top_agency", "objective")
# (pattern over one applicant type, sector); a type can map to several sectors.
APPLICANT_SECTORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"nonprofit|non-government|private institution|native american org", re.I),
        "nonprofit",
    ),
    (re.compile(r"sponsored organization|quasi-public", re.I), "nonprofit"),
    (re.compile(r"profit organization|for-profit|small business", re.I), "business"),
    (
        re.compile(
            r"\bstate\b|\blocal\b|tribal|territor|county|city or township|special district|"
            r"(?<!non-)government|\bfederal\b|interstate|intrastate|school district|"
            r"public institution",
            re.I,
        ),
        "government",
    ),
    (re.compile(r"individual|general public|minority group|specialized group", re.I), "community"),
    (
        re.compile(
            r"includes institutions of higher education|colleges|universit|"
            r"serving institution|hispanic-serving",
            re.I,
        ),
        "academic",
    ),
)
ASSISTANCE_CAPABILITIES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(r"grant|loan|insurance|direct payment|cooperative agreement", re.I),
        ("funding",),
    ),
    (re.compile(r"training", re.I), ("training",)),
    (re.compile(r"specialized services|advisory|technical|counsel", re.I), ("expertise",)),
    # surplus property given away: equipment, and goods such as furniture and clothing
    (re.compile(r"property or goods|donation", re.I), ("equipment", "goods")),
    (re.compile(r"use of property|facilities", re.I), ("facilities", "equipment")),
    (re.compile(r"information|research|dissemination", re.I), ("data",)),
)
# An agency offers what its running programmes are for: a capability named by the titles of at
# least this share of them (and of two, when it runs two or more). Below it a title's word is
# noise for a large department ("Intercity Bus Security Grants" is not distribution work for
# Homeland Security), above it the work is the agency's (46 of HUD's 101 titles name housing).
PROGRAMME_OFFER_SHARE = 0.05
# what every agency with a running programme offers; its titles add the rest
FUNDING_OFFER = "public programme funding"
_GENERIC = frozenset(capabilities.capabilities_in(FUNDING_OFFER))
# what the inventory writes when a programme has ended
ENDED = re.compile(
    r"\bprogram(?:me)? (?:is|has been) (?:inactive|defunct|discontinued|terminated|archived)"
    r"|\b(?:is|are) no longer (?:funded|active|making awards|being funded)"
    r"|\bno longer (?:funded|making awards|accepting applications)"
    r"|\bawards are no longer being made"
    r"|\binactive and pending archival"
    r"|\bprogram no longer funded"
    r"|\bthis listing should not be used",
    re.I,
)
_SECTOR_ORDER = ("business", "government", "nonprofit", "community", "academic")


def split(value: str) -> list[str]:
    return [s.strip() for s in value.split("|") if s.strip()]


def applicant_sectors(types: list[str]) -> list[str]:
    found = {sector for t in types for pat, sector in APPLICANT_SECTORS if pat.search(t)}
    if any(re.search(r"excludes institutions of higher", t, re.I) for t in types) and not any(
        re.search(r"includes institutions of higher|universit|college", t, re.I) for t in types
    ):
        found.discard("academic")
    return [s for s in _SECTOR_ORDER if s in found]


def required_capabilities(types: list[str]) -> list[str]:
    out: list[str] = []
    for t in types:
        for pat, keys in ASSISTANCE_CAPABILITIES:
            if pat.search(t):
                out.extend(k for k in keys if k not in out)
    return out


def agency_id(top: str, sub: str = "") -> str:
    return "agency-" + slug(top) + (f"--{slug(sub)}" if sub else "")


def read_federal_programs(
    path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    seen: dict[str, int] = {}
    programmes: dict[str, list[str]] = defaultdict(list)  # agency id -> programme names
    categories: dict[str, Counter[str]] = defaultdict(Counter)
    agencies: dict[str, tuple[str, str]] = {}  # agency id -> (top, sub)
    total: Counter[str] = Counter()  # agency id -> programmes, ended ones included
    for row, values in iter_rows(
        p, batch, required=REQUIRED, limit=limit, progress=progress, desc="programmes"
    ):
        try:
            pid = required_text(values, "program_id")
            if pid in seen:
                raise RowRejected("program_id", f"duplicate program_id '{pid}' (row {seen[pid]})")
            top = required_text(values, "top_agency")
            sub = safe_text(values, "sub_agency")
            owner = agency_id(top, sub)
            need = _need(pid, owner, values)
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[pid] = row
        if _is_tax_expenditure(values):
            batch.flag(need.id, row, "left out: a tax expenditure, not a programme to join")
            continue
        agencies.setdefault(agency_id(top), (top, ""))
        if sub:
            agencies.setdefault(owner, (top, sub))
        ended = ENDED.search(need.text)
        if ended:
            need = need.model_copy(update={"status": "closed"})
            batch.flag(need.id, row, f"programme closed: '{ended.group(0)}'")
        batch.needs.append(need)
        for aid in {agency_id(top), owner}:
            total[aid] += 1
            if not ended:
                programmes[aid].append(need.title or pid)
                categories[aid].update(_categories(safe_text(values, "categories")))
    for aid, (top, sub) in agencies.items():
        org = _agency(aid, top, sub, programmes[aid], categories[aid])
        if not programmes[aid]:
            batch.flag(aid, None, f"inactive: all {total[aid]} of its programmes have ended")
        batch.add_organisation(org)
    return batch


def _is_tax_expenditure(values: dict[str, Any]) -> bool:
    kind = safe_text(values, "program_type").strip().lower().replace(" ", "_")
    types = safe_text(values, "assistance_types").lower()
    return kind == "tax_expenditure" or types.strip() == "tax expenditures"


def _categories(value: str) -> list[str]:
    out = []
    for c in split(value):
        out.append(c.split(" - ")[-1].strip().lower())
    return out


def _need(pid: str, owner: str, values: dict[str, Any]) -> Need:
    name = required_text(values, "name")
    objective = free_text(values, "objective")
    if len(objective) < 3:
        raise RowRejected("objective", "missing required value")
    applicants = split(safe_text(values, "applicant_types"))
    sectors = applicant_sectors(applicants)
    eligible = f" Eligible applicants: {'; '.join(applicants)}." if applicants else ""
    text = shorten(objective, 5_000 - len(eligible)) + eligible
    data = {
        "id": f"fpi-{pid}",
        "title": shorten(name, 300),
        "text": text,
        "required_capabilities": required_capabilities(
            split(safe_text(values, "assistance_types"))
        ),
        "wanted_sectors": sectors,
        "requester_id": owner,
        "country": "US",
        "kind": "programme",  # an opportunity the agency offers, evidence of what it funds
    }
    columns = {"id": "program_id", "text": "objective", "title": "name"}
    return validated(Need, data, columns)  # type: ignore[no-any-return]


def programme_offers(titles: list[str]) -> list[str]:
    """What an agency offers beyond funding, read from the titles of its running programmes:
    each capability named by at least PROGRAMME_OFFER_SHARE of them, as "<its label>
    programmes" (a card reads "Covers housing and shelter ... with its offer 'housing and
    shelter programmes'"). Most named first."""
    counts = Counter(k for t in titles for k in capabilities.capabilities_in(t) - _GENERIC)
    least = max(min(2, len(titles)), math.ceil(PROGRAMME_OFFER_SHARE * len(titles)))
    kept = sorted((k for k, c in counts.items() if c >= least), key=lambda k: (-counts[k], k))
    out = []
    for key in kept:
        label = capabilities.label(key)
        for phrase in (f"{label} programmes", f"{label.split(' and ')[0]} programmes"):
            if capabilities.capabilities_in(phrase) - _GENERIC <= set(kept):
                out.append(phrase)  # it names no capability the titles do not
                break
    return out


def _agency(aid: str, top: str, sub: str, names: list[str], cats: Counter[str]) -> Organisation:
    name = f"{sub} ({top})" if sub else top
    listed = "; ".join(names[:12]) + ("; ..." if len(names) > 12 else "")
    description = (
        f"{name} is a US federal agency administering {len(names)} assistance "
        f"programme{'s' if len(names) != 1 else ''}: {listed}."
    )
    if not names:
        description = f"{name} is a US federal agency whose assistance programmes have ended."
    data = {
        "id": aid,
        "name": shorten(name, 300),
        "sector": "government",
        "description": shorten(description, 20_000),
        "focus_areas": [c for c, _ in cats.most_common(5)],
        "offers": [FUNDING_OFFER, *programme_offers(names)] if names else [],
        "country": "US",
        "active": bool(names),
        "sources": [f"fpi:{aid}"],
        "service_level": "national",  # a federal body serves every state,
        "service_regions": served_states(name),  # but a regional one only its own
    }
    return validated(Organisation, data, {"name": "top_agency"})  # type: ignore[no-any-return]
