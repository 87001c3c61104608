"""Model registry: versions, publish (refusing worse models), rollback, crash safety under
kill -9, zero-downtime switching of a running engine, and the `matcher models` CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ranker_history import add_history, sample_engine

from matcher.cli import main
from matcher.domain import Need, Organisation
from matcher.engine import Engine
from matcher.loaders import load_records
from matcher.settings import Settings
from training.registry import (
    PAUSE_ENV,
    PublishRefused,
    Registry,
    RegistryError,
    load_published,
)

REPO = Path(__file__).resolve().parents[2]


def _manifest(ndcg: float, fit: float = 0.5, **extra: object) -> dict[str, object]:
    return {
        "weights": {
            "fit": fit,
            "coverage": 0.2,
            "reciprocity": 0.1,
            "proximity": 0.1,
            "freshness": 0.1,
        },
        "metrics": {"primary": "ndcg@10", "ndcg@10": ndcg},
        "settings": {"embedding_model": "hashing-v1"},
        "data_hash": "sha256:test",
        **extra,
    }


def test_versions_and_manifests(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    assert reg.versions() == [] and reg.current() is None and reg.list() == []
    assert reg.create(_manifest(0.5)) == "v0001"
    assert reg.create(_manifest(0.6, fit=2.0)) == "v0002"
    assert reg.create(_manifest(0.7), version="experiment-a") == "experiment-a"
    assert reg.versions() == ["v0001", "v0002", "experiment-a"]
    man = reg.manifest("v0002")
    assert man["version"] == "v0002" and man["created_at"] and man["data_hash"] == "sha256:test"
    assert sum(man["weights"].values()) == pytest.approx(1.0, abs=1e-3)  # normalised
    assert man["weights"]["fit"] == pytest.approx(2.0 / 2.5, abs=1e-3)
    with pytest.raises(RegistryError, match="already exists"):
        reg.create(_manifest(0.1), version="v0001")
    with pytest.raises(RegistryError, match="invalid version name"):
        reg.create(_manifest(0.1), version="../evil")
    with pytest.raises(RegistryError, match="no model version"):
        reg.manifest("v0099")
    with pytest.raises(ValueError):
        reg.create({"weights": {"fit": 0.0}})


def test_publish_refuses_worse_unless_forced_and_rolls_back(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    for v in (0.5, 0.7, 0.6):
        reg.create(_manifest(v))
    first = reg.publish("v0001")
    assert first["changed"] and first["previous"] is None and reg.current() == "v0001"
    assert reg.publish("v0001")["changed"] is False
    reg.publish("v0002")
    with pytest.raises(PublishRefused, match="worse than v0002.*ndcg@10: 0.6 < 0.7"):
        reg.publish("v0003")
    assert reg.current() == "v0002"
    reg.publish("v0003", force=True)
    assert reg.pointer()["forced"] is True
    rows = {r["version"]: r for r in reg.list()}
    assert rows["v0003"]["published"] and rows["v0002"]["previous"]
    assert reg.rollback() == {"from": "v0003", "to": "v0002"}
    assert reg.rollback() == {"from": "v0002", "to": "v0001"}
    assert reg.rollback() == {"from": "v0001", "to": None}  # back to the default weights
    assert reg.current() is None
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback()


def test_same_split_comparison_is_preferred(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.create(_manifest(0.9))  # measured on other data
    reg.publish("v0001")
    same_split = {
        "published_version": "v0001",
        "models": {"published": {"ndcg@10": 0.4}, "default": {"ndcg@10": 0.3}},
    }
    reg.create(_manifest(0.5, comparison=same_split))
    check = reg.check("v0002")
    assert check["baseline"] == 0.4 and "same held-out" in check["baseline_of"]
    assert not check["worse"]
    reg.publish("v0002")
    # nothing published: the default weights from the candidate's own evaluation
    other = Registry(tmp_path / "other")
    other.create(
        _manifest(
            0.2, comparison={"published_version": None, "models": {"default": {"ndcg@10": 0.3}}}
        )
    )
    with pytest.raises(PublishRefused, match="default weights"):
        other.publish("v0001")


def test_a_published_figure_from_other_held_out_queries_says_so(tmp_path: Path) -> None:
    """`train evaluate v0005` said "worse than v0003 (its own evaluation) on ndcg@10 (0.6702 <
    0.9895)": v0003's figure was held out by time, v0005's by id, and nothing said so (the
    same evaluation measured v0003 at 0.53 on v0005's queries)."""
    by_time = {"by": "time", "test_share": 0.2, "max_test": 500, "seed": 0}
    by_id = {"by": "id", "test_share": 0.2, "max_test": 500, "seed": 0}
    reg = Registry(tmp_path)
    reg.create(_manifest(0.99, split=by_time))
    reg.publish("v0001")
    reg.create(_manifest(0.67, split=by_id))
    check = reg.check("v0002")
    assert check["worse"] and check["baseline_of"] == (
        "v0001 (its own evaluation, on other held-out queries: time 20% max 500, "
        "not id 20% max 500)"
    )
    with pytest.raises(PublishRefused, match="on other held-out queries: time 20%"):
        reg.publish("v0002")
    reg.create(_manifest(0.5, split=by_time, data_hash="sha256:later"))
    assert reg.check("v0003")["baseline_of"] == (
        "v0001 (its own evaluation, on other held-out queries: the history changed)"
    )
    reg.create(_manifest(0.995, split=by_time))  # the same split of the same history
    assert reg.check("v0004")["baseline_of"] == "v0001 (its own evaluation)"


