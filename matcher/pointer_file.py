"""Reading a model registry's pointer files (`CURRENT`, `EMBEDDING`): one reader for the
registry, pruning, serving and sync, so a damaged pointer is refused alike everywhere.

A pointer is a small JSON object ({"version": ..., "history": [...], ...}) written atomically.
A missing file means nothing was ever published (the default); a file that cannot be read or
is not a JSON object is an error naming the file: read as "nothing published" it would switch a
server back to the default model without a word.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class PointerUnreadable(ValueError):
    """A pointer file exists but cannot be read as a JSON object (the message names it)."""


def read_pointer(path: Path) -> dict[str, Any] | None:
    """The pointer's object; None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PointerUnreadable(f"unreadable {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PointerUnreadable(f"unreadable {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PointerUnreadable(f"unreadable {path}: not a JSON object")
    return data
