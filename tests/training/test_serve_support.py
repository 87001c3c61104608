"""A benchmark stopped with SIGTERM stops the servers it started (before, `pkill` or `timeout`
on `scripts/bench_side_by_side.py` left its uvicorn servers running, each holding a model)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TINY_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/readyz")
def readyz() -> dict[str, bool]:
    return {"ready": True}
"""

DRIVER = """
import sys, time
from training.serve_support import start_uvicorn
server = start_uvicorn({"PYTHONPATH": sys.argv[1] + ":" + sys.argv[2]}, app="tiny_app:app")
try:  # the pid is printed inside: a SIGTERM that follows it at once still finds the finally
    print(server.process.pid, flush=True)
    time.sleep(600)
finally:
    server.stop()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _stop_driver(driver: subprocess.Popen[str], server_pid: int) -> tuple[int, bool]:
    """SIGTERM the benchmark: (its exit code, whether its server is alive 30 s later; a live
    one is killed then, never left behind)."""
    driver.send_signal(signal.SIGTERM)
    code = driver.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(server_pid)
    if alive:
        os.kill(server_pid, signal.SIGKILL)
    return code, alive


def test_a_sigterm_stops_the_servers_a_benchmark_started(tmp_path: Path) -> None:
    (tmp_path / "tiny_app.py").write_text(TINY_APP)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DRIVER), str(tmp_path), str(ROOT)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert driver.stdout is not None
    server_pid = int(driver.stdout.readline())
    assert _alive(server_pid)
    code, alive = _stop_driver(driver, server_pid)
    assert not alive, "the server outlived the benchmark that started it"
    assert code == 128 + signal.SIGTERM  # ended through its finally blocks


SLOW_START_APP = """
import time
from contextlib import asynccontextmanager
from fastapi import FastAPI

@asynccontextmanager
async def lifespan(app):
    time.sleep(600)  # an index built inside start-up: the event loop never sees SIGTERM
    yield

app = FastAPI(lifespan=lifespan)
"""

WAITING_DRIVER = """
import sys
from training.serve_support import start_uvicorn
start_uvicorn({"PYTHONPATH": sys.argv[1] + ":" + sys.argv[2]}, app="slow_app:app", timeout=600)
"""


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_a_sigterm_while_the_server_starts_stops_it_too(tmp_path: Path) -> None:
    """Stopping `bench_side_by_side` while its server built an index at start-up left that
    server embedding at 150% CPU until `kill -9`: the wait for /readyz had no way to stop it."""
    (tmp_path / "slow_app.py").write_text(SLOW_START_APP)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WAITING_DRIVER), str(tmp_path), str(ROOT)],
        cwd=ROOT,
        env=env,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (kids := _children(driver.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kids, "the driver started no server"
    server_pid = kids[0]
    time.sleep(3)  # uvicorn is in its start-up (the lifespan's sleep) by now
    code, alive = _stop_driver(driver, server_pid)
    assert not alive, "the server outlived the benchmark that was waiting for it"
    assert code == 128 + signal.SIGTERM
