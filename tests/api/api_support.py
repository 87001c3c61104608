"""Helpers for the API tests: the sample slice, seeded engines, quiet settings, headers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.config import ApiSettings
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data"
N_ORGS = 200


def sample_orgs(n: int = N_ORGS) -> list[Organisation]:
    out = []
    with (SAMPLE / "organisations.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Organisation.model_validate(json.loads(line)))
    return out


def sample_needs(n: int = 20) -> list[Need]:
    out = []
    with (SAMPLE / "needs.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(Need.model_validate(json.loads(line)))
    return out


def make_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, model_name="hashing-v1")


def quiet_api_settings(**overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "rate_limit_enabled": False,
        "bootstrap_sample": False,
        "bootstrap_admin_key": False,
        "load_in_background": False,
        **overrides,
    }
    return ApiSettings.model_validate(values)


def seed(data_dir: Path) -> Engine:
    engine = Engine.open(make_settings(data_dir), load=False)
    engine.store.upsert_organisations(sample_orgs())
    engine.build()
    engine.ingest_needs(sample_needs())
    return engine


def hdr(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    admin_key: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(data_dir: Path, *, timeout: float = 90.0) -> Iterator[LiveServer]:
    """uvicorn as a real process on a free 127.0.0.1 port, serving a seeded data dir."""
    seed(data_dir).close()
    port = free_port()
    env = {
        **os.environ,
        "MATCHER_DATA_DIR": str(data_dir),
        "MATCHER_MODEL_NAME": "hashing-v1",
        "MATCHER_API_BOOTSTRAP_SAMPLE": "false",
        "MATCHER_API_KEY_PER_MINUTE": "100000",
        "MATCHER_API_KEY_BURST": "10000",
        "MATCHER_API_ANONYMOUS_PER_MINUTE": "100000",
        "MATCHER_API_ANONYMOUS_BURST": "10000",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    log_path = data_dir / "uvicorn.log"
    log = log_path.open("wb")
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {log_path.read_text(errors='replace')}")
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready: {log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        admin_key = (data_dir / "admin-key.txt").read_text().strip()
        yield LiveServer(base, data_dir, admin_key, proc, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
