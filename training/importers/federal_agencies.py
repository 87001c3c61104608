"""US Federal Register agency list: every agency as a national `government` organisation.

Columns: id, name (required); short_name, parent_name, agency_url, description.

Each row becomes organisation `fedreg-<id>` (benchmarks rely on this id scheme): sector
government, service level national, country US, website from agency_url, sources
["fedreg:<id>"], the parent agency in the description ("Part of the Agriculture Department.")
and as a focus area. A row without a description still imports (its description is its name)
and is listed in `flagged`. A body the registry says no longer exists (see
`training.importers.historical`: abolished, terminated, renamed, merged, or named as another
row's predecessor) is imported with active=False and listed in `flagged` with the reason.
A regional body (`training.importers.regional_bodies`: the Appalachian Regional Commission,
the Tennessee Valley Authority, ...) gets the states it serves as `service_regions`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from matcher.domain import PART_OF, SHORT_NAME_MAX, Organisation
from training.importers.base import (
    ImportBatch,
    RowRejected,
    free_text,
    iter_rows,
    reject,
    required_text,
    safe_text,
    shorten,
    validated,
)
from training.importers.historical import (
    Body,
    historical_reason,
    names_predecessor,
    predecessor_mentions,
)
from training.importers.regional_bodies import served_states

REQUIRED = ("id", "name")
SOURCE = "fedreg"
_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$", re.I)


def org_id(row_id: str) -> str:
    return f"fedreg-{row_id}"


def read_federal_agencies(
    path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    seen: dict[str, int] = {}
    bodies: dict[str, Body] = {}
    descriptions: dict[str, str] = {}
    for row, values in iter_rows(
        p, batch, required=REQUIRED, limit=limit, progress=progress, desc="agencies"
    ):
        try:
            rid = required_text(values, "id")
            if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", rid):
                raise RowRejected(
                    "id", f"not a registry id (letters, digits, - or _): '{rid[:40]}'"
                )
            if rid in seen:
                raise RowRejected("id", f"duplicate id '{rid}' (first at row {seen[rid]})")
            org, described = _agency(rid, values)
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[rid] = row
        if not described:
            batch.flag(org.id, row, "no description: imported with its name as description")
        reason = historical_reason(org.name, described, safe_text(values, "short_name"))
        if reason:
            org = org.model_copy(update={"active": False})
            batch.flag(org.id, row, f"inactive (historical body): {reason}")
        bodies[org.id] = Body(org.name, safe_text(values, "short_name"))
        descriptions[org.id] = described
        batch.add_organisation(org)
    _mark_predecessors(batch, bodies, descriptions, seen)
    return batch


def _mark_predecessors(
    batch: ImportBatch, bodies: dict[str, Body], descriptions: dict[str, str], rows: dict[str, int]
) -> None:
    """A row another row calls its predecessor ("successor agency to the Postal Rate
    Commission", "replaced the former CSREES") is historical even if its own text is silent."""
    for oid, text in descriptions.items():
        for mention in predecessor_mentions(text):
            for other, body in bodies.items():
                if other == oid or not names_predecessor(body, mention):
                    continue
                org = batch.organisation(other)
                if org.active:
                    batch.replace_organisation(org.model_copy(update={"active": False}))
                    successor = batch.organisation(oid).name
                    batch.flag(
                        other,
                        rows[other.removeprefix("fedreg-")],
                        f"inactive (historical body): named as predecessor by '{successor}' "
                        f"({oid}): '{mention[:80]}'",
                    )


def _agency(rid: str, values: dict[str, Any]) -> tuple[Organisation, str]:
    name = required_text(values, "name")
    parent = safe_text(values, "parent_name")
    # a formula-like short name rejects the row; one too long for a short name is not kept
    typed_short = safe_text(values, "short_name")
    short = typed_short if 0 < len(typed_short) <= SHORT_NAME_MAX and typed_short != name else None
    url = safe_text(values, "agency_url")
    if url and not _URL.match(url):
        raise RowRejected("agency_url", f"not a web address: '{url[:60]}'")
    described = free_text(values, "description")
    description = described or name
    if parent and parent.lower() != name.lower():
        description = f"{description} Part of the {parent}."
    focus = [f"{PART_OF}{parent}"] if parent else []
    data = {
        "id": org_id(rid),
        "name": shorten(name, 300),
        "short_name": short,
        "sector": "government",
        "description": shorten(description, 20_000),
        "focus_areas": focus,
        "country": "US",
        "service_level": "national",
        "service_regions": served_states(name),
        "website": url or None,
        "sources": [f"{SOURCE}:{rid}"],
    }
    columns = {"name": "name", "description": "description", "website": "agency_url"}
    return validated(Organisation, data, columns), described
