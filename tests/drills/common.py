"""What the drills share: the child environment, SQLite/PostgreSQL back ends (a fresh database
per round), seeded data dirs, a live uvicorn, kill -9, and the result of a round."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

from matcher.engine import Engine
from matcher.settings import Settings
from tests.api.api_support import N_ORGS, SERVER_ENV, sample_needs, sample_orgs
from training.serve_support import start_uvicorn

ROOT = Path(__file__).resolve().parents[2]
MODEL = SERVER_ENV["MATCHER_MODEL_NAME"]
ENV = SERVER_ENV


@dataclass
class Result:
    """One round: passed or not, what was seen, acknowledged writes lost, race winners."""

    ok: bool
    note: str
    lost: int = 0
    winners: list[int] = field(default_factory=list)


def postgres_url() -> str | None:
    """The PostgreSQL server to drill: MATCHER_TEST_POSTGRES_URL (set by
    scripts/with-postgres.sh), else MATCHER_DATABASE_URL when it names PostgreSQL."""
    url = os.environ.get("MATCHER_TEST_POSTGRES_URL") or os.environ.get("MATCHER_DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


@dataclass(frozen=True)
class Backend:
    name: str  # "sqlite" or "postgresql"
    server_url: str | None = None  # PostgreSQL: any database on the server, used to create more

    @contextmanager
    def database(self, label: str) -> Iterator[str | None]:
        """A fresh, empty database for one round (None: SQLite in the round's data dir),
        dropped afterwards even if a killed process left connections behind."""
        if self.server_url is None:
            yield None
            return
        name = f"drill_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(self.server_url).set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


SQLITE = Backend("sqlite")


def backends() -> list[Backend]:
    url = postgres_url()
    return [SQLITE] + ([Backend("postgresql", url)] if url else [])


def settings(data_dir: Path, database_url: str | None) -> Settings:
    """Explicit database_url: an inherited MATCHER_DATABASE_URL never redirects a round."""
    return Settings(data_dir=data_dir, database_url=database_url, model_name=MODEL)


def child_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MATCHER_DATABASE_URL"}
    env.update(ENV)
    env["MATCHER_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    if database_url:
        env["MATCHER_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def seed(data_dir: Path, database_url: str | None = None) -> Engine:
    """The first N_ORGS sample organisations and 20 needs, indexed (generation 1)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = Engine.open(settings(data_dir, database_url), load=False)
    engine.store.upsert_organisations(sample_orgs())
    engine.build()
    engine.ingest_needs(sample_needs())
    return engine


def count_orgs(data_dir: Path, database_url: str | None) -> int:
    """Organisations stored beyond the seeded sample."""
    engine = Engine.open(settings(data_dir, database_url), load=False)
    try:
        return engine.store.count_organisations() - N_ORGS
    finally:
        engine.close()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "matcher.cli", *args]


def kill9(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> bool:
    """SIGKILL the process if it still runs; True if it was killed (not already finished)."""
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return alive and proc.returncode == -signal.SIGKILL


def leftovers(data_dir: Path) -> list[Path]:
    """`.tmp-*` files and folders anywhere under the data dir (not those inside another)."""
    found = sorted(data_dir.rglob(".tmp-*"))
    return [p for p in found if not any(q.name.startswith(".tmp-") for q in p.parents)]


class Server:
    """uvicorn serving a data dir, started as `make run` starts it (no proxy headers)."""

    def __init__(self, data_dir: Path, database_url: str | None, timeout: float = 90.0):
        self.data_dir = data_dir
        self.log_path = data_dir / "uvicorn.log"
        self.uvicorn = start_uvicorn(
            child_env(data_dir, database_url),
            log_path=self.log_path,
            append_log=True,
            args=("--no-access-log", "--no-proxy-headers"),
            timeout=timeout,
        )
        self.base = self.uvicorn.base_url
        self.proc = self.uvicorn.process
        self.key = (data_dir / "admin-key.txt").read_text().strip()

    def log_tail(self) -> str:
        return self.uvicorn.log_text(tail=600)

    def client(self, timeout: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=timeout, headers={"X-API-Key": self.key})

    def kill(self) -> None:
        self.uvicorn.kill()

    def stop(self) -> None:
        self.uvicorn.stop()
