"""What every registry importer shares: the batch it returns, row reading and cell parsing.

An importer turns one public file into an `ImportBatch`: organisations, needs and partnership
records, plus a `RowError` (1-based data row, source column, reason) for every row it rejected.
It never writes; `training.importers.store_batch` does, idempotently (upsert by id).
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from matcher.domain import Need, Organisation
from matcher.errors import ValidationError
from matcher.loaders import RowError, formula_problem
from matcher.loaders_read import RawRow, infer_format, read_table, utf8_advice
from matcher.places.locate import locate
from training.partnership import Partnership

_SLUG = re.compile(r"[^a-z0-9]+")
# what differs between two reports of one problem: quoted values (an apostrophe inside one,
# "Haydn's", does not end it), bytes, numbers
_QUOTED = re.compile(r"(?<!\w)'(.*?)'(?!\w)")
_VARYING = re.compile(_QUOTED.pattern + r"|\b0x[0-9A-F]{2}\b|\d+")


class RowRejected(Exception):
    """Raised inside an importer's row function: the row is skipped with this column/reason."""

    def __init__(self, column: str | None, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Flag:
    """A record that was imported but deserves a look (no description, historical body, merged
    with another record): 1-based data row, record id and what was noticed."""

    row: int | None
    record_id: str
    note: str

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.record_id}: {self.note}"


@dataclass
class ImportBatch:
    """What one file yielded. Records are unique by id within each list."""

    source: str
    organisations: list[Organisation] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    partnerships: list[Partnership] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    flagged: list[Flag] = field(default_factory=list)
    # kept rows with a problem worth knowing, e.g. an address that does not geocode
    warnings: list[RowError] = field(default_factory=list)
    # problems of the whole file worth knowing, one line each: an optional column missing (and
    # what is lost without it), rows that are not UTF-8 (and how to convert the file)
    file_warnings: list[str] = field(default_factory=list)
    total_rows: int = 0
    # the organisations whose description the importer made up, the file giving none ("X is a
    # US tax-exempt organisation in ME."): a description stored already is kept over it
    # (`training.importers.store_batch`)
    made_up: set[str] = field(default_factory=set)
    _org_ids: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.rejected})

    def add_organisation(
        self, org: Organisation, row: int | None = None, column: str | None = None
    ) -> bool:
        """Add unless an organisation with this id is already in the batch (first one wins).

        It is geocoded and its region and country normalised (`matcher.places.locate`, as the
        Store does on every write); an address that does not geocode is a warning on `row`
        naming `column` (the ZIP or city column)."""
        if org.id in self._org_ids:
            return False
        located = locate(org)
        org = located.org
        if located.warning and row is not None:
            self.warnings.append(RowError(row, column, located.warning))
        self._org_ids[org.id] = len(self.organisations)
        self.organisations.append(org)
        return True

    def flag(self, record_id: str, row: int | None, note: str) -> None:
        self.flagged.append(Flag(row, record_id, note))

    def remove_organisation(self, org_id: str) -> None:
        index = self._org_ids.pop(org_id)
        del self.organisations[index]
        self._org_ids = {o.id: i for i, o in enumerate(self.organisations)}

    def has_organisation(self, org_id: str) -> bool:
        return org_id in self._org_ids

    def replace_organisation(self, org: Organisation) -> None:
        self.organisations[self._org_ids[org.id]] = org

    def organisation(self, org_id: str) -> Organisation:
        return self.organisations[self._org_ids[org_id]]

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.total_rows,
            "organisations": len(self.organisations),
            "needs": len(self.needs),
            "partnerships": len(self.partnerships),
            "rejected_rows": self.rejected_rows,
            "flagged": len(self.flagged),
            "warnings": len(self.warnings),
        }

    def summary(self, max_errors: int = 20) -> str:
        """The counts on one line, then the file's warnings and the rejected rows and row
        warnings summarised by problem (`problem_lines`: one line per kind, a few examples),
        at most `max_errors` kinds each."""
        c = self.counts()
        head = (
            f"{self.source}: {c['rows']} rows -> {c['organisations']} organisations, "
            f"{c['needs']} needs, {c['partnerships']} partnerships; "
            f"{c['rejected_rows']} rows rejected; {c['warnings']} warnings"
            + (f", {c['flagged']} records flagged" if self.flagged else "")
        )
        lines = [head] + [f"  warning: {w}" for w in self.file_warnings]
        lines += problem_lines(self.rejected, max_kinds=max_errors)
        lines += problem_lines(self.warnings, prefix="warning: ", max_kinds=max_errors)
        return "\n".join(lines)


@dataclass(frozen=True)
class Problem:
    """Row errors (or warnings) of one kind: the same column and the same reason but for the
    values quoted in it; `rows` how many rows, `examples` the first few."""

    column: str | None
    rows: int
    examples: tuple[RowError, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rows": self.rows,
            "reason": self.examples[0].reason,
            "example_rows": [e.row for e in self.examples],
        }


