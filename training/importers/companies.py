"""Generic company lists (S&P 500 shape and similar) as `business` organisations.

Columns, each under any of its aliases (case-insensitive): name (company, company_name);
symbol (ticker, id, company_number); sector; industry; city; state (region); country;
employees (employee_count, full_time_employees); summary (description, business_summary);
website (url). The id is `ticker-<SYMBOL>` when there is a symbol, else `co-<slug of name>`;
the size band follows the number of employees (micro < 10, small < 50, medium < 250, large);
companies of 250 people or more (or of unknown size) are national, with their home state as
region; smaller ones are local. Some work in a territory, not the whole country
(`service_regions`, read by `training.importers.territory`): a regulated utility (industry
"Utilities - Regulated ...", "Utilities - Diversified") is limited to its home state and the US
states its summary names as where it operates (the sentences saying where it is headquartered
or incorporated do not count); a regional bank or a homebuilder to its home state and the states
its summary lists as where its branches are or it operates ("branches in New York, Pennsylvania
and Ohio"), and to nothing (national) when it lists none or says it works across the country.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.domain import Organisation
from matcher.errors import ValidationError
from training.importers.base import (
    ImportBatch,
    RowRejected,
    country_code,
    free_text,
    iter_rows,
    number,
    reject,
    safe_text,
    shorten,
    size_band,
    slug,
    validated,
)
from training.importers.irs import infer_offers
from training.importers.territory import (
    footprint_states,
    is_territorial,
    named_states,
    served_regions,
    works_in_a_footprint,
)

__all__ = [
    "footprint_states",
    "is_territorial",
    "named_states",
    "read_companies",
    "served_regions",
    "works_in_a_footprint",
]

ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "company", "company_name", "shortname", "longname"),
    "symbol": ("symbol", "ticker", "id", "company_number"),
    "sector": ("sector",),
    "industry": ("industry",),
    "city": ("city", "town"),
    "state": ("state", "region", "county"),
    "country": ("country",),
    "employees": ("employees", "employee_count", "full_time_employees", "fulltimeemployees"),
    "summary": ("summary", "description", "business_summary", "longbusinesssummary"),
    "website": ("website", "url"),
}


def read_companies(
    path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    columns: dict[str, str] | None = None
    seen: dict[str, int] = {}
    # (name, summary) -> (row, id): one company listed under two share classes (Alphabet's
    # GOOGL and GOOG, Fox's FOXA and FOX, News Corp's NWSA and NWS in the S&P 500) was shown
    # twice on one page (helper-72's walk, 2026-12-06)
    companies: dict[tuple[str, str], tuple[int, str]] = {}
    for row, values in iter_rows(
        p, batch, required=(), limit=limit, progress=progress, desc="companies"
    ):
        if columns is None:
            columns = _columns(values)
        try:
            org = _company(values, columns)
            col = columns.get("symbol", columns["name"])
            if org.id in seen:
                first = seen[org.id]
                raise RowRejected(col, f"duplicate company '{org.id}' (first at row {first})")
            same = companies.get(_sameness(org))
            if same is not None:
                raise RowRejected(
                    col,
                    f"'{org.id}' is {org.name} again, another share class of '{same[1]}' (row "
                    f"{same[0]}): imported once",
                )
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[org.id] = row
        companies[_sameness(org)] = (row, org.id)
        batch.add_organisation(org, row, columns.get("city"))
    return batch


def _sameness(org: Organisation) -> tuple[str, str]:
    """What two rows of one company share whatever its ticker: its name and its summary."""
    return " ".join(org.name.lower().split()), " ".join((org.description or "").lower().split())


def _columns(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, aliases in ALIASES.items():
        col = next((a for a in aliases if a in values), None)
        if col is not None:
            out[name] = col
    if "name" not in out:
        raise ValidationError(
            f"missing required column 'name' (or one of {', '.join(ALIASES['name'])})"
        )
    return out


def _get(values: dict[str, Any], columns: dict[str, str], name: str) -> str:
    return safe_text(values, columns[name]) if name in columns else ""


def _company(values: dict[str, Any], columns: dict[str, str]) -> Organisation:
    name = _get(values, columns, "name")
    if not name:
        raise RowRejected(columns["name"], "missing required value")
    symbol = _get(values, columns, "symbol").upper()
    org_id = f"ticker-{slug(symbol).upper()}" if symbol else f"co-{slug(name)}"
    sector = _get(values, columns, "sector")
    industry = _get(values, columns, "industry")
    city = _get(values, columns, "city")
    country_raw = _get(values, columns, "country")
    country = country_code(country_raw)
    if country_raw and country is None:
        raise RowRejected(columns["country"], f"unknown country '{country_raw[:40]}'")
    employees = number(values, columns["employees"]) if "employees" in columns else None
    if employees is not None and employees < 0:
        raise RowRejected(columns["employees"], f"negative number of employees: {employees:g}")
    summary = free_text(values, columns["summary"]) if "summary" in columns else ""
    if not summary:
        what = ", ".join(x for x in (industry, sector) if x) or "business"
        where = f" based in {city}" if city else ""
        summary = f"{name} is a company ({what}){where}."
    region = _get(values, columns, "state")
    data = {
        "id": org_id,
        "name": shorten(name, 300),
        "sector": "business",
        "description": shorten(summary, 20_000),
        "focus_areas": [x for x in (sector, industry) if x],
        "offers": infer_offers(summary),
        "city": city or None,
        "region": region or None,
        "country": country,
        "size": size_band(employees),
        # a listed company with 250 people or more (every S&P 500 one) works nationally, its
        # home state (region) being where it is local
        "service_level": "national" if employees is None or employees >= 250 else "local",
        # a regulated utility serves its territory's states only, whatever its size; a regional
        # bank or a homebuilder the footprint its summary lists, when it lists one
        "service_regions": served_regions(industry, summary, region),
        "website": _get(values, columns, "website") or None,
    }
    field_columns = {k: columns.get(v, v) for k, v in {"name": "name", "region": "state"}.items()}
    field_columns["description"] = columns.get("summary", "summary")
    return validated(Organisation, data, field_columns)  # type: ignore[no-any-return]
