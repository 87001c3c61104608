"""Re-embedding as a job: `matcher embed` with the local executor against Ray, on real profiles,
and the switch-over seen by a real serving process.

    python -m training.bench_embed --shared-data ../shared/data [--n 10000] [--workers 2]
        [--parts executors,switch] [--work-dir DIR] [--json OUT]

Corpus: the first N real nonprofits of us_nonprofits_dev.csv.gz (read at run time, never
stored in the repository; it has 54,399), padded past that with recombined ones as
training/bench_speed.py pads (`bench_embed_support.padded_profiles`: every padded profile text
distinct, so none is served from a cache); how many are real and padded is printed. Each
executor fills a fresh data directory with the default int8 ONNX model (exported once into the
work dir and shared): local runs `--workers` one-thread onnxruntime sessions in threads of one
process, Ray a private local cluster of `--workers` one-thread actors (its start-up and the
actors' model loading are inside the measured time). Printed: texts/s of each, CPU seconds
(this process and every process it started, sampled) per text, and the max abs difference
between their vectors (part `executors`). Part `single` also runs the one-session local path
(one session of `--workers` threads, `--workers 1`) and compares its vectors with local's.

Part `switch`: a uvicorn process serves the data directory's index generation built with the
model-free hashing embedder while `matcher embed --switch` runs as its own process on the same
directory (after the `executors` part: the space is filled, so it validates, builds a
generation from it and switches; alone: it embeds everything first). A client keeps asking
the server (POST /v1/recommendations, one after another) and records every answer: errors,
latency, the generations that answered and the longest time without an answer. Then opening
an engine on the new model (what a restarted serving process does) is timed. `--job-nice N`
runs the job at niceness N (`matcher embed --nice`; default its own, 10; 0: the priority the
benchmark runs at, as before).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from matcher.embed_job import run_embed
from matcher.embedding.cache import text_hash
from matcher.embedding.factory import create_embedder
from matcher.embedding.identity import model_identity
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store import Database, Store
from matcher.store.repository import SqlEmbeddingCache
from training.bench_embed_support import CpuMeter, padded_profiles
from training.bench_replicas import SERVER_ENV
from training.bench_speed import real_nonprofits
from training.serve_support import ROOT, uvicorn_server

QUERIES = ["food bank volunteers", "after-school tutoring", "housing for veterans"]
PARTS = frozenset({"executors", "switch"})
ALL_PARTS = PARTS | {"single"}
REPORTED = ("embedded", "embed_seconds", "texts_per_second")


def _fresh(root: Path, name: str, export: Path, orgs: list[Any]) -> Path:
    data_dir = root / name
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to((export / "models").resolve())  # one ONNX export for all
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    db.create_all()
    Store(db).upsert_organisations(orgs)
    db.dispose()
    return data_dir


def _vectors(data_dir: Path, identity: str, hashes: list[str]) -> dict[str, np.ndarray]:
    db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
    try:
        return SqlEmbeddingCache(db).get_many(identity, hashes)
    finally:
        db.dispose()


@dataclass
class Answers:
    """What the asking client saw: the moment and duration of every answer (perf_counter, the
    system's monotonic clock, comparable between processes), errors, generations answering."""

    answers: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    generations: set[int] = field(default_factory=set)

    def longest_gap(self, start: float, end: float) -> tuple[float, float]:
        """The longest time within [start, end] without an answer, and when it began (seconds
        after `start`)."""
        times = [start, *(t for t, _ in self.answers if start < t < end), end]
        return max((b - a, a - start) for a, b in zip(times, times[1:], strict=False))


def ask(base_url: str, key: str, stop: Any, ready: Any, conn: Any, pause_s: float = 0.01) -> None:
    """Asks a served process one recommendation after another until `stop` is set, `ready`
    once warmed up (20 answers); sends its Answers through `conn`. Runs in a process of its own
    (spawned): as a thread of the benchmark's process, which holds the ONNX model, one of its
    requests took 1.3-1.8 s in small runs, where a client without the model saw none."""
    seen = Answers()
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60) as client:
        i = 0
        while not stop.is_set():
            t0 = time.perf_counter()
            body = {"text": QUERIES[i % len(QUERIES)], "limit": 5}
            try:
                r = client.post("/v1/recommendations", json=body)
                if r.status_code == 200:
                    seen.generations.add(int(r.json().get("index_generation") or 0))
                    t1 = time.perf_counter()
                    seen.answers.append((t1, t1 - t0))
                    if len(seen.answers) == 20:
                        ready.set()
                else:
                    seen.errors.append(f"{r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                seen.errors.append(f"{type(exc).__name__}: {exc}")
            i += 1
            stop.wait(pause_s)
    conn.send(seen)
    conn.close()


def switch_over(data_dir: Path, workers: int, job_nice: int | None = None) -> dict[str, Any]:
    """`matcher embed --switch` as its own process while a served process keeps answering
    (`job_nice`: the job's `--nice`; None: its default)."""
    serving_env = {**os.environ, **SERVER_ENV, "MATCHER_DATA_DIR": str(data_dir)}
    Engine.open(Settings(data_dir=data_dir, model_name="hashing-v1")).close()  # generation 1
    job_env = {k: v for k, v in os.environ.items() if k != "MATCHER_MODEL_NAME"}
    job_env.pop("MATCHER_TORCH_THREADS", None)  # `workers` sessions of one thread each
    job_env.update(MATCHER_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-m", "matcher.cli", "embed", "--switch", "--json"]
    cmd += ["--workers", str(workers)]
    if job_nice is not None:
        cmd += ["--nice", str(job_nice)]
    log = data_dir / "uvicorn-switch.log"
    phases: list[tuple[float, str]] = []  # the job's progress lines, seconds after its start
    ctx = multiprocessing.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    receive, send = ctx.Pipe(duplex=False)
    with uvicorn_server(serving_env, log_path=log, timeout=300) as server:
        key = (data_dir / "admin-key.txt").read_text().strip()
        client = ctx.Process(target=ask, args=(server.base_url, key, stop, ready, send))
        client.start()
        ready.wait(120)
        load0 = os.getloadavg()[0]
        start = time.perf_counter()
        job = subprocess.Popen(
            cmd, cwd=ROOT, env=job_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert job.stderr is not None
        for line in job.stderr:
            phases.append((round(time.perf_counter() - start, 2), line.rstrip()[:160]))
        stdout = job.stdout.read() if job.stdout else ""
        job.wait()
        end = time.perf_counter()
        time.sleep(1.0)
        stop.set()
        asker: Answers = receive.recv()
        client.join()
    if job.returncode != 0:
        raise RuntimeError(f"matcher embed --switch failed: {phases[-5:]}")
    report = json.loads(stdout)
    during = [d for t, d in asker.answers if start < t < end]
    gap, gap_at = asker.longest_gap(start, end)
    t0 = time.perf_counter()
    reopened = Engine.open(Settings(data_dir=data_dir))
    reopen_s = time.perf_counter() - t0
    new_generation = reopened.index_generation
    reopened.close()
    return {
        "switch_job_s": round(end - start, 2),
        "answers_during_job": len(during),
        "errors": len(asker.errors),
        "first_errors": asker.errors[:3],
        "longest_gap_ms": round(gap * 1000, 1),
        "longest_gap_began_s": round(gap_at, 2),
        "p50_ms": round(float(np.percentile(during, 50)) * 1000, 1) if during else None,
        "p99_ms": round(float(np.percentile(during, 99)) * 1000, 1) if during else None,
        "slowest_answer_ms": round(max(during) * 1000, 1) if during else None,
        "generations_answering": sorted(asker.generations),
        "switched_to": (report.get("switched") or {}).get("generation"),
        "job_priority": (report.get("extra") or {}).get("priority"),
        "new_generation_on_reopen": new_generation,
        "reopen_on_new_model_s": round(reopen_s, 2),
        "load_average": [round(load0, 1), round(os.getloadavg()[0], 1)],
        "job_progress": phases[:12] + phases[-6:] if len(phases) > 18 else phases,
    }


def _difference(dir_a: Path, dir_b: Path, identity: str, hashes: list[str]) -> dict[str, Any]:
    a, b = _vectors(dir_a, identity, hashes), _vectors(dir_b, identity, hashes)
    diff = [float(np.max(np.abs(a[h] - b[h]))) for h in hashes]
    return {"max_abs_difference": max(diff), "identical_vectors": sum(d == 0.0 for d in diff)}


def _timed_embed(settings: Settings, executor: str, workers: int) -> dict[str, Any]:
    with CpuMeter() as cpu:
        report = run_embed(settings, executor=executor, workers=workers)
    out = {k: getattr(report, k) for k in REPORTED}
    out["cpu_seconds"] = round(cpu.seconds, 1)  # this process and every one it started
    out["cpu_ms_per_text"] = round(1000 * cpu.seconds / max(report.embedded, 1), 2)
    out["load_average_after"] = os.getloadavg()[0]
    return out


def run(
    shared: Path,
    work: Path,
    n: int,
    workers: int,
    parts: frozenset[str] = PARTS,
    job_nice: int | None = None,
) -> dict[str, Any]:
    real = real_nonprofits(shared)
    orgs = padded_profiles(real, n)
    n_real = min(len(real), n)
    texts = {o.profile_text() for o in orgs}
    print(
        f"bench_embed: {len(orgs):,} profiles: {n_real:,} real, {len(orgs) - n_real:,} padded "
        f"(recombined); {len(texts):,} distinct profile texts",
        file=sys.stderr,
        flush=True,
    )
    export = work / "export"
    export.mkdir(parents=True, exist_ok=True)
    model = create_embedder(Settings(data_dir=export))
    load = getattr(model, "load", None)
    if load is not None:
        load()  # exports the int8 graph once (minutes the first time)
    identity = model_identity(model)
    out: dict[str, Any] = {
        "profiles": len(orgs),
        "real": n_real,
        "padded": len(orgs) - n_real,
        "distinct_profile_texts": len(texts),
        "identity": identity,
        "workers": workers,
    }
    out["load_average_before"] = os.getloadavg()[0]
    hashes = list(dict.fromkeys(text_hash(o.profile_text()) for o in orgs))

    local_dir = _fresh(work, "local", export, orgs)
    if "executors" in parts:
        # `workers` one-thread onnxruntime sessions in threads; timed alone on the CPUs
        out["local"] = _timed_embed(Settings(data_dir=local_dir), "local", workers)
    if "single" in parts:  # the one-session path: one session of `workers` threads
        single_dir = _fresh(work, "single", export, orgs)
        settings = Settings(data_dir=single_dir, torch_threads=workers)
        out["local_one_session"] = _timed_embed(settings, "local", 1)
        if "executors" in parts:
            out["local_one_session"].update(_difference(local_dir, single_dir, identity, hashes))
    if "switch" in parts:
        out["switch"] = switch_over(local_dir, workers, job_nice)
    if "executors" in parts:
        ray_dir = _fresh(work, "ray", export, orgs)
        out["ray"] = _timed_embed(Settings(data_dir=ray_dir), "ray", workers)
        out.update(_difference(local_dir, ray_dir, identity, hashes))
    out["load_average_after"] = os.getloadavg()[0]
    return out


def parse_parts(text: str) -> frozenset[str]:
    parts = frozenset(p.strip() for p in text.split(",") if p.strip())
    if not parts or parts - ALL_PARTS:
        raise argparse.ArgumentTypeError(f"parts: a comma-separated subset of {sorted(ALL_PARTS)}")
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench-embed"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--parts",
        type=parse_parts,
        default=PARTS,
        help="executors,switch (single: also the one-session local path)",
    )
    parser.add_argument(
        "--job-nice", type=int, help="part switch: the job's --nice (default: the job's own, 10)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not (args.shared_data / "us_nonprofits_dev.csv.gz").exists():
        print(f"bench_embed: skipped, {args.shared_data} has no us_nonprofits_dev.csv.gz")
        return
    result = run(args.shared_data, args.work_dir, args.n, args.workers, args.parts, args.job_nice)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