def group_problems(errors: list[RowError], examples: int = 3) -> list[Problem]:
    """`errors` by kind (column, and reason with its quoted values and numbers left out), the
    most frequent first: a file with a thousand bad ZIP codes is one line, not a thousand."""
    kinds: dict[tuple[str | None, str], list[RowError]] = {}
    for e in errors:
        kinds.setdefault((e.column, _VARYING.sub("#", e.reason)), []).append(e)
    groups = [
        Problem(col, len({e.row for e in found}), tuple(found[:examples]))
        for (col, _), found in kinds.items()
    ]
    return sorted(groups, key=lambda p: -p.rows)  # stable: first seen first among equals


def problem_lines(
    errors: list[RowError], *, prefix: str = "", max_kinds: int = 20, examples: int = 3
) -> list[str]:
    """Indented lines for the CLI: a problem of one row as the row's own line ("row 4, column
    'zip': ..."); a problem of many rows as one line with the count and the first row's
    reason, and one naming a few more rows with their values."""
    lines: list[str] = []
    groups = group_problems(errors, examples)
    for p in groups[:max_kinds]:
        first = p.examples[0]
        if p.rows == 1 and len(p.examples) == 1:
            lines.append(f"  {prefix}{first}")
            continue
        where = f"column '{p.column}', " if p.column else ""
        lines.append(f"  {prefix}{where}{p.rows} rows, e.g. row {first.row}: {first.reason}")
        also = []
        for e in p.examples[1:]:
            values = [v if len(v) <= 30 else v[:29] + "…" for v in _QUOTED.findall(e.reason)]
            shown = ", ".join(f"'{v}'" for v in values[:2])
            also.append(f"row {e.row}" + (f" ({shown})" if shown else ""))
        more = p.rows - len({e.row for e in p.examples})
        if also or more > 0:
            tail = f" and {more} more" if more > 0 else ""
            lines.append(f"  {' ' * len(prefix)}  also {', '.join(also) or 'others'}{tail}")
    if len(groups) > max_kinds:
        lines.append(
            f"  ... and {len(groups) - max_kinds} more kinds of "
            + ("warning" if prefix else "error")
            + " (use --json or --report for all)"
        )
    return lines


def iter_rows(
    path: Path,
    batch: ImportBatch,
    *,
    required: tuple[str, ...],
    optional: tuple[tuple[tuple[str, ...], str], ...] = (),
    limit: int | None = None,
    progress: bool = False,
    desc: str = "rows",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, values with lower-cased column names) of a CSV/JSONL/Parquet file.

    Unreadable rows (invalid UTF-8, a row with more or fewer cells than the header, malformed
    CSV) go to `batch.rejected`, with one file warning on how to convert a file that is not
    UTF-8; a required column missing from the header raises ValidationError naming it.
    `optional`: (column names, what is lost without them) pairs; when none of the names is in
    the header, a file warning says so. `limit` counts data rows read.
    """
    table = read_table(path, infer_format(path))
    columns = {c.strip().lower() for c in table.columns}
    missing = [c for c in required if c not in columns]
    if missing and table.rows:
        raise ValidationError(
            f"{path.name} lacks required column(s) {', '.join(missing)} "
            f"(it has: {', '.join(sorted(columns)) or 'none'})"
        )
    if table.rows:
        for names, lost in optional:
            if not columns.intersection(names):
                named = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
                batch.file_warnings.append(f"no {named} column: {lost}")
    rows: list[RawRow] = table.rows[:limit] if limit is not None else table.rows
    not_utf8 = 0
    show = progress and sys.stderr.isatty()
    for raw in tqdm(rows, desc=desc, unit="row", disable=not show, mininterval=0.5):
        batch.total_rows += 1
        if raw.values is None:
            batch.rejected.append(RowError(raw.row, raw.column, raw.error or "unreadable row"))
            not_utf8 += (raw.error or "").startswith("invalid UTF-8")
            continue
        yield raw.row, {str(k).strip().lower(): v for k, v in raw.values.items()}
    if not_utf8:
        batch.file_warnings.append(
            f"{not_utf8} rows are not valid UTF-8 and were rejected; "
            + utf8_advice(path, table.encoding_guess)
        )


def text(values: dict[str, Any], column: str) -> str:
    """The cell as stripped text ('' when absent, blank or NaN); whitespace collapsed."""
    value = values.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def safe_text(values: dict[str, Any], column: str) -> str:
    """Like `text`, but rejects a cell a spreadsheet would run as a formula, by the generic
    ingest's own check (`matcher.loaders.formula_problem`)."""
    return _not_formula(column, text(values, column))


