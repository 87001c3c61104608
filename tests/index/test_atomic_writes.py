"""Crash safety of matcher.atomic: a failure midway leaves the old content and no temp litter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from matcher import atomic
from matcher.atomic import (
    atomic_directory,
    atomic_save_npy,
    atomic_write_bytes,
    atomic_write_faiss,
    atomic_write_text,
    clean_stale_temps,
    read_faiss,
    sweep_leftovers,
)


class Boom(RuntimeError):
    pass


def test_write_bytes_and_text_replace_content(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_write_failing_midway_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def crash_on_fsync(fd: int) -> None:
        raise Boom("disk vanished after a partial write")

    monkeypatch.setattr(atomic.os, "fsync", crash_on_fsync)
    with pytest.raises(Boom):
        atomic_write_bytes(target, b"new content that never lands")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_replace_failing_keeps_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def crash(src: object, dst: object) -> None:
        raise Boom("killed before rename")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(Boom):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_npy_never_pickles(tmp_path: Path) -> None:
    atomic_save_npy(tmp_path / "a.npy", np.arange(5, dtype=np.int64))
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", allow_pickle=False), np.arange(5))
    with pytest.raises(ValueError):
        atomic_save_npy(tmp_path / "b.npy", np.array([{"x": 1}], dtype=object))
    assert not (tmp_path / "b.npy").exists()


def test_faiss_roundtrip(tmp_path: Path) -> None:
    index = faiss.IndexFlatIP(8)
    index.add(np.eye(8, dtype=np.float32))
    atomic_write_faiss(tmp_path / "i.faiss", index)
    back = read_faiss(tmp_path / "i.faiss")
    assert back.ntotal == 8 and back.d == 8


def test_directory_success_replaces_previous(tmp_path: Path) -> None:
    final = tmp_path / "art"
    with atomic_directory(final) as tmp:
        assert tmp.parent == tmp_path and tmp != final
        (tmp / "a").write_text("v1")
    with atomic_directory(final) as tmp:
        (tmp / "b").write_text("v2")
    assert sorted(p.name for p in final.iterdir()) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_directory_exception_keeps_previous_and_cleans_up(tmp_path: Path) -> None:
    final = tmp_path / "art"
    with atomic_directory(final) as tmp:
        (tmp / "a").write_text("v1")
    with pytest.raises(Boom), atomic_directory(final) as tmp:
        (tmp / "a").write_text("half-written v2")
        (tmp / "b").write_text("v2")
        raise Boom("crash while building")
    assert (final / "a").read_text() == "v1" and not (final / "b").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_directory_first_write_failing_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(Boom), atomic_directory(tmp_path / "art") as tmp:
        (tmp / "a").write_text("x")
        raise Boom()
    assert list(tmp_path.iterdir()) == []


def test_directory_swap_failing_restores_previous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "art"
    with atomic_directory(final) as tmp:
        (tmp / "a").write_text("v1")
    real_replace = os.replace
    calls: list[str] = []

    def second_rename_fails(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if len(calls) == 2:  # old moved aside, then the new one fails to move in
            raise Boom("killed between the renames")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", second_rename_fails)
    with pytest.raises(Boom), atomic_directory(final) as tmp:
        (tmp / "a").write_text("v2")
    monkeypatch.undo()
    assert (final / "a").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_clean_stale_temps(tmp_path: Path) -> None:
    (tmp_path / ".tmp-art.123").mkdir()
    (tmp_path / ".tmp-f.bin.x").write_text("junk")
    (tmp_path / "keep").write_text("ok")
    removed = clean_stale_temps(tmp_path)
    assert len(removed) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]


def _writer(target: Path) -> subprocess.Popen[str]:
    """A process inside `atomic_directory(target)`, paused after writing one file."""
    code = (
        "import sys, time; from pathlib import Path; from matcher.atomic import atomic_directory\n"
        f"with atomic_directory(Path({str(target)!r})) as tmp:\n"
        "    (tmp / 'part.npy').write_bytes(b'x' * 1000)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    return proc


def test_sweep_removes_at_once_the_folder_of_a_killed_writer_not_a_live_one(
    tmp_path: Path,
) -> None:
    """kill -9 during a build left `.tmp-gen-*` folders that the start sweep kept for an hour
    (issue 9: up to 70 MB each); the sweep now sees the writer is gone by its released lock."""
    root = tmp_path / "data"
    killed, alive = _writer(root / "a" / "gen-000002"), _writer(root / "b" / "gen-000002")
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        temps = sorted(root.rglob(".tmp-gen-000002.*"))
        assert [p.parent.name for p in temps] == ["a", "b"]
        for p in temps:  # both look two hours old: the age decides nothing for these
            os.utime(p, (time.time() - 7200, time.time() - 7200))
        removed = sweep_leftovers(root)  # the default min_age: an hour
        assert [p.parent.name for p in removed] == ["a"]
        assert sorted(p.parent.name for p in root.rglob(".tmp-gen-000002.*")) == ["b"]
        assert not (root / "b" / "gen-000002").exists()
    finally:
        alive.kill()
        alive.wait(timeout=30)
        for proc in (killed, alive):
            if proc.stdout is not None:
                proc.stdout.close()
    # an unclaimed leftover (not an atomic_directory's) still waits for min_age
    other = root / "c" / ".tmp-upload-x"
    other.mkdir(parents=True)
    assert sweep_leftovers(root / "c") == []
    assert sweep_leftovers(root / "c", min_age=0) == [other]
