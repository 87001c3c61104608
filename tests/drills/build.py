"""kill -9 during `matcher build`, at a seeded moment while it embeds or while it saves the new
generation: the generation the database records still loads strictly and answers, the next
start of the service leaves no `.tmp-*` folder behind, and the next build succeeds."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path

from matcher.artifacts import load_artifact
from matcher.domain import Organisation
from matcher.engine import ORG_INDEX, Engine
from tests.drills.common import (
    ROOT,
    Backend,
    Result,
    Server,
    child_env,
    cli,
    kill9,
    leftovers,
    seed,
    settings,
)

NEW_ROWS = 8_000  # to embed in the killed build: about 1.5 s on the hashing embedder


def _recorded_generation(data_dir: Path, url: str | None) -> int:
    engine = Engine.open(settings(data_dir, url), load=False)
    try:
        state = engine.store.index_state(ORG_INDEX)
        assert state is not None, "no index state recorded"
        art = load_artifact(  # strict: a torn or missing generation raises, never rebuilds
            engine.index_root,
            state["generation"],
            model=engine.embedder.model_name,
            dimension=engine.embedder.dimension,
            centred=engine.settings.centre_vectors,
        )
        return art.generation
    finally:
        engine.close()


def _watch(stream: object, seen: dict[str, float]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        if "to embed" in line:
            seen.setdefault("embed", time.monotonic())
        if "saving generation" in line:
            seen.setdefault("save", time.monotonic())


def run_round(root: Path, rng: random.Random, n: int, backend: Backend) -> Result:
    data_dir = root / f"build-{backend.name}-{n}"
    with backend.database(f"build_{n}") as url:
        engine = seed(data_dir, url)
        engine.store.upsert_organisations(
            [
                Organisation(
                    id=f"build-{n}-{i}",
                    name=f"Build drill org {i}",
                    sector="business",
                    description=f"Row {i} of the build drill: vans, food and volunteers {i % 97}.",
                )
                for i in range(NEW_ROWS)
            ]
        )
        engine.close()
        phase = rng.choice(["embed", "save"])
        delay = rng.uniform(0.05, 1.0) if phase == "embed" else rng.uniform(0.0, 0.15)
        proc = subprocess.Popen(
            cli("build"),
            cwd=ROOT,
            env=child_env(data_dir, url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: dict[str, float] = {}
        reader = threading.Thread(target=_watch, args=(proc.stderr, seen), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while phase not in seen and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        killed = kill9(proc)
        reader.join(5)
        temps = len(leftovers(data_dir))
        try:
            generation = _recorded_generation(data_dir, url)
        except Exception as exc:
            return Result(False, f"phase={phase} killed={killed}: index does not load: {exc}")
        server = Server(data_dir, url)
        try:
            with server.client() as client:
                ready = client.get("/readyz").json()
                r = client.post("/v1/recommendations", json={"text": "fresh food and vans"})
            answered = r.status_code == 200 and bool(r.json().get("results"))
            left = leftovers(data_dir)
        finally:
            server.stop()
        rebuild = subprocess.run(
            cli("build", "--json", "--quiet"),
            cwd=ROOT,
            env=child_env(data_dir, url),
            capture_output=True,
            text=True,
            check=False,
        )
    note = (
        f"phase={phase} killed={killed} recorded generation={generation}"
        f" served={ready.get('index_generation')} answered={answered}"
        f" temps after kill={temps} after start={len(left)} next build rc={rebuild.returncode}"
    )
    ok = (
        killed
        and generation in (1, 2)
        and ready.get("index_generation") == generation  # loaded as recorded, not rebuilt
        and answered
        and not left
        and rebuild.returncode == 0
    )
    if left:
        note += f" left={[str(p.relative_to(data_dir)) for p in left][:3]}"
    return Result(bool(ok), note)
