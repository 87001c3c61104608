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

from matcher.errors import LimitExceededError, StorageError, ValidationError

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


@dataclass(frozen=True)
class ReadLimits:
    """Budgets for reading an untrusted file (uploads). Reading stops as soon as one is
    crossed, with a LimitExceededError naming it; memory stays bounded by them."""

    max_bytes: int = 200 * 1024 * 1024  # decompressed bytes, at most
    ratio: int = 20  # ... and at most this many times the size of the file
    max_rows: int = 100_000
    max_columns: int = 200
    max_field_chars: int = 100_000

    def byte_cap(self, file_size: int) -> int:
        return min(self.max_bytes, max(file_size, 1) * self.ratio)


# Nesting deeper than this in a JSON Lines row is refused, whatever the limits.
MAX_JSON_DEPTH = 32


@dataclass
class RawRow:
    """One source row: 1-based `row` number, its values, or why it could not be read (and the
    column the problem is in, when one cell is to blame)."""

    row: int
    values: dict[str, Any] | None
    error: str | None = None
    column: str | None = None


@dataclass
class RawTable:
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)
    # when some rows are not UTF-8: what the file's bytes look like instead (`guess_encoding`)
    encoding_guess: str | None = None


WINDOWS_1252 = "windows-1252"
MIXED = "mixed"
# a character that is neither ASCII nor an undecodable byte: real UTF-8 beyond ASCII
_DECODED_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def guess_encoding(text: str) -> str:
    """What a file whose bytes are not all UTF-8 looks like (`text`: decoded with
    surrogateescape): WINDOWS_1252 when every byte reads as Windows-1252 (Latin-1's superset,
    what Excel and older Windows tools write) and nothing in it is UTF-8 beyond ASCII; MIXED
    when valid UTF-8 letters sit beside the bad bytes; else 'unknown'."""
    if _DECODED_NON_ASCII.search(text):
        return MIXED
    try:
        text.encode("utf-8", errors="surrogateescape").decode("cp1252")
    except UnicodeDecodeError:
        return "unknown"
    return WINDOWS_1252


def utf8_advice(path: Path, guess: str | None) -> str:
    """How to fix a file that is not UTF-8, naming `path` in a command to run."""
    if guess == WINDOWS_1252:
        name = path.name
        stem = name.removesuffix(".gz")
        out = stem.rsplit(".", 1)[0] + "-utf8." + stem.rsplit(".", 1)[-1] if "." in stem else stem
        command = (
            f"gunzip -c {name} | iconv -f WINDOWS-1252 -t UTF-8 > {out}"
            if name.endswith(".gz")
            else f"iconv -f WINDOWS-1252 -t UTF-8 {name} > {out}"
        )
        return (
            "the file looks Latin-1 / Windows-1252 (as Excel saves CSV), not UTF-8: convert it "
            f"and import the converted file ({command})"
        )
    if guess == MIXED:
        return (
            "the file mixes UTF-8 with another encoding (often Windows-1252): fix the rows "
            "named, or export the file again as UTF-8"
        )
    return "export the file again as UTF-8"


def _not_utf8(raw: bytes, at: int) -> str:
    """The reason for a cell or line whose byte `at` of `raw` is not UTF-8: the byte, and the
    text around it as Windows-1252 would read it (which is what it usually is)."""
    shown = raw[max(0, at - 30) : at + 30].decode("cp1252", errors="replace")
    shown = " ".join(shown.split())
    return f"invalid UTF-8: byte 0x{raw[at]:02X} ('{shown}' if read as Windows-1252)"


def _bad_cell(columns: list[str], cells: list[str]) -> tuple[str | None, str]:
    """The column of the first cell with a byte that is not UTF-8, and why."""
    for i, cell in enumerate(cells):
        m = _SURROGATE.search(cell)
        if m:
            column = columns[i] if i < len(columns) else None
            at = len(cell[: m.start()].encode("utf-8", errors="surrogateescape"))
            return column, _not_utf8(cell.encode("utf-8", errors="surrogateescape"), at)
    return None, "invalid UTF-8"


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


def read_table(path: Path, fmt: str, limits: ReadLimits | None = None) -> RawTable:
    """Read a file into rows; with `limits` (uploads) every budget is enforced as it reads."""
    if fmt == "parquet":
        return _read_parquet(path, limits)
    data = _read_bytes(path, limits)
    if fmt == "csv":
        delimiter = "\t" if ".tsv" in path.suffixes else ","
        return _read_csv(data, delimiter=delimiter, limits=limits, path=path)
    return _read_jsonl(data, limits)


def _read_bytes(path: Path, limits: ReadLimits | None = None) -> bytes:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            gzipped = fh.read(2) == _GZIP_MAGIC
        if not gzipped:
            if limits is not None and size > limits.max_bytes:
                raise _too_big(limits.max_bytes)
            return path.read_bytes()
    except FileNotFoundError as exc:
        raise StorageError(f"file not found: {path}") from exc
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    cap = limits.byte_cap(size) if limits is not None else None
    out = bytearray()
    try:
        with gzip.open(path, "rb") as gz:
            while chunk := gz.read(1 << 20):  # bounded steps: a gzip bomb stops at the cap
                out += chunk
                if cap is not None and len(out) > cap:
                    raise _too_big(cap)
    except (OSError, EOFError, zlib.error) as exc:
        raise StorageError(f"cannot decompress {path}: not a valid gzip file ({exc})") from exc
    return bytes(out)


