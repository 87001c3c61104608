"""manifest.json: what a saved index directory holds, checked before anything is loaded."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.atomic import atomic_write_text
from matcher.errors import ArtifactMismatchError, NotFoundError

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


def faiss_version() -> str | None:
    try:
        import faiss
    except ImportError:  # pragma: no cover - faiss is a hard dependency
        return None
    return str(faiss.__version__)


@dataclass(frozen=True)
class Manifest:
    kind: str
    dimension: int
    count: int
    params: dict[str, Any] = field(default_factory=dict)
    faiss_version: str | None = None
    created_at: str = ""
    format_version: int = FORMAT_VERSION

    @classmethod
    def new(
        cls, kind: str, dimension: int, count: int, params: dict[str, Any], *, uses_faiss: bool
    ) -> Manifest:
        return cls(
            kind=kind,
            dimension=int(dimension),
            count=int(count),
            params=dict(params),
            faiss_version=faiss_version() if uses_faiss else None,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def write(self, directory: Path) -> None:
        text = json.dumps(asdict(self), indent=2, sort_keys=True)
        atomic_write_text(directory / MANIFEST_NAME, text + "\n")

    def check_count(self, actual: int, what: str) -> None:
        if actual != self.count:
            raise ArtifactMismatchError(
                f"{what}: manifest says {self.count} entries, the files hold {actual}"
            )


def read_manifest(directory: Path | str) -> Manifest:
    """Read and validate the shape of `directory/manifest.json` (not its kind)."""
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise NotFoundError(f"no saved index at {directory} (missing {MANIFEST_NAME})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(
            kind=str(raw["kind"]),
            dimension=int(raw["dimension"]),
            count=int(raw["count"]),
            params=dict(raw.get("params") or {}),
            faiss_version=raw.get("faiss_version"),
            created_at=str(raw.get("created_at", "")),
            format_version=int(raw.get("format_version", 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactMismatchError(f"unreadable manifest {path}: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ArtifactMismatchError(
            f"{path}: format version {manifest.format_version}, this engine reads {FORMAT_VERSION}"
        )
    return manifest


def expect_manifest(
    directory: Path | str, kind: str, expected_dimension: int | None = None
) -> Manifest:
    """Read the manifest and refuse a different kind or dimension."""
    manifest = read_manifest(directory)
    if manifest.kind != kind:
        raise ArtifactMismatchError(
            f"{directory} holds a '{manifest.kind}' index, expected '{kind}'"
        )
    if expected_dimension is not None and manifest.dimension != expected_dimension:
        raise ArtifactMismatchError(
            f"{directory} holds {manifest.dimension}-dimensional vectors, "
            f"expected {expected_dimension}"
        )
    current = faiss_version()
    if manifest.faiss_version and current and manifest.faiss_version != current:
        logger.warning(
            "index %s was written by faiss %s, running %s",
            directory,
            manifest.faiss_version,
            current,
        )
    return manifest
