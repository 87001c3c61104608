"""The model registry and the database (training.registry_db, matcher.registry_sync).

SQLite: the files are the registry; a publish or rollback from the CLI records a MODEL change,
so every serving process on the data directory follows it at once. PostgreSQL: two machines
(two data directories) share the registry through the database: versions, metadata rewritten
later (the gate's report) and pointers reach the other machine's files; a version already
there is not fetched again; files that differ from the database's are refused, never served;
a sync killed mid-way leaves the previous local state."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from support_databases import pg_schema_url

from matcher.cli import main
from matcher.embedding.published import published_model
from matcher.errors import RegistrySyncError
from matcher.registry_files import pack
from matcher.registry_sync import pull, sync_for_serving
from matcher.store import Database
from matcher.store.changes import MODEL, ChangeReader
from matcher.store.models import RegistryChunkRow, RegistryVersionRow
from training.embed_registry import register_embedding
from training.registry import Registry
from training.registry_db import dispose_shared


def _manifest(ndcg: float) -> dict[str, object]:
    weights = {"fit": 0.5, "coverage": 0.2, "reciprocity": 0.1, "proximity": 0.1, "freshness": 0.1}
    return {"weights": weights, "metrics": {"primary": "ndcg@10", "ndcg@10": ndcg}}


def tamper(db: Database, name: str, archive: bytes) -> None:
    """Replace a shared version's archive (its chunks) with `archive`, digest unchanged."""
    with db.session() as s:
        s.execute(delete(RegistryChunkRow).where(RegistryChunkRow.name == name))
        s.execute(insert(RegistryChunkRow).values(name=name, part="payload", seq=0, data=archive))
        s.execute(
            update(RegistryVersionRow).where(RegistryVersionRow.name == name).values(chunks=1)
        )


def _model_changes(reader: ChangeReader) -> list[str]:
    return [c.entity_id for c in reader.poll() if c.kind == MODEL]


# ---------------------------------------------------------------------------------- SQLite