def _too_big(cap: int) -> LimitExceededError:
    return LimitExceededError(
        f"the file is larger than {cap} bytes once decompressed", limit="max_decompressed_bytes"
    )


def _check_rows(limits: ReadLimits | None, table: RawTable, row: int) -> None:
    if limits is not None and len(table.rows) >= limits.max_rows:
        raise LimitExceededError(
            f"row {row}: the file has more than {limits.max_rows} rows", limit="max_rows"
        )


def _check_columns(limits: ReadLimits | None, n: int, row: int | None = None) -> None:
    if limits is not None and n > limits.max_columns:
        where = f"row {row}: " if row is not None else ""
        raise LimitExceededError(
            f"{where}the file has {n} columns, more than {limits.max_columns}",
            limit="max_columns",
            too_large=False,
            row=row,
        )


def _long_field(limits: ReadLimits | None, values: dict[str, Any]) -> str | None:
    if limits is None:
        return None
    for key, value in values.items():
        if isinstance(value, str) and len(value) > limits.max_field_chars:
            return f"column '{key}' is longer than {limits.max_field_chars} characters"
    return None


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (iterative: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _read_csv(
    data: bytes,
    *,
    delimiter: str = ",",
    limits: ReadLimits | None = None,
    path: Path = Path("the file"),
) -> RawTable:
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
        _, why = _bad_cell(header, header)
        raise ValidationError(
            f"the CSV header row is not valid UTF-8 ({why.removeprefix('invalid UTF-8: ')}); "
            + utf8_advice(path, guess_encoding(text))
        )
    columns = [h.strip() for h in header]
    _check_columns(limits, len(columns))
    check_utf8 = _SURROGATE.search(text) is not None
    table = RawTable(columns=columns, encoding_guess=guess_encoding(text) if check_utf8 else None)
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
        _check_rows(limits, table, row)
        if check_utf8 and any(_SURROGATE.search(c) for c in cells):
            column, why = _bad_cell(columns, cells)
            table.rows.append(RawRow(row, None, why, column))
            continue
        # a short row and a long one alike: a cell lost or an extra one (trailing empty cells
        # of a long row are no extra), often a line break or comma in an unquoted cell
        if len(cells) < len(columns):
            n = len(cells)
            table.rows.append(
                RawRow(
                    row,
                    None,
                    f"has {n} cell{'' if n == 1 else 's'} but the header has {len(columns)} "
                    "(cells missing, or a line break in an unquoted cell split a row)",
                )
            )
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            table.rows.append(
                RawRow(row, None, f"has {len(cells)} cells but the header has {len(columns)}")
            )
            continue
        values = dict(zip(columns, cells, strict=False))
        problem = _long_field(limits, values)
        table.rows.append(RawRow(row, None, problem) if problem else RawRow(row, values))
    return table


def _read_jsonl(data: bytes, limits: ReadLimits | None = None) -> RawTable:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    columns: dict[str, None] = {}
    table = RawTable(columns=[])
    for row, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        _check_rows(limits, table, row)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            table.rows.append(RawRow(row, None, _not_utf8(line, exc.start)))
            if table.encoding_guess is None:
                table.encoding_guess = guess_encoding(
                    data.decode("utf-8", errors="surrogateescape")
                )
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            table.rows.append(RawRow(row, None, f"malformed JSON: {exc.msg} at column {exc.colno}"))
            continue
        except RecursionError:
            raise _too_deep(row) from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise _too_deep(row)
        if not isinstance(value, dict):
            kind = type(value).__name__
            table.rows.append(RawRow(row, None, f"expected a JSON object, got {kind}"))
            continue
        for key in value:
            columns.setdefault(str(key), None)
        _check_columns(limits, len(columns), row)
        values = {str(k): v for k, v in value.items()}
        problem = _long_field(limits, values)
        table.rows.append(RawRow(row, None, problem) if problem else RawRow(row, values))
    table.columns = list(columns)
    return table


def _too_deep(row: int) -> LimitExceededError:
    return LimitExceededError(
        f"row {row}: JSON nested deeper than {MAX_JSON_DEPTH} levels",
        limit="max_json_depth",
        too_large=False,
        row=row,
    )


def _read_parquet(path: Path, limits: ReadLimits | None = None) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise StorageError(f"file not found: {path}")
    table = RawTable(columns=[])
    try:
        pf = pq.ParquetFile(path)
        table.columns = list(pf.schema_arrow.names)
        _check_columns(limits, len(table.columns))
        if limits is not None:
            meta = pf.metadata
            if meta.num_rows > limits.max_rows:
                raise LimitExceededError(
                    f"the file has {meta.num_rows} rows, more than {limits.max_rows}",
                    limit="max_rows",
                )
            cap = limits.byte_cap(path.stat().st_size)
            unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            if unpacked > cap:
                raise _too_big(cap)
        row = 0
        for batch in pf.iter_batches(batch_size=1_000):  # bounded batches
            for rec in batch.to_pylist():
                row += 1
                _check_rows(limits, table, row)
                problem = _long_field(limits, rec)
                table.rows.append(RawRow(row, None, problem) if problem else RawRow(row, rec))
    except (pa.ArrowException, OSError) as exc:
        raise StorageError(f"cannot read {path} as Parquet: {exc}") from exc
    log.debug("read %d parquet rows from %s", len(table.rows), path)
    return table
