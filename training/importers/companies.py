"""Generic company lists (S&P 500 shape and similar) as `business` organisations.

Columns, each under any of its aliases (case-insensitive): name (company, company_name);
symbol (ticker, id, company_number); sector; industry; city; state (region); country;
employees (employee_count, full_time_employees); summary (description, business_summary);
website (url). The id is `ticker-<SYMBOL>` when there is a symbol, else `co-<slug of name>`;
the size band follows the number of employees (micro < 10, small < 50, medium < 250, large);
companies of 250 people or more (or of unknown size) are national, with their home state as
region; smaller ones are local. A regulated utility (industry "Utilities - Regulated ...",
"Utilities - Diversified") serves a licensed territory, not the country: it is limited to the
US states its summary names as where it operates (`service_regions`; the sentences saying where
it is headquartered or incorporated do not count) and its home state (a utility's seat is in
its territory).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from matcher.domain import SERVED_REGIONS_MAX, Organisation
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


# Industries whose customers are those of a licensed territory: electricity, gas and water
# distribution (Yahoo Finance's industry names, as in the S&P 500 list; GICS's "Electric
# Utilities", "Gas Utilities", "Water Utilities", "Multi-Utilities" read the same way).
_TERRITORIAL = re.compile(
    r"^utilities\s*-\s*(?:regulated|diversified)\b|^(?:electric|gas|water|multi-)\s*utilities$",
    re.IGNORECASE,
)
# a state's name that names something else: "Michigan City", "Delaware River", "Washington, D.C."
_NOT_THE_STATE = (
    r"(?!\s+(?:city|county|valley|river|street|avenue|road|park|bay|basin)\b)(?!,?\s*d\.\s?c\.)"
)
# sentences about the company's seat, not where it serves: "headquartered in Springfield,
# Massachusetts", "incorporated in New Jersey", "formerly known as ..."
_SEAT = re.compile(r"headquarter|incorporated|\bfounded\b|formerly known", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.;])\s+")


def is_territorial(industry: str) -> bool:
    """Whether a company of this industry serves a licensed territory (a regulated utility)."""
    return bool(_TERRITORIAL.search(industry.strip()))


# names of several states at once ("in the Carolinas"); wider regions ("the Midwest") are too
# loosely bounded to read as a territory
_GROUPS = {
    "carolinas": ("NC", "SC"),
    "dakotas": ("ND", "SD"),
    "new england": ("CT", "ME", "MA", "NH", "RI", "VT"),
}


@lru_cache(maxsize=1)
def _state_pattern() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    from matcher.places import gazetteer

    _, names = gazetteer.states()
    by_name: dict[str, tuple[str, ...]] = {n.lower(): (code,) for code, n in names.items()}
    by_name.update(_GROUPS)
    alternation = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b{_NOT_THE_STATE}", re.IGNORECASE), by_name


def named_states(summary: str) -> list[str]:
    """The US states (codes, in order of first mention) a summary names as where the company
    works: sentences about its headquarters, incorporation or former names left out."""
    pattern, by_name = _state_pattern()
    found: list[str] = []
    for sentence in _SENTENCE.split(summary):
        if _SEAT.search(sentence):
            continue
        for m in pattern.finditer(sentence):
            for code in by_name[" ".join(m.group(0).split()).lower()]:
                if code not in found:
                    found.append(code)
    return found


def served_regions(industry: str, summary: str, home: str) -> list[str]:
    """The states a company is limited to: for a regulated utility, its home state (a
    utility's seat is in its territory) and the states its summary names; [] for every other
    company (its service level decides)."""
    if not is_territorial(industry):
        return []
    from matcher.places.resolve import state_code

    seat = state_code(home)
    states = ([seat] if seat else []) + named_states(summary)
    return list(dict.fromkeys(states))[:SERVED_REGIONS_MAX]


def read_companies(
    path: str | Path, *, limit: int | None = None, progress: bool = False
) -> ImportBatch:
    p = Path(path)
    batch = ImportBatch(source=p.name)
    columns: dict[str, str] | None = None
    seen: dict[str, int] = {}
    for row, values in iter_rows(
        p, batch, required=(), limit=limit, progress=progress, desc="companies"
    ):
        if columns is None:
            columns = _columns(values)
        try:
            org = _company(values, columns)
            if org.id in seen:
                col = columns.get("symbol", columns["name"])
                first = seen[org.id]
                raise RowRejected(col, f"duplicate company '{org.id}' (first at row {first})")
        except RowRejected as exc:
            reject(batch, row, exc)
            continue
        seen[org.id] = row
        batch.add_organisation(org, row, columns.get("city"))
    return batch


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
        # a regulated utility serves its territory's states only, whatever its size
        "service_regions": served_regions(industry, summary, region),
        "website": _get(values, columns, "website") or None,
    }
    field_columns = {k: columns.get(v, v) for k, v in {"name": "name", "region": "state"}.items()}
    field_columns["description"] = columns.get("summary", "summary")
    return validated(Organisation, data, field_columns)  # type: ignore[no-any-return]
