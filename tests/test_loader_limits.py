"""Reading untrusted files within budgets (issue 9, uploads): decompressed size, rows, columns,
field length and JSON nesting; reading stops at the first budget crossed, naming it."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from matcher.errors import LimitExceededError
from matcher.loaders import load_records
from matcher.loaders_read import MAX_JSON_DEPTH, ReadLimits

HEADER = "id,name,sector,description\n"


def _bomb(path: Path, megabytes: int) -> Path:
    line = b"x1,Bomb,business,Expands a lot when decompressed.\n"
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(HEADER.encode())
        chunk = line * (1_048_576 // len(line))
        for _ in range(megabytes):
            gz.write(chunk)
    return path


def test_a_gzip_bomb_stops_at_the_cap_with_bounded_memory(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.csv.gz", 250)
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceededError) as info:
            load_records(path, limits=ReadLimits())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.limit == "max_decompressed_bytes" and info.value.too_large
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    # without limits (the operator's own files) it is read as before
    assert load_records(_bomb(tmp_path / "small.csv.gz", 1)).total_rows > 10_000


def test_row_and_column_budgets(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "".join(f"r{i},N,business,D\n" for i in range(30)))
    with pytest.raises(LimitExceededError, match="more than 20 rows") as info:
        load_records(rows, limits=ReadLimits(max_rows=20))
    assert info.value.limit == "max_rows"
    assert load_records(rows, limits=ReadLimits(max_rows=30)).total_rows == 30

    wide = tmp_path / "wide.jsonl"
    wide.write_text('{"name": "A", "sector": "business", "description": "D", "x": 1}\n')
    with pytest.raises(LimitExceededError, match="row 1") as info:
        load_records(wide, limits=ReadLimits(max_columns=3))
    assert info.value.limit == "max_columns" and not info.value.too_large


def test_long_fields_are_rejected_rows_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,Name,business," + "d" * 500 + "\nb,Name,business,Short\n")
    report = load_records(path, limits=ReadLimits(max_field_chars=100))
    assert len(report.accepted) == 1
    assert report.rejected[0].row == 1 and "description" in report.rejected[0].reason


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 50_000])
def test_deeply_nested_json_lines_name_the_row(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.jsonl"
    ok = '{"name": "Fine", "sector": "business", "description": "Flat."}\n'
    deep = '{"name":"Deep","sector":"business","description":' + "[" * depth + "]" * depth + "}"
    path.write_text(ok + deep + "\n")
    with pytest.raises(LimitExceededError, match="row 2") as info:
        load_records(path)
    assert info.value.limit == "max_json_depth" and info.value.row == 2


def test_parquet_is_checked_before_it_is_read(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 2_500
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "name": ["N"] * n,
            "sector": ["business"] * n,
            "description": ["D"] * n,
        }
    )
    path = tmp_path / "many.parquet"
    pq.write_table(table, path, row_group_size=500)
    with pytest.raises(LimitExceededError, match="2500 rows") as info:
        load_records(path, limits=ReadLimits(max_rows=1_000))
    assert info.value.limit == "max_rows"
    assert load_records(path, limits=ReadLimits()).total_rows == n
