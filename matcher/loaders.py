"""Bulk loading of organisations and needs from CSV, JSON Lines or Parquet, with per-row errors.

Good rows are always kept; every bad row becomes a `RowError` naming the 1-based data row and the
source column. Problems with the whole file (missing file, unknown format, a mapping to an unknown
field, a missing required column) raise `ValidationError` or `StorageError` up front.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from matcher.domain import LEVELS, SECTORS, SIZES, Need, Organisation
from matcher.errors import PlaceError, ValidationError, field_of_model_check, plain_message
from matcher.loaders_read import RawRow, RawTable, ReadLimits, infer_format, read_table
from matcher.places.locate import locate

log = logging.getLogger(__name__)

Kind = Literal["organisation", "need"]
Record = Organisation | Need
MODELS: dict[str, type[BaseModel]] = {"organisation": Organisation, "need": Need}
REQUIRED: dict[str, tuple[str, ...]] = {
    "organisation": ("name", "sector", "description"),
    "need": ("text",),
}
NUMERIC_FIELDS = frozenset({"lat", "lon", "service_radius_km", "radius_km"})
LIST_FIELDS = frozenset(
    {
        "focus_areas",
        "offers",
        "needs",
        "required_capabilities",
        "wanted_sectors",
        "service_regions",
    }
)
LOWERCASE_FIELDS = frozenset({"sector", "size", "status", "service_level"})
# Text fields that JSON or Parquet may hold as numbers (ids, ZIP codes).
TEXT_FIELDS = frozenset(
    {
        "id",
        "name",
        "description",
        "city",
        "region",
        "country",
        "postcode",
        "website",
        "contact",
        "owner",
        "text",
        "title",
        "place",
        "requester_id",
    }
)
_FORMULA_START = ("=", "+", "-", "@")
# Plain numbers and phone numbers ("-3.5", "+44 161 496 0000") are not formulas.
_FORMULA = re.compile(r"^\s*[=+\-@]")
_LIST_FORMULA = re.compile(r"(?:^|[|;])\s*[=+\-@]")
_PLAIN_NUMBER = re.compile(r"[+\-]?[0-9][0-9 .,()+\-]*")
_ENUM_CHOICES = {
    "sector": SECTORS,
    "wanted_sectors": SECTORS,
    "size": SIZES,
    "service_level": LEVELS,
}


@dataclass(frozen=True)
class RowError:
    """Why one source row was rejected. `row` is the 1-based data row (CSV header not counted)."""

    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        if self.column:
            return f"row {self.row}, column '{self.column}': {self.reason}"
        return f"row {self.row}: {self.reason}"


@dataclass
class LoadReport:
    accepted: list[Record] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    # accepted rows with a problem worth knowing (an address that does not geocode)
    warnings: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    source: str = ""

    @property
    def rejected_rows(self) -> int:
        """Rows with at least one error (a row can have several)."""
        return len({e.row for e in self.rejected})

    def organisations(self) -> list[Organisation]:
        return [r for r in self.accepted if isinstance(r, Organisation)]

    def needs(self) -> list[Need]:
        return [r for r in self.accepted if isinstance(r, Need)]

    def summary(self, max_errors: int = 20) -> str:
        where = f" from {self.source}" if self.source else ""
        head = (
            f"accepted {len(self.accepted)} of {self.total_rows} rows{where}; "
            f"rejected {self.rejected_rows}"
        )
        if self.warnings:
            head += f"; {len(self.warnings)} warnings"
        if not self.rejected and not self.warnings:
            return head
        lines = [head + ":"] + [f"  {e}" for e in self.rejected[:max_errors]]
        if len(self.rejected) > max_errors:
            lines.append(f"  ... and {len(self.rejected) - max_errors} more errors")
        lines += [f"  warning: {w}" for w in self.warnings[:max_errors]]
        if len(self.warnings) > max_errors:
            lines.append(f"  ... and {len(self.warnings) - max_errors} more warnings")
        return "\n".join(lines)


def parse_mapping(items: Iterable[str], *, kind: Kind | None = None) -> dict[str, str]:
    """Parse `["name=org_name", "city=town"]` into `{"name": "org_name", "city": "town"}`."""
    mapping: dict[str, str] = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            raise ValidationError(f"malformed mapping '{item}' (expected field=column)")
        if ours in mapping:
            raise ValidationError(f"field '{ours}' is mapped twice", field=ours)
        mapping[ours] = theirs
    if kind is not None:
        _check_fields(mapping, kind, "mapping")
    return mapping


def load_records(
    path: str | Path,
    *,
    kind: Kind = "organisation",
    format: str | None = None,  # noqa: A002 - the public keyword is `format`
    mapping: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
    limits: ReadLimits | None = None,
) -> LoadReport:
    """Load organisations or needs from a CSV, JSON Lines or Parquet file (optionally gzipped).

    `mapping` maps our field to the source column (`{"name": "org_name"}`); unmapped columns are
    read by their own name (case-insensitively) and unknown columns are ignored. `defaults` fills
    fields whose cell is missing or blank. Rows are numbered from 1: for CSV the header is not
    counted (row 1 is the first line after it), for JSON Lines the row is the line number, for
    Parquet the record position. Blank lines are skipped (they keep their number).

    Raises ValidationError for an unknown format, a mapping or default naming an unknown field,
    or a required column (name, sector, description; text for needs) missing from the file;
    StorageError when the file is missing or unreadable. `limits` (uploads) caps decompressed
    size, rows, columns and field length (LimitExceededError); JSON nested deeper than
    `loaders_read.MAX_JSON_DEPTH` is always a LimitExceededError naming the row.
    """
    if kind not in MODELS:
        raise ValidationError(
            f"unknown kind '{kind}' (expected organisation or need)", field="kind"
        )
    p = Path(path)
    mapping = dict(mapping or {})
    defaults = {k: v for k, v in (defaults or {}).items() if v is not None}
    _check_fields(mapping, kind, "mapping")
    _check_fields(defaults, kind, "defaults")
    fmt = infer_format(p, format)
    table = read_table(p, fmt, limits)
    plan = _plan(table, kind, mapping, defaults)
    report = LoadReport(source=p.name)
    model = MODELS[kind]
    first_seen: dict[str, int] = {}
    for raw in table.rows:
        report.total_rows += 1
        errors = _load_row(raw, plan, model, first_seen, report)
        report.rejected.extend(errors)
        for err in errors:
            log.debug("%s: %s", p.name, err)
    log.info("%s", report.summary(max_errors=0).splitlines()[0])
    return report


# ------------------------------------------------------------------------------------ internals


@dataclass
class _Plan:
    sources: dict[str, str]  # our field -> actual source column
    defaults: dict[str, str]


def _check_fields(names: dict[str, str], kind: str, what: str) -> None:
    known = MODELS[kind].model_fields
    for name in names:
        if name not in known:
            raise ValidationError(
                f"{what} names unknown {kind} field '{name}' (known fields: {', '.join(known)})",
                field=name,
            )


def _plan(table: RawTable, kind: str, mapping: dict[str, str], defaults: dict[str, str]) -> _Plan:
    by_lower: dict[str, str] = {}
    for col in table.columns:
        by_lower.setdefault(col.strip().lower(), col)
    sources: dict[str, str] = {}
    for name in MODELS[kind].model_fields:
        wanted = mapping.get(name, name)
        actual = wanted if wanted in table.columns else by_lower.get(wanted.strip().lower())
        if actual is not None:
            sources[name] = actual
        elif name in mapping and (table.columns or table.rows):
            raise ValidationError(
                f"mapped column '{wanted}' for field '{name}' is not in the file", field=name
            )
    has_rows = any(r.values is not None for r in table.rows)
    for name in REQUIRED[kind]:
        if name not in sources and name not in defaults and (has_rows or table.columns):
            col = mapping.get(name, name)
            extra = f" (for field '{name}')" if col != name else ""
            raise ValidationError(f"missing required column '{col}'{extra}", field=col)
    return _Plan(sources=sources, defaults=defaults)


def _load_row(
    raw: RawRow,
    plan: _Plan,
    model: type[BaseModel],
    first_seen: dict[str, int],
    report: LoadReport,
) -> list[RowError]:
    if raw.values is None:
        return [RowError(raw.row, raw.column, raw.error or "unreadable row")]
    data, errors = _prepare(raw.row, raw.values, plan)
    if errors:
        return errors
    try:
        record = model.model_validate(data)
    except PydanticValidationError as exc:
        return [_translate(raw.row, err, plan, data) for err in exc.errors()]
    except PlaceError as exc:  # a need's place (or its city, for a radius) that does not resolve
        name = exc.field or "place"
        return [RowError(raw.row, plan.sources.get(name, name), exc.message)]
    rec_id = str(getattr(record, "id", ""))
    if rec_id in first_seen:
        col = plan.sources.get("id", "id")
        return [
            RowError(raw.row, col, f"duplicate id '{rec_id}' (first at row {first_seen[rec_id]})")
        ]
    first_seen[rec_id] = raw.row
    assert isinstance(record, Organisation | Need)
    if isinstance(record, Organisation):
        located = locate(record)  # as the Store does on write; here to report the row
        record = located.org
        if located.warning:
            where = plan.sources.get(located.field or "city")
            report.warnings.append(RowError(raw.row, where, located.warning))
    report.accepted.append(record)
    return []


def _prepare(
    row: int, values: dict[str, Any], plan: _Plan
) -> tuple[dict[str, Any], list[RowError]]:
    data: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, col in plan.sources.items():
        value = values.get(col)
        if _is_blank(value):
            continue
        problem = formula_problem(value, split=name in LIST_FIELDS)
        if problem:
            errors.append(RowError(row, col, problem))
            continue
        try:
            data[name] = _coerce(name, value)
        except ValueError as exc:
            errors.append(RowError(row, col, str(exc)))
    for name, value in plan.defaults.items():
        if name not in data:
            try:
                data[name] = _coerce(name, value)
            except ValueError as exc:
                errors.append(RowError(row, None, f"default for '{name}': {exc}"))
    return data, errors


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not any(not _is_blank(v) for v in value)


def formula_problem(value: Any, *, split: bool = False) -> str | None:
    """Why a cell would run as a spreadsheet formula (it starts with =, +, - or @ and is no
    plain number or phone number), or None. `split`: a list cell, each |- or ;-separated item
    checked. The one check for every bulk path: this loader and the registry importers
    (`training.importers.base.safe_text`)."""
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if not isinstance(item, str) or not (_LIST_FORMULA if split else _FORMULA).search(item):
            continue
        for part in re.split(r"[|;]", item) if split else [item]:
            s = part.strip()
            # a lone sign is a blank ("-" for no revenue), no formula: it rejected a real row
            if (
                s
                and s[0] in _FORMULA_START
                and not _PLAIN_NUMBER.fullmatch(s)
                and s not in ("+", "-")
            ):
                return (
                    f"cell starts with '{s[0]}', which spreadsheets run as a formula "
                    "(possible formula injection)"
                )
    return None


def _coerce(name: str, value: Any) -> Any:
    if name in NUMERIC_FIELDS:
        number = _number(value)
        if name == "lat" and not (math.isfinite(number) and -90 <= number <= 90):
            raise ValueError(f"latitude {_show(value)} is outside -90..90")
        if name == "lon" and not (math.isfinite(number) and -180 <= number <= 180):
            raise ValueError(f"longitude {_show(value)} is outside -180..180")
        return number
    if name in TEXT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    if name in LOWERCASE_FIELDS and isinstance(value, str):
        return value.strip().lower()
    if name == "wanted_sectors":
        if isinstance(value, str):
            return [s.strip().lower() for s in re.split(r"[|;,]", value) if s.strip()]
        if isinstance(value, list | tuple):
            return [s.strip().lower() if isinstance(s, str) else s for s in value]
    if name in LIST_FIELDS and isinstance(value, tuple):
        return list(value)
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"not a number: '{value.strip()}'") from None
    raise ValueError(f"not a number: {value!r}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _translate(row: int, err: ErrorDetails, plan: _Plan, data: dict[str, Any]) -> RowError:
    loc = err.get("loc", ())
    name = str(loc[0]) if loc else ""
    msg = plain_message(str(err.get("msg", "invalid value")))
    if not name:  # model-level checks: coordinates together, radius needs a location
        name = field_of_model_check(msg) or ""
        if name == "lat" and "lat" in data:  # "lat and lon ...": the one missing
            name = "lon"
    col = plan.sources.get(name, name) if name else None
    return RowError(row, col, _reason(name, err, msg))


def _reason(name: str, err: ErrorDetails, msg: str) -> str:
    kind = err.get("type", "")
    given = err.get("input")
    if kind == "enum" and name in _ENUM_CHOICES:
        what = "sector" if name == "wanted_sectors" else name
        return f"unknown {what} '{given}' (expected one of {', '.join(_ENUM_CHOICES[name])})"
    if kind == "missing":
        return "missing required value"
    if kind == "string_too_short":
        return f"too short (at least {err.get('ctx', {}).get('min_length')} characters)"
    if kind == "string_too_long":
        return f"too long (at most {err.get('ctx', {}).get('max_length')} characters)"
    if kind in ("greater_than", "less_than_equal", "greater_than_equal", "less_than"):
        return f"{msg.lower()} (got {_show(given)})"
    if kind.startswith("datetime") or kind.startswith("date"):
        return f"not a valid date-time: '{given}'"
    if kind == "bool_parsing":
        return f"not a true/false value: '{given}'"
    if kind == "string_pattern_mismatch" and name == "status":
        return f"status must be 'open' or 'closed' (got '{given}')"
    if kind == "string_type":
        return f"expected text, got {type(given).__name__}"
    return msg
