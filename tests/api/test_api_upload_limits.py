"""Uploads with budgets: a gzip bomb is 413 with the server's memory bounded, a deeply nested
JSON Lines file is a 422 naming the row (it was a 500), limits are named in the answer."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import httpx
import pytest
from api_support import LiveServer, hdr
from fastapi.testclient import TestClient


def _bomb(megabytes: int = 250) -> bytes:
    """A gzip under the 256 KB body limit that expands to `megabytes` MB of CSV."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(b"id,name,sector,description\nx1,Bomb,business,")
        block = b"a" * 1_048_576
        for _ in range(megabytes):
            gz.write(block)
    return out.getvalue()


def _ingest(client: TestClient, key: str, name: str, data: bytes) -> httpx.Response:
    return client.post("/v1/analyst/ingest", files={"file": (name, data)}, headers=hdr(key))


def test_nested_json_lines_is_a_422_naming_the_row(
    client: TestClient, keys: dict[str, str]
) -> None:
    deep = '{"name":"Deep","sector":"business","description":' + "[" * 50_000
    data = (
        '{"name":"Flat","sector":"business","description":"Flat."}\n' + deep + "]" * 50_000 + "}\n"
    )
    r = _ingest(client, keys["analyst"], "deep.jsonl", data.encode())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "row 2" in r.json()["detail"] and "max_json_depth" in r.json()["detail"]


def test_gzip_bomb_is_413_naming_the_limit(client: TestClient, keys: dict[str, str]) -> None:
    r = _ingest(client, keys["analyst"], "bomb.csv.gz", _bomb(50))
    assert r.status_code == 413, r.text
    assert "max_decompressed_bytes" in r.json()["detail"]


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_gzip_bomb_leaves_the_server_memory_bounded(server: LiveServer) -> None:
    bomb = _bomb(250)
    assert len(bomb) < 256 * 1024
    before = _peak_rss_kb(server.process.pid)
    r = httpx.post(
        server.base_url + "/v1/analyst/ingest",
        files={"file": ("bomb.csv.gz", bomb)},
        headers=hdr(server.admin_key),
        timeout=120,
    )
    grown_mb = (_peak_rss_kb(server.process.pid) - before) / 1024
    print(f"gzip bomb: server peak RSS grew by {grown_mb:.1f} MB")
    assert r.status_code == 413, r.text
    assert grown_mb < 100, f"peak resident memory grew by {grown_mb:.0f} MB"
