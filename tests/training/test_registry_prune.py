"""`matcher models prune --keep N`: the N newest versions of each kind stay, and so do the
published ones, the rollback targets and a model a vector space being filled reads; --dry-run
removes nothing; a kill -9 mid-prune leaves every kept version complete; with PostgreSQL the
shared rows go too and another machine drops its copies (never uploading them again)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import test_registry_db
from test_embed_registry import fake_model
from test_registry import _consistent, _kill, _manifest, _start

from matcher.cli import main
from matcher.domain import utcnow
from matcher.registry_sync import pull, sync_for_serving
from matcher.store import Database
from matcher.store.changes import MODEL, ChangeReader
from matcher.store.models import (
    RegistryChunkRow,
    RegistryPrunedRow,
    RegistryVersionRow,
    VectorSpaceRow,
)
from training.embed_registry import register_embedding
from training.registry import Registry, RegistryError
from training.registry_prune import prune


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)


def _six(reg: Registry) -> None:
    """v0001..v0006; v0002 then v0003 published (CURRENT = v0003, rollback to v0002)."""
    for ndcg in (0.1, 0.2, 0.3, 0.05, 0.06, 0.07):
        reg.create(_manifest(ndcg))
    reg.publish("v0001")
    reg.publish("v0002")
    reg.publish("v0003")


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_prune_keeps_the_newest_the_published_and_the_rollback_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = Registry(tmp_path)
    _six(reg)
    assert reg.pointer()["history"] == [None, "v0001", "v0002"]
    base = ["--data-dir", str(tmp_path), "--model", "hashing-v1"]
    assert main([*base, "models", "prune", "--keep", "2"]) == 0
    out = capsys.readouterr().out
    assert "removed v0001" in out and "removed v0004" in out and "removed 2 versions" in out
    assert "kept    v0003      CURRENT publishes it" in out
    assert "kept    v0002      CURRENT rolls back to it" in out
    assert reg.versions() == ["v0002", "v0003", "v0005", "v0006"]
    _consistent(reg)  # the history forgot v0001: every entry names a kept version
    assert reg.pointer()["history"] == [None, "v0002"] and reg.current() == "v0003"
    assert reg.rollback() == {"from": "v0003", "to": "v0002"}
    assert reg.rollback() == {"from": "v0002", "to": None}
    assert not [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]
    reg.publish("v0005", force=True)  # history [None]: v0002 and v0003 are older, unnamed
    assert main([*base, "models", "prune", "--keep", "2"]) == 0
    assert reg.versions() == ["v0005", "v0006"]


def test_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry(tmp_path)
    _six(reg)
    before = _tree(tmp_path)
    base = ["--data-dir", str(tmp_path), "models", "prune", "--keep", "1", "--dry-run"]
    assert main([*base, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["version"] for r in report["removed"]] == ["v0005", "v0004", "v0001"]
    assert report["local_bytes"] == sum(r["local_bytes"] for r in report["removed"]) > 0
    assert report["dry_run"] is True and report["protected"] == {
        "v0003": "CURRENT publishes it",
        "v0002": "CURRENT rolls back to it",
    }
    assert main(base) == 0
    assert "would remove v0005" in capsys.readouterr().out
    assert _tree(tmp_path) == before


def test_bad_keep_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Registry(tmp_path).create(_manifest(0.5))
    for bad in ("0", "-3"):
        assert main(["--data-dir", str(tmp_path), "models", "prune", "--keep", bad]) == 2
        assert f"--keep must be at least 1 (got {bad})" in capsys.readouterr().err
    with pytest.raises(RegistryError, match="--keep must be at least 1"):
        prune(tmp_path, 0)
    assert Registry(tmp_path).versions() == ["v0001"]


def _embedding(data: Path, tmp: Path, weights: bytes) -> dict[str, object]:
    man = register_embedding(data, fake_model(tmp / weights.decode(), weights), export=False)
    onnx = data / "models" / "onnx" / f"{man['model_dir']}-int8-0123456789abcdef"
    onnx.mkdir(parents=True)
    (onnx / "model.onnx").write_bytes(b"x" * 1000)  # its export (the engine's cache)
    return man


def test_embedding_versions_are_counted_apart_and_take_their_onnx_export(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    reg = Registry(data)
    for w in (b"w1", b"w2", b"w3"):
        _embedding(data, tmp_path, w)  # v0001..v0003
    reg.create(_manifest(0.5))  # v0004: ranking weights, its kind's newest
    # a vector space still being filled with v0001's model (`matcher embed`, resumable)
    db = Database(f"sqlite:///{data / 'matcher.db'}")
    db.create_all()
    with db.session() as s:
        s.add(
            VectorSpaceRow(
                identity="m@1",
                model_name="m",
                model_path=str(data / "models" / "v0001" / "model-v0001"),
                dimension=384,
                status="filling",
                created_at=utcnow(),
                updated_at=utcnow(),
                info={},
            )
        )
    result = prune(data, 1)
    assert [r.version for r in result.removed] == ["v0002"]
    assert result.removed[0].local_bytes > 1000 and result.removed[0].kind == "embedding"
    assert "vector space being filled" in result.protected["v0001"]
    assert reg.versions() == ["v0001", "v0003", "v0004"]
    exports = sorted(p.name.split("-int8")[0] for p in (data / "models" / "onnx").iterdir())
    assert exports == ["model-v0001", "model-v0003"]
    with db.session() as s:
        s.get(VectorSpaceRow, "m@1").status = "validated"  # type: ignore[union-attr]
    assert [r.version for r in prune(data, 1).removed] == ["v0001"]
    db.dispose()


def test_kill_mid_prune_leaves_every_kept_version_complete(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _six(reg)
    code = f"from training.registry_prune import prune; prune({str(tmp_path)!r}, 1, db=None)"
    proc = _start(code, "prune-trash")  # the first version renamed to a .tmp- name
    _kill(proc)
    _consistent(reg)
    assert set(reg.versions()) >= {"v0002", "v0003", "v0006"}
    assert len(reg.versions()) == 5 and reg.current() == "v0003"
    assert [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]  # its leftover
    os.environ.pop("MATCHER_REGISTRY_PAUSE", None)
    prune(tmp_path, 1, db=None)  # run again: it finishes
    assert reg.versions() == ["v0002", "v0003", "v0006"]
    reg.create(_manifest(0.01))  # the next write sweeps the leftovers
    assert not [p for p in reg.root.iterdir() if p.name.startswith(".tmp-")]


# ---------------------------------------------------------------------------------- PostgreSQL


# the fixture of test_registry_db: two data directories on one database
two_machines = test_registry_db.two_machines


def test_a_shared_prune_reaches_the_other_machine_which_never_uploads_it_again(
    two_machines: tuple[str, Path, Path, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    url, a_dir, b_dir, db = two_machines
    a, b = Registry(a_dir, db=Database(url)), Registry(b_dir, db=Database(url))
    _six(a)
    assert pull(b.db, b.root).fetched == [f"v000{i}" for i in range(1, 7)]
    reader = ChangeReader(db)
    reader.start()
    base = ["--data-dir", str(a_dir), "--database-url", url]
    assert main([*base, "models", "prune", "--keep", "1", "--dry-run"]) == 0
    assert "would remove v0005" in capsys.readouterr().out
    assert [c for c in reader.poll() if c.kind == MODEL] == []
    with db.session() as s:
        assert s.query(RegistryVersionRow).count() == 6
    assert main([*base, "models", "prune", "--keep", "1"]) == 0
    out = capsys.readouterr().out
    assert "in the database" in out and "removed 3 versions" in out
    assert [c.entity_id for c in reader.poll() if c.kind == MODEL] == [
        "CURRENT=v0003 EMBEDDING=default"
    ]
    with db.session() as s:
        names = sorted(n for (n,) in s.query(RegistryVersionRow.name))
        tombstones = sorted(n for (n,) in s.query(RegistryPrunedRow.name))
        chunked = sorted({n for (n,) in s.query(RegistryChunkRow.name)})
    assert names == ["v0002", "v0003", "v0006"] and tombstones == ["v0001", "v0004", "v0005"]
    assert chunked == names  # the archives' chunks went with their rows
    assert a.versions() == names

    # machine B serves v0005 (a switch in progress, say): it keeps that one for now
    report = sync_for_serving(b.db, b_dir, in_use={"v0005"})
    assert report is not None and not report.problems
    assert sorted(report.dropped) == ["v0001", "v0004"] and report.pointers == ["CURRENT"]
    assert b.versions() == ["v0002", "v0003", "v0005", "v0006"]
    assert b.pointer() == a.pointer()
    # a write on B (its pull leaves local copies alone) does not upload the pruned v0005
    assert b.create(_manifest(0.01)) == "v0007"
    with db.session() as s:
        assert s.get(RegistryVersionRow, "v0005") is None
        assert s.get(RegistryVersionRow, "v0007") is not None
    report = sync_for_serving(b.db, b_dir)  # no longer served: it goes
    assert report is not None and report.dropped == ["v0005"]
    assert b.versions() == ["v0002", "v0003", "v0006", "v0007"]
    assert "v0005" not in pull(a.db, a.root).fetched and "v0005" not in a.versions()


def test_a_shared_prune_killed_after_its_transaction_is_finished_by_the_next_sync(
    two_machines: tuple[str, Path, Path, Database],
) -> None:
    url, a_dir, _b_dir, db = two_machines
    a = Registry(a_dir, db=Database(url))
    _six(a)
    code = (
        "from matcher.store import Database; from training.registry_prune import prune;"
        f"prune({str(a_dir)!r}, 1, db=Database({url!r}))"
    )
    _kill(_start(code, "prune-after-database"))  # rows gone, nothing removed here yet
    with db.session() as s:
        assert sorted(n for (n,) in s.query(RegistryVersionRow.name)) == [
            "v0002",
            "v0003",
            "v0006",
        ]
    _consistent(a)
    assert len(a.versions()) == 6 and a.pointer()["history"] == [None, "v0001", "v0002"]
    assert a.create(_manifest(0.01)) == "v0007"  # a write here uploads none of them again
    with db.session() as s:
        assert s.query(RegistryVersionRow).count() == 4
    report = sync_for_serving(a.db, a_dir)  # a serving sync removes the local copies
    assert report is not None and sorted(report.dropped) == ["v0001", "v0004", "v0005"]
    assert a.versions() == ["v0002", "v0003", "v0006", "v0007"]
    _consistent(a)
