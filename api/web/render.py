"""What the page templates are given: score bars, the coalition, one section per sector.

Each organisation is shown in full once: coalition members first (with their role), then each
sector's ranked partners, where a coalition member is only mentioned and linked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.web.distance import km_away, statewide, within_options
from matcher.capabilities import label as capability_label
from matcher.coalition import ROLE_OF_SECTOR
from matcher.domain import PART_OF, SECTORS, Match, Recommendation
from matcher.names import readable_name
from matcher.score import runs_related_programme

if TYPE_CHECKING:
    from matcher.accounts import Person

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
# a capability as the reasons name it ('health services', not the key 'healthcare')
templates.env.filters["capability"] = capability_label
templates.env.filters["readable"] = readable_name  # a name in capitals, in title case
# "statewide", or "district-wide" for DC and "territory-wide" for a territory
templates.env.filters["statewide"] = statewide
templates.env.filters["km_away"] = km_away  # "12 km", "less than 1 km"
templates.env.filters["runs_related_programme"] = runs_related_programme


def _parent_body(focus: str) -> bool:
    return focus.lower().startswith(PART_OF)


def _parent_name(focus: str) -> str:
    """ "part of labor department" -> "Labor Department" (as the registry names it)."""
    return readable_name(focus[len(PART_OF) :].upper())


templates.env.tests["parent_body"] = _parent_body
templates.env.filters["parent_name"] = _parent_name

COMPONENT_ORDER = ("fit", "coverage", "reciprocity", "proximity", "freshness")
COMPONENT_LABELS = {
    "fit": "Fit to the need",
    "coverage": "Covers what is required",
    "reciprocity": "Gains for both sides",
    "proximity": "Nearby",
    "freshness": "Profile up to date",
}
ROLE_LABELS = {
    "business": "Business",
    "government": "Government",
    "nonprofit": "Nonprofit / community",
}
SECTOR_LABELS = {s: s.capitalize() for s in SECTORS}


def role_labels_for(wanted: Sequence[str]) -> dict[str, str]:
    """Each coalition role named as the search asked it: by the sectors ticked that fill it
    ("Community" with only community ticked), else as ROLE_LABELS. With community alone ticked
    the page said "This service's data holds no nonprofit / community organisation based in RI"
    with thousands of Rhode Island nonprofits in it (real-data walk, 2026-12-04)."""
    out = dict(ROLE_LABELS)
    for role in ROLE_LABELS:
        fill = [s for s in SECTORS if ROLE_OF_SECTOR.get(s, s) == role]
        asked = [s for s in fill if s in wanted]
        if asked and asked != fill:  # some of the role's sectors only
            out[role] = " / ".join(SECTOR_LABELS[s] for s in asked)
    return out


def breakdown(match: Match, weights: dict[str, float]) -> list[dict[str, Any]]:
    """Segments of the score bar: each component's weighted share of the total score, and
    whether it counts (a component weighed 0 is listed apart in the breakdown, not drawn: "Gains
    for both sides 0.50" beside a segment of no width read as a drawing error)."""
    total_w = sum(weights.get(c, 0.0) for c in COMPONENT_ORDER) or 1.0
    out = []
    for name in COMPONENT_ORDER:
        value = float(match.components.get(name, 0.0))
        share = weights.get(name, 0.0) * value / total_w
        out.append(
            {
                "name": name,
                "label": COMPONENT_LABELS[name],
                "value": value,
                "percent": round(max(0.0, min(1.0, share)) * 100, 1),
                "counted": weights.get(name, 0.0) > 0,
            }
        )
    return out


def card_id(org_id: str) -> str:
    """The HTML id (and permalink anchor) of an organisation's card: one per page."""
    return f"org-{org_id}"


@dataclass
class Entry:
    """One ranked partner of a sector: a full card, or a mention of a coalition member."""

    rank: int
    match: Match
    segs: list[dict[str, Any]]
    in_coalition: bool
    role: str | None = None


@dataclass
class SectorView:
    sector: str
    label: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def new_count(self) -> int:
        return sum(1 for e in self.entries if not e.in_coalition)


@dataclass
class ResultView:
    rec: Recommendation
    rec_id: str
    members: list[tuple[Match, list[dict[str, Any]], str | None]]
    sectors: list[SectorView]
    missing_roles: list[str]
    recognised: bool
    names: dict[str, str]  # coalition member id -> name
    # help asked for that no coalition member offers, with a partner of the sector lists that
    # does
    uncovered: list[tuple[str, Match]] = field(default_factory=list)


def result_view(rec: Recommendation, rec_id: str, weights: dict[str, float]) -> ResultView:
    role_of = {org_id: role for role, org_id in rec.coalition.roles.items()}
    members = [(m, breakdown(m, weights), role_of.get(m.id)) for m in rec.coalition.members]
    in_coalition = {m.id for m in rec.coalition.members}
    order = [s for s in SECTORS if s in rec.by_sector] + [
        s for s in rec.by_sector if s not in SECTORS
    ]
    sectors = []
    for sector in order:
        view = SectorView(sector, SECTOR_LABELS.get(sector, sector.capitalize()))
        for rank, m in enumerate(rec.by_sector[sector], start=1):
            member = m.id in in_coalition
            segs = [] if member else breakdown(m, weights)
            view.entries.append(Entry(rank, m, segs, member, role_of.get(m.id)))
        sectors.append(view)
    # roles asked for that no partner above the relevance floor can fill (named by the engine)
    missing = list(rec.coalition.unfilled_roles)
    return ResultView(
        rec=rec,
        rec_id=rec_id,
        members=members,
        sectors=sectors,
        missing_roles=missing,
        recognised=bool(rec.required_capabilities),
        names={m.id: readable_name(m.name) for m in rec.coalition.members},
        uncovered=uncovered_by_coalition(rec),
    )


def uncovered_by_coalition(rec: Recommendation) -> list[tuple[str, Match]]:
    """The help asked for that no coalition member offers, each with the first partner of the
    sector lists that does (the engine names the organisation for help no partner shown offers
    in `offered_elsewhere`, and calls it a gap when none within the filters does)."""
    co = rec.coalition
    shown = [m for ms in rec.by_sector.values() for m in ms]
    out = []
    for c in rec.required_capabilities:
        if co.covered.get(c) or c in co.gaps or c in co.offered_elsewhere:
            continue
        offering = next((m for m in shown if c in m.covers), None)
        if offering is not None:
            out.append((c, offering))
    return out


NEXT_MAX = 200  # the longest next= the log-in and sign-up pages take
# pages with a next= of their own: the header's links keep it rather than point at them
_ACCOUNT_PAGES = ("/login", "/signup", "/reset", "/logout")


def operator_contact(contact: str) -> dict[str, str] | None:
    """The link to whoever runs the service (`ApiSettings.contact`): an e-mail address as a
    mailto link, an http(s) address as itself; anything else (or nothing) is not shown."""
    text = contact.strip()
    if text.startswith(("https://", "http://")) and " " not in text:
        return {"href": text, "text": text}
    if re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", text):
        return {"href": f"mailto:{text}", "text": text}
    return None


def local_path(path: str) -> bool:
    """A path on this site, safe to redirect to after log-in or sign-up (no open redirect):
    one leading slash, no backslash (browsers read it as a slash), no control character or
    space (browsers drop tabs and newlines, so "/<tab>/evil.example" would become off-site)."""
    return (
        path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and not any(ord(c) <= 0x20 or ord(c) == 0x7F for c in path)
    )


def come_back_to(request: Request, back_to: str | None, form: Any) -> str | None:
    """Where the header's Log in / Sign up links bring the person back (their next=): the
    page shown, path and query; for a page a POST rendered, the `back_to` its route gives (a
    results page: its permalink); on the log-in and sign-up pages, their own next. None when
    there is no page to come back to (the empty home page: signing up there lands on the
    account page, which says what to do next), or it would not fit (the query is dropped
    first)."""
    path = request.url.path
    if back_to is None and path.startswith(_ACCOUNT_PAGES):
        back_to = form.get("next") if isinstance(form, dict) else None
        return back_to if isinstance(back_to, str) and local_path(back_to) else None
    if back_to is None:
        if request.method not in ("GET", "HEAD"):
            return None
        query = request.url.query  # as sent (percent-encoded); the path is decoded
        back_to = quote(path) + (f"?{query}" if query else "")
    if len(back_to) > NEXT_MAX:
        back_to = back_to.split("?", 1)[0]
    if back_to == "/":  # the empty form: nothing to come back to, the account page says more
        return None
    return back_to if len(back_to) <= NEXT_MAX and local_path(back_to) else None


def context(request: Request, **extra: Any) -> dict[str, Any]:
    session: dict[str, Any] = request.scope.get("session") or {}
    # the session's person, when the route looked them up (api.deps.get_optional_person)
    person: Person | None = getattr(request.state, "person", None)
    return {
        "request": request,
        # the signed-in e-mail (for the header) and the CSRF token of the forms, when a
        # session exists; anonymous pages start no session
        "session_email": session.get("email") if session.get("sid") else None,
        # signed in with an e-mail not confirmed yet (their marks count once it is); only
        # known on pages whose route looked the person up
        "session_unconfirmed": person is not None and not person.email_verified,
        "csrf": session.get("csrf"),
        "sectors": SECTORS,
        "role_labels": ROLE_LABELS,
        "component_labels": COMPONENT_LABELS,
        "card_id": card_id,
        "within_options": within_options,
        "next_here": come_back_to(request, extra.pop("back_to", None), extra.get("form")),
        **extra,
    }
