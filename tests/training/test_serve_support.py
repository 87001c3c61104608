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
    driver.send_signal(signal.SIGTERM)
    code = driver.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(server_pid)
    if alive:  # never leave it behind, whatever the outcome
        os.kill(server_pid, signal.SIGKILL)
    assert not alive, "the server outlived the benchmark that started it"
    assert code == 128 + signal.SIGTERM  # ended through its finally blocks
