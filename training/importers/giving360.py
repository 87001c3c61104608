"""360Giving grants: funders and recipients as organisations, each grant as a partnership record.

Columns (360Giving flat export, names lower-cased): grant_id, funder_id, funder_name,
recipient_id, recipient_name, title, description, amount_awarded, award_date; optional
recipient_org_type, recipient_locality, currency, grant_programme, description_is_placeholder.

A funder is `government` when its identifier or name marks a public body (GB-GOR, GB-LAE,
an ONS area code; "council", "authority", "department for", ...), otherwise `nonprofit`.
A recipient's sector follows its organisation type (university -> academic, limited company ->
business, community interest company / society -> community, else nonprofit). Organisations
get a short description only; `training.history.enrich_profiles` adds what they funded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from matcher.domain import Organisation
from training.importers.base import (
    ImportBatch,
    RowRejected,
    free_text,
    iter_rows,
    number,
    parse_date,
    registry_id,
    reject,
    required_text,
    safe_text,
    shorten,
    validated,
)
from training.partnership import Partnership

REQUIRED = ("grant_id", "funder_id", "funder_name", "recipient_id", "recipient_name")
_GOV_ID = re.compile(r"^(GB-(GOR|LAE|LAS|LANI|PLA|NHS|UKPRN-\d+)-|[ENSWK]\d{8}$)", re.I)
_GOV_NAME = re.compile(
    r"\b(council|authority|government|department (for|of)|ministry|borough|county|"
    r"city of|nhs|executive agency|combined authority|mayor of)\b",
    re.I,
)
_ACADEMIC = re.compile(r"universit|college|institute of higher|school", re.I)
_BUSINESS = re.compile(r"private limited|limited by shares|limited liability partnership|plc", re.I)
_COMMUNITY = re.compile(r"community interest|community benefit|co-operative|unincorporated", re.I)
_TRUE = {"true", "1", "yes", "y", "t"}


def funder_sector(funder_id: str, funder_name: str) -> str:
    if _GOV_ID.match(funder_id) or _GOV_NAME.search(funder_name):
        return "government"
    return "nonprofit"


def recipient_sector(org_type: str, name: str) -> str:
    if _ACADEMIC.search(org_type) or re.search(r"\buniversity\b", name, re.I):
        return "academic"
    if "community interest" in org_type.lower() and "guarantee" not in org_type.lower():
        return "community"
    if _BUSINESS.search(org_type) and "community interest" not in org_type.lower():
        return "business"
    if _COMMUNITY.search(org_type):
        return "community"
    return "nonprofit"


def read_360giving(
    path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    seen: dict[str, int] = {}
    funders_of: dict[str, dict[str, None]] = {}  # recipient id -> funder names, in order
    funder_ids: set[str] = set()
    for row, values in iter_rows(
        p, batch, required=REQUIRED, limit=limit, progress=progress, desc="360giving"
    ):
        try:
            grant = _grant(values)
            if grant.id in seen:
                raise RowRejected(
                    "grant_id", f"duplicate grant_id '{grant.id}' (first at row {seen[grant.id]})"
                )
            funder = _funder(values)
            recipient = _recipient(values)
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[grant.id] = row
        batch.add_organisation(funder)
        funder_ids.add(funder.id)
        batch.add_organisation(recipient)
        funders_of.setdefault(recipient.id, {})[funder.name] = None
        batch.partnerships.append(grant)
    for fid in funder_ids:
        funders_of.pop(fid, None)  # a funder that also received grants keeps its funder text
    _describe_recipients(batch, funders_of)
    return batch


def _grant(values: dict[str, Any]) -> Partnership:
    placeholder = safe_text(values, "description_is_placeholder").lower() in _TRUE
    description = "" if placeholder else free_text(values, "description")
    currency = safe_text(values, "currency").upper()
    amount = number(values, "amount_awarded")
    if amount is not None and amount < 0:
        raise RowRejected("amount_awarded", f"negative amount: {amount:g}")
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        raise RowRejected("currency", f"not a currency code: '{currency[:40]}'")
    data = {
        "id": required_text(values, "grant_id"),
        "source_id": registry_id(values, "funder_id"),
        "partner_id": registry_id(values, "recipient_id"),
        "title": shorten(safe_text(values, "title") or safe_text(values, "grant_programme"), 500)
        or None,
        "description": description or None,
        "started_at": parse_date(safe_text(values, "award_date"), column="award_date"),
        "outcome": "funded",
        "amount": amount,
    }
    columns = {
        "id": "grant_id",
        "source_id": "funder_id",
        "partner_id": "recipient_id",
        "__model__": "recipient_id",
    }
    return validated(Partnership, data, columns)  # type: ignore[no-any-return]


def _funder(values: dict[str, Any]) -> Organisation:
    fid = registry_id(values, "funder_id")
    name = required_text(values, "funder_name")
    sector = funder_sector(fid, name)
    kind = "public funder" if sector == "government" else "grant-making funder"
    data = {
        "id": fid,
        "name": shorten(name, 300),
        "sector": sector,
        "description": f"{name} is a UK {kind}.",
        "offers": ["grant funding"],
        "country": "GB",
    }
    return validated(  # type: ignore[no-any-return]
        Organisation, data, {"id": "funder_id", "name": "funder_name"}
    )


def _recipient(values: dict[str, Any]) -> Organisation:
    rid = registry_id(values, "recipient_id")
    name = required_text(values, "recipient_name")
    org_type = safe_text(values, "recipient_org_type")
    locality = safe_text(values, "recipient_locality")
    data = {
        "id": rid,
        "name": shorten(name, 300),
        "sector": recipient_sector(org_type, name),
        "description": f"{name} is a UK grant recipient.",
        "needs": ["grant funding"],
        "city": locality or None,
        "country": "GB",
    }
    return validated(  # type: ignore[no-any-return]
        Organisation,
        data,
        {"id": "recipient_id", "name": "recipient_name", "city": "recipient_locality"},
    )


def _describe_recipients(batch: ImportBatch, funders_of: dict[str, dict[str, None]]) -> None:
    for rid, names in funders_of.items():
        org = batch.organisation(rid)
        if org.sector.value == "government" or not names:
            continue
        where = f" in {org.city}" if org.city else ""
        listed = ", ".join(list(names)[:5])
        text = f"{org.name} is a UK organisation{where} funded by {listed}."
        batch.replace_organisation(org.model_copy(update={"description": shorten(text, 20_000)}))
        batch.made_up.add(rid)