def _not_formula(column: str, s: str) -> str:
    """`s`, or RowRejected when a spreadsheet would run it as a formula."""
    problem = formula_problem(s)
    if problem:
        raise RowRejected(column, problem)
    return s


def free_text(values: dict[str, Any], column: str) -> str:
    """Prose (missions, descriptions): leading bullet dashes and pluses ("- Rescue, Inc. ...":
    8 missions of the IRS dev file) are dropped, not the row, as a registry's file is not the
    analyst's to edit; a cell that still reads as a formula (`=HYPERLINK(...)`, `@SUM(...)`)
    rejects the row, as the generic ingest does (`matcher.loaders.formula_problem`)."""
    return _not_formula(column, text(values, column).lstrip("+- \t"))


def required_text(values: dict[str, Any], column: str) -> str:
    s = safe_text(values, column)
    if not s:
        raise RowRejected(column, "missing required value")
    return s


_NOT_ID = re.compile(r"[^A-Za-z0-9_.:-]+")


def registry_id(values: dict[str, Any], column: str) -> str:
    """A registry's identifier in the one id grammar (matcher.domain.ID_PATTERN): runs of other
    characters ('/', spaces, commas) become '-', and an id longer than 128 characters keeps
    115 and a hash of the whole, so the same source id always gives the same id."""
    raw = required_text(values, column)
    out = _NOT_ID.sub("-", raw).strip("-._:")
    if not out:
        raise RowRejected(column, f"no usable characters in id '{raw[:40]}'")
    if len(out) > 128:
        out = out[:115] + "-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]
    return out


def number(values: dict[str, Any], column: str) -> float | None:
    s = text(values, column).replace(",", "")
    if not s or s == "-":  # "-": accounting's blank
        return None
    try:
        value = float(s)
    except ValueError:
        raise RowRejected(column, f"not a number: '{s[:40]}'") from None
    if not math.isfinite(value):
        raise RowRejected(column, f"not a finite number: '{s}'")
    return value


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%m/%Y",
    "%Y-%m",
    "%Y",
)


def parse_date(value: str, *, column: str) -> datetime | None:
    """A date or date-time in ISO form (or dd/mm/yyyy, mm/yyyy as 360Giving files use), in UTC."""
    s = value.strip()
    if not s:
        return None
    for fmt in _DATE_FORMATS:
        try:
            when = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    raise RowRejected(column, f"not a valid date: '{s[:40]}' (expected e.g. 2024-03-17)")


def slug(value: str, max_len: int = 80) -> str:
    return _SLUG.sub("-", value.lower()).strip("-")[:max_len].strip("-")


def size_band(employees: float | None) -> str | None:
    """micro < 10 <= small < 50 <= medium < 250 <= large (matcher.domain.SizeBand)."""
    if employees is None or employees < 0:
        return None
    if employees < 10:
        return "micro"
    if employees < 50:
        return "small"
    if employees < 250:
        return "medium"
    return "large"


COUNTRY_CODES: dict[str, str] = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "us": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "ireland": "IE",
    "canada": "CA",
    "switzerland": "CH",
    "netherlands": "NL",
    "germany": "DE",
    "france": "FR",
    "bermuda": "BM",
    "jersey": "JE",
    "luxembourg": "LU",
    "israel": "IL",
    "singapore": "SG",
    "australia": "AU",
    "japan": "JP",
    "china": "CN",
    "hong kong": "HK",
    "india": "IN",
    "mexico": "MX",
    "brazil": "BR",
    "sweden": "SE",
    "denmark": "DK",
    "norway": "NO",
    "spain": "ES",
    "italy": "IT",
    "belgium": "BE",
    "taiwan": "TW",
    "south korea": "KR",
    "uruguay": "UY",
}


def country_code(value: str) -> str | None:
    """An ISO 3166 alpha-2 code for a country name or code; None when unknown."""
    s = value.strip()
    if not s:
        return None
    if len(s) in (2, 3) and s.isalpha() and s.lower() not in COUNTRY_CODES:
        return s.upper()
    return COUNTRY_CODES.get(s.lower())


def reject(batch: ImportBatch, row: int, exc: RowRejected) -> None:
    batch.rejected.append(RowError(row, exc.column, exc.reason))


def shorten(value: str, limit: int) -> str:
    """Cut at a word boundary so the text fits a field's maximum length."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def validated(model: type[Any], data: dict[str, Any], columns: dict[str, str]) -> Any:
    """`model.model_validate(data)`, a failure becoming RowRejected naming the source column."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc", ())
        name = str(loc[0]) if loc else ""
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if not name:  # a check across fields, e.g. source and partner are the same
            raise RowRejected(columns.get("__model__"), msg) from None
        raise RowRejected(columns.get(name, name), f"{name}: {msg}") from None