def test_cli_publish_and_rollback_record_a_model_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI wrote the pointer only: serving processes noticed on their next request's stat,
    never through the change log (the API's publish recorded the change, the CLI's did not)."""
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    data = tmp_path / "var"
    db = Database(f"sqlite:///{data / 'matcher.db'}")  # a service has used this data dir
    db.create_all()
    Registry(data).create(_manifest(0.5))  # a new version alone: nothing to follow yet
    reader = ChangeReader(db)
    reader.start()
    base = ["--data-dir", str(data), "--model", "hashing-v1"]
    assert main([*base, "models", "publish", "v0001"]) == 0
    assert _model_changes(reader) == ["CURRENT=v0001 EMBEDDING=default"]
    assert main([*base, "models", "publish", "v0001"]) == 0  # already published: no change
    assert _model_changes(reader) == []
    assert main([*base, "models", "rollback"]) == 0
    assert _model_changes(reader) == ["CURRENT=default EMBEDDING=default"]
    capsys.readouterr()
    db.dispose()


def test_without_a_database_the_registry_is_its_files_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    reg = Registry(tmp_path)
    reg.create(_manifest(0.5))
    reg.publish("v0001")
    assert reg.current() == "v0001"
    assert not (tmp_path / "matcher.db").exists()  # no database made for the announcement


# ---------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def two_machines(tmp_path: Path) -> Iterator[tuple[str, Path, Path, Database]]:
    """(url, machine A's data dir, machine B's, a Database for the test's own reads)."""
    with pg_schema_url("reg") as url:
        db = Database(url)
        db.create_all()
        try:
            yield url, tmp_path / "machine-a", tmp_path / "machine-b", db
        finally:
            db.dispose()
            dispose_shared()


def _registry(data: Path, url: str) -> Registry:
    db = Database(url)  # each machine has its own connection pool
    return Registry(data, db=db)


def test_versions_and_pointers_reach_the_other_machine(
    two_machines: tuple[str, Path, Path, Database],
) -> None:
    url, a_dir, b_dir, db = two_machines
    a, b = _registry(a_dir, url), _registry(b_dir, url)
    reader = ChangeReader(db)
    reader.start()
    a.create(_manifest(0.5))
    assert _model_changes(reader) == ["CURRENT=default EMBEDDING=default"]  # B may prefetch
    a.publish("v0001")
    assert _model_changes(reader) == ["CURRENT=v0001 EMBEDDING=default"]

    report = pull(b.db, b.root)
    assert report.fetched == ["v0001"] and report.pointers == ["CURRENT"]
    assert b.current() == "v0001" and b.manifest("v0001") == a.manifest("v0001")
    assert (b.root / "CURRENT").read_text() == (a.root / "CURRENT").read_text()
    again = pull(b.db, b.root)
    assert not again.changed  # the same digest here: nothing fetched again

    # a write on B continues the shared numbering and history, and reaches A
    assert b.create(_manifest(0.7)) == "v0002"
    b.publish("v0002")
    a_report = pull(a.db, a.root)
    assert a_report.fetched == ["v0002"] and a.current() == "v0002"
    a.rollback()
    pull(b.db, b.root)
    assert b.current() == "v0001" and b.pointer()["history"] == [None]
    b.rollback()
    pull(a.db, a.root)
    assert a.current() is None


def test_an_embedding_version_with_its_gate_report_reaches_the_other_machine(
    two_machines: tuple[str, Path, Path, Database],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_embed_registry import fake_model, gate

    url, a_dir, b_dir, _db = two_machines
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)  # as the CLI runs: registry_db resolves it
    man = register_embedding(a_dir, fake_model(tmp_path / "ft", b"weights-1"), export=False)
    a = Registry(a_dir)
    with a._locked():  # as `matcher models evaluate-embed` writes its report
        gate(a, "v0001", "pass", None)
    a.publish("v0001")
    b = _registry(b_dir, url)
    result = pull(b.db, b.root)
    assert result.fetched == ["v0001"] and result.pointers == ["EMBEDDING"]
    published = published_model(b_dir)
    assert published is not None and published.name == man["model_name"]
    assert (published.path / "model.safetensors").read_bytes() == b"weights-1"
    assert json.loads((b.root / "v0001" / "gate.json").read_text())["verdict"] == "pass"
    # a report written again (evaluated anew) replaces the metadata, not the fetched files
    with a._locked():
        report = {"verdict": "pass", "reason": "evaluated again", "published": None}
        (a.root / "v0001" / "gate.json").write_text(json.dumps(report))
    result = pull(b.db, b.root)
    assert result.updated == ["v0001"] and result.fetched == []
    assert json.loads((b.root / "v0001" / "gate.json").read_text())["reason"] == "evaluated again"


def test_an_archive_that_does_not_match_its_digest_is_never_served(
    two_machines: tuple[str, Path, Path, Database], tmp_path: Path
) -> None:
    url, a_dir, b_dir, db = two_machines
    a = _registry(a_dir, url)
    a.create(_manifest(0.5))
    a.publish("v0001")
    other = tmp_path / "other"
    (other / "history").mkdir(parents=True)
    (other / "history" / "model.bin").write_bytes(b"not what was registered")
    tamper(db, "v0001", pack(other))
    b = _registry(b_dir, url)
    with pytest.raises(RegistrySyncError, match="v0001.*does not match its digest"):
        pull(b.db, b.root)
    report = sync_for_serving(b.db, b_dir)  # a serving process: reported, nothing served
    assert report is not None and len(report.problems) == 2
    assert "does not match its digest" in report.problems[0]
    assert "CURRENT names model version 'v0001', which is not installed" in report.problems[1]
    assert b.versions() == [] and not (b.root / "CURRENT").exists()


def test_a_version_here_with_other_files_is_refused(
    two_machines: tuple[str, Path, Path, Database],
) -> None:
    """Two machines that both registered a v0001 before the registry was shared."""
    url, a_dir, b_dir, _db = two_machines
    a = _registry(a_dir, url)
    a.create(_manifest(0.5))
    a.publish("v0001")
    Registry(b_dir, db=None).create(_manifest(0.9))  # B's own, files only
    Registry(b_dir, db=None).publish("v0001")
    b = _registry(b_dir, url)
    with pytest.raises(RegistrySyncError, match="'v0001' here .* has other files"):
        pull(b.db, b.root)
    with pytest.raises(RegistrySyncError, match="has other files"):
        b.create(_manifest(0.7))  # a write on B is refused before it writes anything
    assert b.versions() == ["v0001"] and b.manifest("v0001")["metrics"]["ndcg@10"] == 0.9


def _start_sync(b_dir: Path, url: str, pause: str) -> subprocess.Popen[str]:
    from tests.training.test_registry import _start  # the same pause hook (PAUSE_ENV)

    code = (
        "from matcher.store import Database; from matcher.registry_sync import sync_for_serving;"
        f"sync_for_serving(Database({url!r}), {str(b_dir)!r})"
    )
    return _start(code, pause)


@pytest.mark.parametrize("pause", ["sync-extract", "sync-pointer"])
def test_a_sync_killed_mid_way_leaves_the_previous_local_state(
    two_machines: tuple[str, Path, Path, Database], pause: str
) -> None:
    url, a_dir, b_dir, _db = two_machines
    a, b = _registry(a_dir, url), _registry(b_dir, url)
    a.create(_manifest(0.5))
    a.publish("v0001")
    pull(b.db, b.root)
    a.create(_manifest(0.7))
    a.publish("v0002")
    before = (b.root / "CURRENT").read_text()

    proc = _start_sync(b_dir, url, pause)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert (b.root / "CURRENT").read_text() == before and b.current() == "v0001"
    if pause == "sync-extract":
        assert b.versions() == ["v0001"]  # no partial v0002: it was a temp folder
    else:
        assert b.versions() == ["v0001", "v0002"]  # complete, not pointed at yet
    report = sync_for_serving(b.db, b_dir)  # the lock died with the process
    assert report is not None and not report.problems
    assert b.current() == "v0002" and b.versions() == ["v0001", "v0002"]
    assert b.manifest("v0002") == a.manifest("v0002")


def test_models_list_on_the_other_machine_shows_the_shared_registry(
    two_machines: tuple[str, Path, Path, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    url, a_dir, b_dir, _db = two_machines
    a = _registry(a_dir, url)
    a.create(_manifest(0.5))
    a.publish("v0001")
    capsys.readouterr()
    assert main(["--data-dir", str(b_dir), "--database-url", url, "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["current"] == "v0001" and [v["version"] for v in listed["versions"]] == ["v0001"]


def test_an_embedding_version_travels_with_its_onnx_export(
    two_machines: tuple[str, Path, Path, Database],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other machine finds the int8 export where its engine looks (the cache key is the
    same there: the archive keeps the weights' modification times), so it never exports again."""
    from test_embed_registry import fake_model

    from matcher.embedding.onnx import export_key
    from training import embed_registry

    url, a_dir, b_dir, _db = two_machines

    def fake_export(model_path: Path, data_dir: Path) -> dict[str, object]:
        folder = data_dir / "models" / "onnx" / export_key(model_path, True)
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"int8 graph")
        (folder / "export.json").write_text("{}")
        return {"file": str((folder / "model.onnx").relative_to(data_dir)), "size_bytes": 10}

    monkeypatch.setattr(embed_registry, "_export", fake_export)
    monkeypatch.setattr(embed_registry, "_calibrate", lambda *a: {"value": None, "reason": "t"})
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    man = register_embedding(a_dir, fake_model(tmp_path / "ft", b"weights-2"))
    b = _registry(b_dir, url)
    result = pull(b.db, b.root)
    assert result.fetched == ["v0001"] and len(result.exports) == 1
    model_path = b.root / "v0001" / man["model_dir"]
    expected = b.root / "onnx" / export_key(model_path, True) / "model.onnx"
    assert str(expected.relative_to(b_dir)) == man["onnx_int8"]["file"]
    assert expected.read_bytes() == b"int8 graph"
    assert not pull(b.db, b.root).changed  # installed once


def test_a_serving_sync_waits_for_a_local_writer_then_gives_up(
    two_machines: tuple[str, Path, Path, Database],
) -> None:
    import fcntl

    url, a_dir, b_dir, _db = two_machines
    a, b = _registry(a_dir, url), _registry(b_dir, url)
    a.create(_manifest(0.5))
    b.root.mkdir(parents=True)
    with open(b.root / ".lock", "a+") as held:  # a writer on machine B (an ONNX export)
        fcntl.flock(held, fcntl.LOCK_EX)
        assert sync_for_serving(b.db, b_dir, lock_wait=0.2) is None
        assert b.versions() == []
        fcntl.flock(held, fcntl.LOCK_UN)
    report = sync_for_serving(b.db, b_dir, lock_wait=0.2)
    assert report is not None and report.fetched == ["v0001"]


def test_archives_travel_in_chunks_and_rows_from_before_chunks_still_read(
    two_machines: tuple[str, Path, Path, Database],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An archive is written and read a chunk at a time (registry_chunks): never whole in
    memory; a row written inline before chunks existed (`chunks` NULL) is still fetched."""
    import os as _os

    from test_embed_registry import fake_model

    from matcher.store import registry_chunks

    url, a_dir, b_dir, db = two_machines
    monkeypatch.setattr(registry_chunks, "CHUNK_BYTES", 4096)
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    weights = _os.urandom(50_000)
    register_embedding(a_dir, fake_model(tmp_path / "ft", weights), export=False)
    Registry(a_dir).create(_manifest(0.5))  # v0002: a small one
    with db.session() as s:
        row = s.get(RegistryVersionRow, "v0001")
        assert row is not None and row.archive == b"" and row.chunks is not None
        assert row.chunks >= 50_000 // 4096 and row.size_bytes > 50_000
        parts = s.scalars(
            select(RegistryChunkRow.data)
            .where(RegistryChunkRow.name == "v0001")
            .order_by(RegistryChunkRow.seq)
        ).all()
        assert len(parts) == row.chunks and all(len(p) == 4096 for p in parts[:-1])
    # v0002 as a database made before chunks holds it: inline, `chunks` NULL
    with db.session() as s:
        inline = b"".join(
            s.scalars(
                select(RegistryChunkRow.data)
                .where(RegistryChunkRow.name == "v0002")
                .order_by(RegistryChunkRow.seq)
            ).all()
        )
        s.execute(delete(RegistryChunkRow).where(RegistryChunkRow.name == "v0002"))
        s.execute(
            update(RegistryVersionRow)
            .where(RegistryVersionRow.name == "v0002")
            .values(archive=inline, chunks=None)
        )
    b = _registry(b_dir, url)
    assert pull(b.db, b.root).fetched == ["v0001", "v0002"]
    model = b.root / "v0001" / "model-v0001" / "model.safetensors"
    assert model.read_bytes() == weights
    assert b.manifest("v0002") == Registry(a_dir).manifest("v0002")
