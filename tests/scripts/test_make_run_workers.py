"""`make run WORKERS=2`: two serving processes that share rate limits and training jobs through
the database, with a training-job runner beside them that stops when the server stops."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from api.keys import create_api_key
from matcher.settings import Settings
from training.bench_replicas import SERVER_ENV, seed
from training.serve_support import free_port

ROOT = Path(__file__).resolve().parents[2]


def _group(pgid: int) -> list[str]:
    """Command lines of the live processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(cmdline)
    return found


def test_the_dry_run_of_one_worker_serves_as_before() -> None:
    recipe = subprocess.run(
        ["make", "-s", "-n", "run", "DATA_DIR=/tmp/x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--workers" not in recipe
    assert "matcher worker" not in recipe
    assert "RATE_LIMIT_STORE" not in recipe


def test_the_links_a_served_instance_emails_point_at_where_it_serves() -> None:
    """`make run PORT=8765` e-mailed confirmation links to localhost:8000 (real data walk)."""

    def recipe(*args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["make", "-s", "-n", *args, "DATA_DIR=/tmp/x", "DEMO_DIR=/tmp/y"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={k: v for k, v in os.environ.items() if k != "MATCHER_API_PUBLIC_URL"}
            | (env or {}),
        ).stdout

    for target in ("run", "demo-real"):
        assert "MATCHER_API_PUBLIC_URL=http://127.0.0.1:8765 " in recipe(target, "PORT=8765")
        assert "MATCHER_API_PUBLIC_URL=http://localhost:8000 " in recipe(target, "HOST=0.0.0.0")
        # a public address set for the deployment wins
        said = recipe(target, "PORT=8765", env={"MATCHER_API_PUBLIC_URL": "https://pm.example"})
        assert "MATCHER_API_PUBLIC_URL=https://pm.example " in said


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / ".installed").is_file(), reason="needs `make setup`"
)
def test_two_workers_serve_and_their_job_runner_stops_with_them(tmp_path: Path) -> None:
    seed(tmp_path, None, orgs=12)
    key = create_api_key(
        Settings(data_dir=tmp_path, model_name=SERVER_ENV["MATCHER_MODEL_NAME"]), "t", "analyst"
    )
    port = free_port()
    env = {**os.environ, **SERVER_ENV}
    make = subprocess.Popen(
        ["make", "-s", "run", "WORKERS=2", f"DATA_DIR={tmp_path}", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal would give it
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                # both workers ready: each fresh connection may reach either
                codes = {
                    httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                    for _ in range(20)
                }
                if codes == {200}:
                    break
            except httpx.HTTPError:
                pass
            assert make.poll() is None, "make run WORKERS=2 exited before serving"
            assert time.monotonic() < deadline, "not ready within 180 s"
            time.sleep(0.5)
        running = [c for c in _group(make.pid) if not c.startswith(("make", "/bin/bash"))]
        supervisor = [c for c in running if "uvicorn api.main:app" in c]
        assert len(supervisor) == 1 and "--workers 2" in supervisor[0], running
        assert sum("multiprocessing" in c for c in running) >= 2, running  # its two workers
        runner = [c for c in running if "matcher worker" in c]
        assert len(runner) == 1, running
        # a training job started through one worker is seen by both and run by the runner
        # (no history here: it fails, but it is run; in-process jobs would be 404 on the other
        # worker half the time, and a queued job with no runner would stay queued)
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"X-API-Key": key},
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),  # a connection a request:
        )  # the kernel hands new connections to either worker
        started = http.post("/v1/analyst/train", json={})
        assert started.status_code == 202, started.text
        url = started.headers["Location"]
        deadline = time.monotonic() + 120
        while True:
            seen = [http.get(url) for _ in range(12)]
            assert [r.status_code for r in seen] == [200] * 12, [r.text for r in seen]
            if seen[-1].json()["status"] in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, seen[-1].text
            time.sleep(0.5)
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C in the terminal
        make.wait(timeout=60)
        deadline = time.monotonic() + 20
        while _group(make.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(make.pid) == [], "the job runner outlived the server"
    finally:
        if make.poll() is None or _group(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
