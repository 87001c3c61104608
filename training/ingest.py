"""Ingest new profile data with a column mapping kept in a small TOML file.

    # mapping.toml
    kind = "organisation"        # or "need"
    format = "csv"               # csv, jsonl or parquet; default: from the file name
    [map]                        # our field = the file's column
    name = "org_name"
    description = "mission"
    [defaults]                   # used where a cell is missing or blank
    sector = "nonprofit"
    country = "US"

Every rejected row is reported with its row number, column and reason (wrong type, missing
required field, unknown sector, bad coordinates, duplicate id in the file, invalid UTF-8,
formula-injection cells: `matcher.loaders` checks them). The accepted rows are upserted by id in
one transaction: a failure stores none of them, nothing stored earlier is lost, and re-running
the same file changes nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import ValidationError
from matcher.loaders import MODELS, LoadReport, load_records
from matcher.loaders_read import FORMATS, ReadLimits
from matcher.store import Store
from matcher.store.repository import UpsertReport

CONFIG_KEYS = ("kind", "format", "map", "defaults")


@dataclass(frozen=True)
class IngestConfig:
    kind: str = "organisation"
    format: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)


def load_config(path: str | Path) -> IngestConfig:
    """Read and check a mapping file; errors name the file and the offending key."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"mapping file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read mapping file {p}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{p.name} is not valid TOML: {exc}") from None
    return config_from_dict(raw, source=p.name)


def config_from_dict(raw: dict[str, Any], *, source: str = "config") -> IngestConfig:
    unknown = sorted(set(raw) - set(CONFIG_KEYS))
    if unknown:
        raise ValidationError(
            f"{source}: unknown key(s) {', '.join(unknown)} (expected {', '.join(CONFIG_KEYS)})"
        )
    kind = raw.get("kind", "organisation")
    if kind not in MODELS:
        raise ValidationError(f"{source}: kind must be 'organisation' or 'need', not {kind!r}")
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise ValidationError(
            f"{source}: format must be one of {', '.join(FORMATS)}, not {fmt!r}", field="format"
        )
    mapping = _table(raw, "map", source)
    for ours, col in mapping.items():
        if not isinstance(col, str) or not col.strip():
            raise ValidationError(f"{source}: [map] {ours} must name a column (a string)")
    defaults = {k: _default_text(k, v, source) for k, v in _table(raw, "defaults", source).items()}
    fields = MODELS[kind].model_fields
    for what, names in (("[map]", mapping), ("[defaults]", defaults)):
        for name in names:
            if name not in fields:
                raise ValidationError(
                    f"{source}: {what} names unknown {kind} field '{name}' "
                    f"(known fields: {', '.join(fields)})",
                    field=name,
                )
    return IngestConfig(
        kind=kind,
        format=fmt,
        mapping={k: v.strip() for k, v in mapping.items()},
        defaults=defaults,
    )


def _table(raw: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ValidationError(f"{source}: [{key}] must be a table of field = value")
    return value


def _default_text(name: str, value: Any, source: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "|".join(value)
    raise ValidationError(f"{source}: [defaults] {name} must be text, a number or a list of text")


@dataclass
class IngestResult:
    report: LoadReport
    stored: UpsertReport | None  # None on a dry run or when nothing was accepted
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        stored = (
            {
                "inserted": len(self.stored.inserted),
                "updated": len(self.stored.updated),
                "unchanged": len(self.stored.unchanged),
            }
            if self.stored
            else {}
        )
        return {
            "file": self.report.source,
            "rows": self.report.total_rows,
            "accepted": len(self.report.accepted),
            "rejected_rows": self.report.rejected_rows,
            "rejected": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.report.rejected
            ],
            "warnings": [
                {"row": w.row, "column": w.column, "reason": w.reason} for w in self.report.warnings
            ],
            "stored": stored,
            "dry_run": self.dry_run,
        }


def ingest_file(
    store: Store | None,
    path: str | Path,
    config: IngestConfig,
    *,
    dry_run: bool = False,
    limits: ReadLimits | None = None,
) -> IngestResult:
    """Validate `path` with `config`; unless `dry_run`, upsert the good rows in one transaction.

    Raises ValidationError or StorageError for problems with the whole file (unknown format,
    a mapped column missing from the file, unreadable file); row problems go into the report.
    """
    report = load_records(
        path,
        kind=config.kind,  # type: ignore[arg-type]
        format=config.format,
        mapping=config.mapping or None,
        defaults=config.defaults or None,
        limits=limits,
    )
    stored: UpsertReport | None = None
    if not dry_run and report.accepted:
        if store is None:
            raise ValueError("a store is needed unless dry_run")
        if config.kind == "need":
            stored = store.upsert_needs(report.needs())
        else:
            stored = store.upsert_organisations(report.organisations())
    return IngestResult(report=report, stored=stored, dry_run=dry_run)
