"""Raw readers for bulk imports: CSV, JSON Lines and Parquet files into numbered source rows.

Readers never validate records; they only turn bytes into `RawTable` rows, marking rows that
cannot even be read (invalid UTF-8, malformed JSON) with a reason. `matcher.loaders` does the rest.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.errors import StorageError, ValidationError

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
_SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_GZIP_MAGIC = b"\x1f\x8b"
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass
class RawRow:
    """One source row: 1-based `row` number, its values, or why it could not be read."""

    row: int
    values: dict[str, Any] | None
    error: str | None = None


@dataclass
class RawTable:
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)


def infer_format(path: Path, fmt: str | None = None) -> str:
    """The file format: `fmt` if given, else from the suffix (`.csv`, `.jsonl.gz`, ...)."""
    if fmt is not None:
        name = fmt.strip().lower().lstrip(".")
        name = {"ndjson": "jsonl", "pq": "parquet"}.get(name, name)
        if name not in FORMATS:
            raise ValidationError(
                f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})", field="format"
            )
        return name
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise ValidationError(
        f"cannot tell the format of '{path.name}' from its name; use a .csv, .jsonl or .parquet "
        "suffix (optionally .gz for csv and jsonl) or pass the format explicitly",
        field="format",
    )


def read_table(path: Path, fmt: str) -> RawTable:
    if fmt == "parquet":
        return _read_parquet(path)
    data = _read_bytes(path)
    if fmt == "csv":
        return _read_csv(data, delimiter="\t" if ".tsv" in path.suffixes else ",")
    return _read_jsonl(data)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise StorageError(f"file not found: {path}") from exc
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise StorageError(f"cannot decompress {path}: not a valid gzip file ({exc})") from exc
    return data


def _read_csv(data: bytes, *, delimiter: str = ",") -> RawTable:
    # surrogateescape keeps undecodable bytes visible, so the one bad row can be rejected.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValidationError(f"cannot parse the CSV header: {exc}") from exc
    if header is None or not any(h.strip() for h in header):
        raise ValidationError("the CSV file has no header row")
    if any(_SURROGATE.search(h) for h in header):
        raise ValidationError("the CSV header row is not valid UTF-8")
    columns = [h.strip() for h in header]
    check_utf8 = _SURROGATE.search(text) is not None
    table = RawTable(columns=columns)
    row = 0
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            table.rows.append(RawRow(row, None, f"malformed CSV: {exc}"))
            continue
        if not any(c.strip() for c in cells):
            continue  # blank line: numbered, but neither a row nor an error
        if check_utf8 and any(_SURROGATE.search(c) for c in cells):
            table.rows.append(RawRow(row, None, "invalid UTF-8"))
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            table.rows.append(
                RawRow(row, None, f"has {len(cells)} cells but the header has {len(columns)}")
            )
            continue
        table.rows.append(RawRow(row, dict(zip(columns, cells, strict=False))))
    return table


def _read_jsonl(data: bytes) -> RawTable:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    columns: dict[str, None] = {}
    table = RawTable(columns=[])
    for row, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            table.rows.append(RawRow(row, None, "invalid UTF-8"))
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            table.rows.append(RawRow(row, None, f"malformed JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(value, dict):
            kind = type(value).__name__
            table.rows.append(RawRow(row, None, f"expected a JSON object, got {kind}"))
            continue
        for key in value:
            columns.setdefault(str(key), None)
        table.rows.append(RawRow(row, {str(k): v for k, v in value.items()}))
    table.columns = list(columns)
    return table


def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise StorageError(f"file not found: {path}")
    try:
        pf = pq.ParquetFile(path)
        columns = list(pf.schema_arrow.names)
        records: list[dict[str, Any]] = []
        for batch in pf.iter_batches(batch_size=10_000):
            records.extend(batch.to_pylist())
    except (pa.ArrowException, OSError) as exc:
        raise StorageError(f"cannot read {path} as Parquet: {exc}") from exc
    rows = [RawRow(i, rec) for i, rec in enumerate(records, start=1)]
    log.debug("read %d parquet rows from %s", len(rows), path)
    return RawTable(columns=columns, rows=rows)
