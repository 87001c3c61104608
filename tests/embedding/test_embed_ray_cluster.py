"""`matcher embed --executor ray --address ADDR` against a Ray head started on its own with
`ray start --head` (as an operator starts a cluster), bound to 127.0.0.1, stopped after."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest

from matcher.settings import Settings
from tests.embedding.embed_support import fill_store
from tests.embedding.test_embed_ray import _vectors

pytest.importorskip("ray", reason="Ray is the optional 'scale' extra: pip install 'ray[data]'")

ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).with_name("ray")  # the CLI of the Ray installed with this Python
START_TIMEOUT = 120.0
# token authentication, the token given to the head and the job alike (never ~/.ray/auth_token,
# the machine user's own)
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_of(head: psutil.Process, temp_dir: str) -> list[psutil.Process]:
    """Every process of this head: `ray start`'s descendants and any that left its tree (the
    raylet's workers are re-parented when it dies) but name its temp dir, never another Ray."""
    found = {head.pid: head} if head.is_running() else {}
    with contextlib.suppress(psutil.NoSuchProcess):
        found.update({p.pid: p for p in head.children(recursive=True)})
    for p in psutil.process_iter(["cmdline"]):
        if temp_dir in " ".join(p.info["cmdline"] or []):
            found.setdefault(p.pid, p)
    return list(found.values())


def _stop(head: psutil.Process, temp_dir: str) -> None:
    """`ray stop` for this head only (`ray stop` itself kills every Ray process of the user on
    the machine, other people's clusters included): SIGTERM, then SIGKILL what is left."""
    procs = _processes_of(head, temp_dir)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=20)
    for p in alive + _processes_of(head, temp_dir):
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=10)


@dataclass
class Head:
    address: str
    process: psutil.Process
    temp_dir: str

    def processes(self) -> list[psutil.Process]:
        return _processes_of(self.process, self.temp_dir)


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Head]:
    """A Ray head of 1 CPU on 127.0.0.1 (no dashboard) at a free port, stopped after."""
    if not RAY.exists() and shutil.which("ray") is None:
        pytest.skip("the `ray` command is not installed (the optional 'scale' extra)")
    ray_cli = str(RAY) if RAY.exists() else str(shutil.which("ray"))
    tmp_path = tmp_path_factory.mktemp("ray-head")
    port = _free_port()
    # short: Ray's sockets live under it, and a Unix socket path is at most 107 bytes
    temp_dir = tempfile.mkdtemp(prefix="rayh-", dir="/tmp")
    env = {
        **os.environ,
        # Ray's single-machine mode: every process on 127.0.0.1, not on all interfaces
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        **AUTH,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    cmd = [ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", "1", "--include-dashboard", "false", "--disable-usage-stats"]
    cmd += ["--temp-dir", temp_dir, "--block"]
    log = (tmp_path / "ray-head.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    head = psutil.Process(proc.pid)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "Ray runtime started" not in (tmp_path / "ray-head.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (tmp_path / "ray-head.log").read_text(errors="replace")
                pytest.fail(f"ray start --head did not start: {text[-2000:]}")
            time.sleep(0.2)
        yield Head(f"127.0.0.1:{port}", head, temp_dir)
    finally:
        _stop(head, temp_dir)
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _embed(data_dir: Path, *args: str) -> dict[str, object]:
    env = {
        **os.environ,
        "MATCHER_DATA_DIR": str(data_dir),
        "MATCHER_MODEL_NAME": "hashing-v1",
        **AUTH,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "matcher.cli", "embed", "--json", "--batch-size", "16", *args]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_embed_on_a_ray_cluster_started_apart_gives_the_local_vectors(
    ray_head: Head, tmp_path: Path
) -> None:
    spaces = {}
    for executor in ("local", "ray"):
        data_dir = tmp_path / executor
        fill_store(Settings(data_dir=data_dir, model_name="hashing-v1"), n_orgs=40, n_needs=3)
        args = ["--executor", executor, "--workers", "1"]
        if executor == "ray":
            args += ["--address", ray_head.address]
        report = _embed(data_dir, *args)
        assert (report["executor"], report["status"], report["embedded"]) == (
            executor,
            "validated",
            43,
        )
        spaces[executor] = _vectors(data_dir, "hashing-v1")
    local, remote = spaces["local"], spaces["ray"]
    assert len(local) == 43 and local.keys() == remote.keys()
    for h, v in local.items():
        np.testing.assert_array_equal(remote[h], v)


def test_every_process_of_the_head_listens_on_127_0_0_1_only(ray_head: Head) -> None:
    ours = {p.pid for p in ray_head.processes()}
    listening = [
        (c.laddr.ip.removeprefix("::ffff:"), c.laddr.port, c.pid)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ours and c.laddr
    ]
    port = int(ray_head.address.rsplit(":", 1)[1])
    assert port in {p for _, p, _ in listening}  # the GCS, on the port asked for
    assert len(listening) >= 3  # GCS, raylet, ...
    assert {ip for ip, _, _ in listening} == {"127.0.0.1"}, listening
