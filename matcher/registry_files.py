"""A model-registry version folder as the database stores it (matcher.registry_sync).

A version folder (`<data_dir>/models/vNNNN/`) holds its payload (the weights' history model, an
embedding model's sentence-transformers folder: written once) and small metadata files at its
top (`manifest.json`, the gate's report), which may be rewritten later. The payload travels as
an uncompressed tar (safetensors weights hardly compress) with the files' modification times
(the ONNX export cache is keyed by them); its digest is a tree digest, sha256 over each file's
relative path, size and sha256, the same whichever machine computes it; the version's digest
adds the manifest (less what may be rewritten). The payload's digest is kept in
`.payload-digest` beside the files (dotfiles are never payload), so a sync compares digests
without reading the weights again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matcher.atomic import TEMP_PREFIX, atomic_write_text, fsync_directory
from matcher.embedding.published import FLOOR_KEY
from matcher.errors import RegistrySyncError
from matcher.pointer_file import PointerUnreadable, read_pointer

META_FILES = ("manifest.json", "gate.json", "gate.txt")
MANIFEST = "manifest.json"
DIGEST_FILE = ".payload-digest"
POINTERS = ("CURRENT", "EMBEDDING")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # training.registry.NAME_RE
_CHUNK = 1 << 20
# manifest entries rewritten after registration (training.embed_registry.calibrate_registered)
MUTABLE_KEYS = (FLOOR_KEY,)


def payload_files(folder: Path) -> list[Path]:
    """The payload's files, relative to `folder`, sorted (metadata files and dotfiles left out)."""
    out = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if len(rel.parts) == 1 and rel.name in META_FILES:
            continue
        out.append(rel)
    return sorted(out, key=lambda p: p.as_posix())


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256(b"matcher-registry-payload-v1\n")
    for rel in payload_files(folder):
        path = folder / rel
        h.update(f"{rel.as_posix()}\0{path.stat().st_size}\0{_file_sha256(path)}\n".encode())
    return h.hexdigest()


def version_digest(payload: str, manifest_text: str) -> str:
    """A version's digest: its payload's and its manifest's, less the entries written after
    registration (MUTABLE_KEYS), so two versions of the same name made apart (a weights
    version is all manifest) never pass for one another."""
    try:
        manifest = json.loads(manifest_text)
    except ValueError as exc:
        raise RegistrySyncError(f"unreadable manifest: {exc}") from exc
    fixed = {k: v for k, v in manifest.items() if k not in MUTABLE_KEYS}
    identity = json.dumps(fixed, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{payload}\n{identity}".encode()).hexdigest()


def local_digest(folder: Path) -> str:
    """The folder's version digest; its payload's part is kept in `.payload-digest` (computed
    and kept when missing), so the weights are read once."""
    kept = folder / DIGEST_FILE
    payload = None
    try:
        value = kept.read_text(encoding="utf-8").strip()
        if re.fullmatch(r"[0-9a-f]{64}", value):
            payload = value
    except OSError:
        pass
    if payload is None:
        payload = tree_digest(folder)
        atomic_write_text(kept, payload + "\n")
    return version_digest(payload, (folder / MANIFEST).read_text(encoding="utf-8"))


def meta_files(folder: Path) -> dict[str, str]:
    """The metadata files' text by name (those present)."""
    out = {}
    for name in META_FILES:
        path = folder / name
        if path.is_file():
            out[name] = path.read_text(encoding="utf-8")
    return out


def pack_into(folder: Path, fileobj: Any) -> None:
    """Write the payload as an uncompressed tar (relative names, modification times kept) to
    `fileobj`, streaming: a file at a time, in pieces."""
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel in payload_files(folder):
            tar.add(folder / rel, arcname=rel.as_posix(), recursive=False)


def pack(folder: Path) -> bytes:
    """`pack_into` as bytes (small folders, tests)."""
    buf = io.BytesIO()
    pack_into(folder, buf)
    return buf.getvalue()


def unpack_from(fileobj: Any, dest: Path) -> None:
    """Extract a `pack`ed payload read from `fileobj` (streaming) into `dest` (the "data"
    filter: no absolute names, links out of `dest` or device files)."""
    try:
        with tarfile.open(fileobj=fileobj, mode="r|") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise RegistrySyncError(f"unreadable archive of {dest.name}: {exc}") from exc


def unpack(blob: bytes, dest: Path) -> None:
    unpack_from(io.BytesIO(blob), dest)


def local_versions(models_dir: Path) -> list[str]:
    """Names of the complete version folders here (those holding a manifest)."""
    if not models_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in models_dir.iterdir()
        if p.is_dir() and NAME_RE.match(p.name) and (p / MANIFEST).is_file()
    )


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


# ------------------------------------------------------------------------ removing a version

ONNX_DIR = "onnx"


def version_footprint(models_dir: Path, name: str) -> list[Path]:
    """What a version takes here: its ONNX export folders (`onnx/<model_dir>-*`, an embedding
    version's cache, keyed by its model folder's name) and its folder, those present."""
    folder = models_dir / name
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    model_dir = manifest.get("model_dir") if isinstance(manifest, dict) else None
    onnx = models_dir / ONNX_DIR
    paths: list[Path] = []
    if isinstance(model_dir, str) and NAME_RE.match(model_dir) and onnx.is_dir():
        prefix = f"{model_dir}-"
        paths += sorted(p for p in onnx.iterdir() if p.is_dir() and p.name.startswith(prefix))
    if folder.is_dir():
        paths.append(folder)
    return paths


def tree_bytes(paths: Iterable[Path]) -> int:
    total = 0
    for root in paths:
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, fname)).st_size
    return total


def to_trash(path: Path) -> Path:
    """Rename `path` to a `.tmp-` name beside it (what a crash leaves is swept later:
    matcher.atomic.sweep_leftovers, clean_stale_temps) and return that name; the version it
    held is gone from the registry from this rename on."""
    trash = path.parent / f"{TEMP_PREFIX}{path.name}.pruned-{uuid.uuid4().hex[:8]}"
    os.replace(path, trash)
    fsync_directory(path.parent)
    return trash


def empty_trash(trash: Iterable[Path]) -> None:
    for path in trash:
        shutil.rmtree(path, ignore_errors=True)


def pointed_versions(models_dir: Path) -> set[str] | None:
    """The versions the pointer files here name: each one's published version and the one its
    rollback returns to (the last of its history); None when a pointer cannot be read."""
    out: set[str] = set()
    for pname in POINTERS:
        text = read_text(models_dir / pname)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        history = data.get("history") or []
        for version in (data.get("version"), history[-1] if history else None):
            if version is not None:
                out.add(str(version))
    return out


def versions_of_models(models_dir: Path, model_names: Iterable[str | None]) -> set[str]:
    """The local embedding versions whose manifest serves one of `model_names`."""
    wanted = {n for n in model_names if n}
    out: set[str] = set()
    if not wanted:
        return out
    for name in local_versions(models_dir):
        try:
            manifest = json.loads((models_dir / name / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("model_name") in wanted:
            out.add(name)
    return out


UNREADABLE = "<unreadable>"


def pointer_versions(models_dir: Path) -> dict[str, str | None]:
    """The version each pointer file here publishes (None: none, the default), by name;
    UNREADABLE for a file that is not a pointer."""
    out: dict[str, str | None] = {}
    for pname in POINTERS:
        try:
            data = read_pointer(models_dir / pname) or {}
        except PointerUnreadable:
            out[pname] = UNREADABLE
            continue
        version = data.get("version")
        out[pname] = str(version) if version is not None else None
    return out