# ------------------------------------------------------------------------- kill -9


def _start(code: str, pause: str) -> subprocess.Popen[str]:
    env = {**os.environ, PAUSE_ENV: f"{pause}:60", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child reaches the hook
    assert line.strip() == f"paused at {pause}", line
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _consistent(reg: Registry) -> None:
    for v in reg.versions():
        assert reg.manifest(v)["version"] == v
    pointer = reg.pointer()
    assert pointer["version"] is None or pointer["version"] in reg.versions()
    assert all(h is None or h in reg.versions() for h in pointer["history"])


def test_kill_during_publish_keeps_the_old_version(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.create(_manifest(0.5))
    reg.create(_manifest(0.8))
    reg.publish("v0001")
    proc = _start(
        f"from training.registry import Registry; Registry({str(tmp_path)!r}).publish('v0002')",
        "before-current",
    )
    _kill(proc)
    _consistent(reg)
    assert reg.current() == "v0001"
    reg.publish("v0002")  # the lock died with the process: the registry is usable
    assert reg.current() == "v0002"


def test_kill_while_writing_a_version_leaves_no_partial_version(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.create(_manifest(0.5))
    reg.publish("v0001")
    code = (
        "from training.registry import Registry; "
        f"Registry({str(tmp_path)!r}).create({{'weights': {{'fit': 1.0}}}})"
    )
    _kill(_start(code, "version-dir"))
    assert reg.versions() == ["v0001"] and reg.current() == "v0001"
    leftovers = [p.name for p in reg.root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers  # the unfinished folder, under a temp name nobody reads
    _consistent(reg)
    assert reg.create(_manifest(0.6)) == "v0002"  # numbering unaffected; temps cleaned
    assert not [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]


# ------------------------------------------------------------------------- serving side


@pytest.fixture()
def small_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open(Settings(data_dir=tmp_path / "var", model_name="hashing-v1"), load=False)
    loaded = load_records(REPO / "data" / "organisations.jsonl", kind="organisation")
    engine.store.upsert_organisations(
        [o for o in loaded.accepted if isinstance(o, Organisation)][:150]
    )
    engine.build()
    yield engine
    engine.close()


def test_load_published_follows_current_and_is_cheap(
    small_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = Registry(tmp_path / "reg")
    assert load_published(small_engine, tmp_path / "reg") == "hashing-v1@default-weights"
    reg.create(_manifest(0.5, fit=3.0))
    reg.publish("v0001")
    calls: list[str] = []
    real = small_engine.use_weights

    def spy(weights: dict[str, float], name: str) -> None:
        calls.append(name)
        real(weights, name)

    monkeypatch.setattr(small_engine, "use_weights", spy)
    assert load_published(small_engine, tmp_path / "reg") == "hashing-v1@v0001"
    assert small_engine.weights["fit"] == pytest.approx(3.0 / 3.5, abs=1e-3)
    for _ in range(50):
        load_published(small_engine, tmp_path / "reg")
    assert calls == ["v0001"]  # unchanged CURRENT: nothing reloaded
    reg.rollback()
    assert load_published(small_engine, tmp_path / "reg") == "hashing-v1@default-weights"
    # a broken registry never breaks serving: the engine keeps what it has
    reg.create(_manifest(0.6))
    reg.publish("v0002")
    (reg.root / "v0002" / "manifest.json").write_text("{not json")
    assert load_published(small_engine, tmp_path / "reg") == "hashing-v1@default-weights"
    with pytest.raises(RegistryError):
        (reg.root / "CURRENT").write_text((reg.root / "CURRENT").read_text() + " ")
        load_published(small_engine, tmp_path / "reg", strict=True)


def test_twenty_clients_during_a_publish(small_engine: Engine, tmp_path: Path) -> None:
    reg_dir = tmp_path / "reg"
    reg = Registry(reg_dir)
    reg.create(_manifest(0.5))
    reg.create(_manifest(0.7, fit=0.1))
    reg.publish("v0001")
    old, new = "hashing-v1@v0001", "hashing-v1@v0002"
    assert load_published(small_engine, reg_dir) == old
    needs = [
        Need(text=t)
        for t in (
            "food bank volunteers",
            "youth football coaching",
            "digital skills for older residents",
            "housing advice",
        )
    ]
    stop = threading.Event()
    published_at: list[float] = []
    responses: list[tuple[float, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        n = 0
        while not stop.is_set() or n < 3:
            try:
                started = time.monotonic()
                load_published(small_engine, reg_dir)  # as the API does per request
                rec = small_engine.recommend(needs[(i + n) % len(needs)], limit=5)
                with lock:
                    responses.append((started, rec.model_version))
            except BaseException as exc:  # noqa: BLE001 - any failure counts
                with lock:
                    errors.append(exc)
                return
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    reg.publish("v0002")
    published_at.append(time.monotonic())
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert {v for _, v in responses} <= {old, new}
    after = [v for started, v in responses if started > published_at[0]]
    before = [v for started, v in responses if started < published_at[0]]
    assert after and set(after) == {new}
    assert old in set(before)
    assert len(responses) >= 60


# ------------------------------------------------------------------------- CLI


def test_cli_fit_evaluate_publish_rollback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "var"
    engine = sample_engine(data)
    add_history(engine, n_sources=30)
    engine.close()
    base = ["--data-dir", str(data), "--model", "hashing-v1"]

    assert main([*base, "models", "list"]) == 0
    assert "default weights are in use" in capsys.readouterr().out
    assert main([*base, "train", "fit", "--json", "--max-test", "6"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert fit["version"] == "v0001" and fit["fallback"] is None
    assert Path(fit["report"]).is_file() and Path(fit["report_json"]).is_file()
    assert fit["metrics"]["candidate"]["ndcg@10"] > fit["metrics"]["default"]["ndcg@10"]
    man = Registry(data).manifest("v0001")
    assert man["settings"]["embedding_model"] == "hashing-v1"
    assert man["pairs"]["total"] == 90 and man["data_hash"].startswith("sha256:")
    assert man["split"] == {"by": "time", "test_share": 0.2, "max_test": 6, "seed": 0}

    assert main([*base, "models", "publish", "v0001"]) == 0
    assert "published v0001" in capsys.readouterr().out
    # too little data: the default weights are kept, and said so
    assert main([*base, "train", "fit", "--min-pairs", "100000", "--max-test", "6"]) == 0
    out = capsys.readouterr().out
    assert "registered v0002" in out and "kept the default weights" in out
    assert "publishing needs --force" in out and "report: " in out
    assert main([*base, "models", "publish", "v0002"]) == 1
    assert "worse than v0001" in capsys.readouterr().err
    assert main([*base, "train", "evaluate", "v0002"]) == 0
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "published" in out and ".html" in out
    assert main([*base, "models", "publish", "v0002", "--force"]) == 0
    capsys.readouterr()
    assert main([*base, "models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("^ v0001") and lines[1].startswith("* v0002")
    assert main([*base, "models", "rollback"]) == 0
    assert "from v0002 to v0001" in capsys.readouterr().out
    assert main([*base, "train", "evaluate", "v0099"]) == 2
    capsys.readouterr()


def test_models_list_says_when_figures_come_from_different_splits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`models list` printed v0001's ndcg@10 0.90 (held out by time) above v0002's 0.70 (by id)
    as if the one were better: each figure's split is shown, and that they are not comparable."""
    by_time = {"by": "time", "test_share": 0.2, "max_test": 500, "seed": 0}
    by_id = {"by": "id", "test_share": 0.2, "max_test": 500, "seed": 0}
    reg = Registry(tmp_path)
    reg.create(_manifest(0.9, split=by_time))
    reg.create(_manifest(0.7, split=by_id))
    base = ["--data-dir", str(tmp_path), "models", "list"]

    assert main(base) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "ndcg@10=0.9000 [time 20% max 500]" in lines[0]
    assert "ndcg@10=0.7000 [id 20% max 500]" in lines[1]
    warning = [line for line in lines if line.startswith("warning: ")]
    assert warning == [
        "warning: these ndcg@10 figures come from different splits (time 20% max 500: v0001; "
        "id 20% max 500: v0002): not comparable"
    ]
    assert main([*base, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["split"] for r in listed["versions"]] == [by_time, by_id]
    assert listed["comparable"] is False and "different splits" in listed["note"]

    # the same split of the same history: comparable, nothing said
    same = tmp_path / "same"
    Registry(same).create(_manifest(0.9, split=by_time))
    Registry(same).create(_manifest(0.7, split=by_time))
    assert main(["--data-dir", str(same), "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["comparable"] is True and listed["note"] is None
    assert main(["--data-dir", str(same), "models", "list"]) == 0
    assert "warning" not in capsys.readouterr().out

    # the same split of other history: other held-out queries
    Registry(same).create(_manifest(0.8, split=by_time, data_hash="sha256:later"))
    assert main(["--data-dir", str(same), "models", "list"]) == 0
    assert (
        "warning: these ndcg@10 figures come from the same split of different history "
        "(v0001, v0002; v0003), so from different held-out queries: not comparable"
    ) in capsys.readouterr().out


def test_the_verdict_prints_both_figures_alike() -> None:
    """Real data walk: "(0.7585 vs 0.438262)" printed one figure rounded and one not."""
    from training.fit import verdict

    class Registry:
        def current(self) -> str:
            return "v0001"

        def check(self, version: str) -> dict[str, object]:
            return {
                "primary": "ndcg@10",
                "candidate": 0.75853,
                "baseline": 0.438262,
                "baseline_of": "v0001 (same held-out queries)",
                "worse": False,
            }

    assert verdict(Registry(), "v0002").endswith("on ndcg@10 (0.7585 vs 0.4383)")
