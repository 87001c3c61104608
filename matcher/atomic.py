"""Crash-safe writes: temp file, fsync, os.replace, fsync of the folder.

A reader sees either the previous content or the new content, never a torn file; a crash leaves
at worst a hidden temp file or folder (prefix `.tmp-`) beside the target, which the next write
of the same target does not need and `clean_stale_temps` removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
# Temp folders of `atomic_directory` end so: their writer holds an flock on them while it lives,
# so a sweep can tell one a killed process left (lock free) from one being written (lock held).
CLAIMED_SUFFIX = ".flock"


def fsync_directory(directory: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk; a no-op where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write `data` to `path` so that the old or the new content survives any crash."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_directory(path.parent)


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_save_npy(path: Path | str, array: np.ndarray) -> None:
    """Save one array in .npy format (never pickled: object arrays are refused)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def atomic_write_faiss(path: Path | str, index: Any) -> None:
    """Serialise a faiss index to bytes in memory, then write those bytes atomically."""
    import faiss

    data = faiss.serialize_index(index)
    atomic_write_bytes(path, np.asarray(data, dtype=np.uint8).tobytes())


def read_faiss(path: Path | str) -> Any:
    """Read an index written by `atomic_write_faiss` (the bytes of `faiss.write_index`), by
    faiss from the file: no copy of it in Python first (1 s for a 100k IVF index)."""
    import faiss

    if not Path(path).is_file():
        raise OSError(f"no such file: {path}")
    return faiss.read_index(str(path))


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_directory(Path(dirpath))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _claim(path: Path) -> int | None:
    """An exclusive flock on folder `path`, as a descriptor the caller closes to release it;
    None if the folder is gone or another process holds the lock (a sweep removing it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:  # not removed before the lock was had
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _claimed_temp_dir(parent: Path, name: str) -> tuple[Path, int]:
    """A new empty `.tmp-` folder in `parent` and the flock that marks it as being written."""
    while True:
        tmp = Path(
            tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{name}.", suffix=CLAIMED_SUFFIX, dir=parent)
        )
        fd = _claim(tmp)
        if fd is not None:
            return tmp, fd
        # a sweep in another process took it between mkdtemp and the lock: make another


@contextlib.contextmanager
def atomic_directory(final_path: Path | str) -> Iterator[Path]:
    """Yield an empty temp folder beside `final_path`; on success it becomes `final_path`.

    On an exception the temp folder is removed and any previous `final_path` is left intact.
    If `final_path` exists it is renamed aside, the new folder renamed in, then the old removed;
    between those two renames (microseconds) a crash leaves the old folder under a `.tmp-` name.
    The temp folder is flock-ed until the end: a process killed mid-way leaves it unlocked,
    which `sweep_leftovers` recognises at once.
    """
    final = Path(final_path)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp, lock = _claimed_temp_dir(parent, final.name)
    try:
        try:
            yield tmp
            _fsync_tree(tmp)
        except BaseException:
            _remove(tmp)
            raise
        old: Path | None = None
        try:
            if final.exists() or final.is_symlink():
                old = parent / f"{TEMP_PREFIX}{final.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(final, old)
            os.replace(tmp, final)
        except BaseException:
            if old is not None and not final.exists():
                os.replace(old, final)
                old = None
            _remove(tmp)
            raise
    finally:
        os.close(lock)
    fsync_directory(parent)
    if old is not None:
        _remove(old)
    logger.debug("atomically replaced folder %s", final)


def clean_stale_temps(directory: Path | str) -> list[Path]:
    """Remove `.tmp-*` leftovers of interrupted writes in `directory`; returns what was removed."""
    removed: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        if entry.name.startswith(TEMP_PREFIX):
            _remove(entry)
            removed.append(entry)
    return removed


def _claimed(path: Path) -> bool:
    return path.name.endswith(CLAIMED_SUFFIX) and not path.is_symlink() and path.is_dir()


def sweep_leftovers(root: Path | str, *, min_age: float = 3600.0) -> list[Path]:
    """Remove `.tmp-*` leftovers of writes interrupted by a crash (kill -9 during a build,
    an index save, a registry version) anywhere under `root`. A temp folder of
    `atomic_directory` goes as soon as no process holds its lock (its writer died), and never
    while one does; any other leftover once untouched for `min_age` seconds: a write in
    progress in another process is never pulled away."""
    import time

    removed: list[Path] = []
    root = Path(root)
    if not root.is_dir():
        return removed
    cutoff = time.time() - min_age
    for current, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            if not name.startswith(TEMP_PREFIX):
                continue
            path = Path(current) / name
            if _claimed(path):
                lock = _claim(path)
                if lock is None:  # its writer is alive (or another sweep has it)
                    continue
                try:
                    _remove(path)
                finally:
                    os.close(lock)
            else:
                try:
                    if path.lstat().st_mtime > cutoff:
                        continue
                except FileNotFoundError:
                    continue
                _remove(path)
            removed.append(path)
        dirs[:] = [d for d in dirs if not d.startswith(TEMP_PREFIX)]
    if removed:
        logger.warning("removed %d leftovers of interrupted writes under %s", len(removed), root)
    return removed


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of a file replaced atomically, None when absent: it changes with
    every replacement, so one stat tells a reader whether to read the file again."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
