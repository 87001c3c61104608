"""The short version of `make drill` (tests/api/drill.py): one seeded kill -9 round each."""

from __future__ import annotations

import random
from pathlib import Path

from drill import DRILLS


def test_killed_ingest_loses_nothing_once_retried(tmp_path: Path) -> None:
    ok, note = DRILLS["ingest"](tmp_path, random.Random("9-ingest"), 0)
    assert ok, note
    assert "killed=True" in note, note


def test_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    ok, note = DRILLS["api-writes"](tmp_path, random.Random("9-api-writes"), 0)
    assert ok, note
    assert "lost=0" in note and "acknowledged=0 " not in note, note
