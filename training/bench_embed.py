"""Re-embedding as a job: `matcher embed` with the local executor against Ray, on real profiles.

    python -m training.bench_embed --shared-data ../shared/data [--n 10000] [--workers 2]
        [--work-dir DIR] [--json OUT]

Corpus: the first N real nonprofits of us_nonprofits_dev.csv.gz (read at run time, never
stored in the repository). Each executor fills a fresh data directory with the default int8
ONNX model (exported once into the work dir and shared): local runs one process with
`--workers` onnxruntime threads, Ray a private local cluster of `--workers` one-thread actors
(its start-up and the actors' model loading are inside the measured time). Printed: texts/s of
each, the max abs difference between their vectors, and the switch-over: while the local run
run, once the new space is filled, validates it, builds a generation from it and switches,
another thread keeps asking the engine that serves the old generation (built with the
model-free hashing embedder) and records its slowest answer and any error; then opening an
engine on the new model (what a restarted serving process does) is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from matcher.domain import Need
from matcher.embed_job import run_embed
from matcher.embedding.factory import create_embedder
from matcher.embedding.hashing import HashingEmbedder
from matcher.embedding.identity import model_identity
from matcher.engine import Engine
from matcher.settings import Settings
from matcher.store import Database, Store
from matcher.store.repository import SqlEmbeddingCache
from training.bench_speed import real_nonprofits

QUERIES = ["food bank volunteers", "after-school tutoring", "housing for veterans"]


def _fresh(root: Path, name: str, export: Path, orgs: list[Any]) -> Path:
    data_dir = root / name
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to(export / "models")  # one ONNX export for every run
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


class Asker(threading.Thread):
    """Asks `engine` one query after another until stopped: answers, errors, slowest answer."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine, self.stop = engine, threading.Event()
        self.answers, self.errors, self.slowest = 0, 0, 0.0
        self.generations: set[int] = set()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                rec = self.engine.recommend(Need(text=QUERIES[i % len(QUERIES)]), limit=5)
                self.answers += bool(rec.results)
                self.generations.add(self.engine.index_generation)
            except Exception:  # noqa: BLE001 - counted: the figure is "no error"
                self.errors += 1
            self.slowest = max(self.slowest, time.perf_counter() - t0)
            i += 1
            time.sleep(0.01)


def run(shared: Path, work: Path, n: int, workers: int) -> dict[str, Any]:
    orgs = real_nonprofits(shared)[:n]
    export = work / "export"
    export.mkdir(parents=True, exist_ok=True)
    model = create_embedder(Settings(data_dir=export))
    load = getattr(model, "load", None)
    if load is not None:
        load()  # exports the int8 graph once (minutes the first time)
    identity = model_identity(model)
    out: dict[str, Any] = {"profiles": len(orgs), "identity": identity, "workers": workers}
    out["load_average_before"] = os.getloadavg()[0]

    # local, with the switch-over measured against an engine serving the old generation
    local_dir = _fresh(work, "local", export, orgs)
    old_settings = Settings(data_dir=local_dir, model_name="hashing-v1")
    serving = Engine.open(old_settings, embedder=HashingEmbedder())
    settings = Settings(data_dir=local_dir, torch_threads=workers)
    local = run_embed(settings, executor="local")  # timed alone: nothing else on the CPUs
    asker = Asker(serving)
    asker.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    switched = run_embed(settings, executor="local", switch=True)  # validate, build, switch
    switch_s = time.perf_counter() - t0
    asker.stop.set()
    asker.join()
    t0 = time.perf_counter()
    reopened = Engine.open(settings)
    reopen_s = time.perf_counter() - t0
    out["local"] = {k: getattr(local, k) for k in ("embedded", "embed_seconds", "texts_per_second")}
    out["switch"] = {
        "old_generation_answers": asker.answers,
        "old_generation_errors": asker.errors,
        "slowest_answer_ms": round(asker.slowest * 1000, 1),
        "generations_seen_by_old_process": sorted(asker.generations),
        "new_generation": reopened.index_generation,
        "reopen_on_new_model_s": round(reopen_s, 2),
        "switch_job_s": round(switch_s, 2),
        "switched": switched.switched,
    }
    reopened.close()
    serving.close()

    ray_dir = _fresh(work, "ray", export, orgs)
    remote = run_embed(Settings(data_dir=ray_dir), executor="ray", workers=workers)
    out["ray"] = {k: getattr(remote, k) for k in ("embedded", "embed_seconds", "texts_per_second")}

    from matcher.embedding.cache import text_hash

    hashes = list(dict.fromkeys(text_hash(o.profile_text()) for o in orgs))
    a, b = _vectors(local_dir, identity, hashes), _vectors(ray_dir, identity, hashes)
    diff = [float(np.max(np.abs(a[h] - b[h]))) for h in hashes]
    out["max_abs_difference"] = max(diff)
    out["identical_vectors"] = sum(d == 0.0 for d in diff)
    out["load_average_after"] = os.getloadavg()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench-embed"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not (args.shared_data / "us_nonprofits_dev.csv.gz").exists():
        print(f"bench_embed: skipped, {args.shared_data} has no us_nonprofits_dev.csv.gz")
        return
    result = run(args.shared_data, args.work_dir, args.n, args.workers)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
