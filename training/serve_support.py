"""One way to start the API as a real process for tests, drills and benchmarks: uvicorn on a
free 127.0.0.1 port, ready once `/readyz` answers 200, stopped cleanly (SIGTERM, then SIGKILL
after a grace period).

    with uvicorn_server(env, log_path=data_dir / "uvicorn.log") as server:
        httpx.get(server.base_url + "/v1/organisations")

`env` is the child's whole environment (callers start from `os.environ`); the log (stdout and
stderr) goes to `log_path`, or to this process's own streams when it is None.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class ServerNotReady(RuntimeError):
    """uvicorn exited, or did not answer /readyz with 200 in time; the message has its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds of a process and its live children (uvicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids.extend(int(k) for k in kids)
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


@dataclass
class Uvicorn:
    """A started uvicorn process and where it answers."""

    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None

    def log_text(self, tail: int | None = None) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return text[-tail:] if tail else text

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.process.pid)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM (uvicorn's clean shutdown: lifespan exit), SIGKILL after `grace` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> bool:
        """SIGKILL if still running; True if it was killed (not already finished)."""
        alive = self.process.poll() is None
        if alive:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        return alive and self.process.returncode == -signal.SIGKILL


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_through_finally_on_sigterm() -> None:
    """A SIGTERM (`timeout`, `kill`, `pkill`) then ends this process as Ctrl-C does, through
    its `finally` blocks, so the servers it started are stopped instead of left serving (only
    from the main thread, and only while SIGTERM has its default action)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit)


def start_uvicorn(
    env: Mapping[str, str],
    *,
    log_path: Path | None = None,
    append_log: bool = False,
    port: int | None = None,
    args: Sequence[str] = ("--no-access-log",),
    wrap: Sequence[str] | None = None,
    timeout: float = 90.0,
    poll_seconds: float = 0.1,
    app: str = "api.main:app",
) -> Uvicorn:
    """`uvicorn APP --host 127.0.0.1 --port PORT *args` (run from the repository root,
    under `wrap` when given, e.g. `py-spy record ...` without its "--"), returned once /readyz
    answers 200; stopped, and ServerNotReady raised, if it exits or is not ready in time."""
    exit_through_finally_on_sigterm()
    port = port or free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1"]
    cmd += ["--port", str(port), *args]
    if wrap:
        cmd = [*wrap, "--", *cmd]
    if log_path is None:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env))
    else:
        with log_path.open("ab" if append_log else "wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
            )
    server = Uvicorn(f"http://127.0.0.1:{port}", port, proc, log_path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise ServerNotReady(f"uvicorn exited with {proc.returncode}: {server.log_text()}")
            try:
                if httpx.get(server.base_url + "/readyz", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerNotReady(
                    f"uvicorn not ready after {timeout:.0f} s: {server.log_text()}"
                )
            time.sleep(poll_seconds)
    except BaseException:
        # not ready, Ctrl-C or a SIGTERM while it starts (a start-up that builds an index does
        # not heed SIGTERM until its build ends): never leave it running
        server.stop(grace=5.0)
        raise


@contextmanager
def uvicorn_server(
    env: Mapping[str, str],
    *,
    log_path: Path | None = None,
    append_log: bool = False,
    port: int | None = None,
    args: Sequence[str] = ("--no-access-log",),
    timeout: float = 90.0,
    poll_seconds: float = 0.1,
) -> Iterator[Uvicorn]:
    """start_uvicorn for the duration of a `with` block, stopped (SIGTERM, then SIGKILL) after."""
    server = start_uvicorn(
        env,
        log_path=log_path,
        append_log=append_log,
        port=port,
        args=args,
        timeout=timeout,
        poll_seconds=poll_seconds,
    )
    try:
        yield server
    finally:
        server.stop()
