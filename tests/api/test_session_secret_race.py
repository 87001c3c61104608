"""The session secret kept in the data dir, made by whichever serving process asks first: every
process (here: thread) that asks at once gets the same full secret, never a half-written one
(`make run WORKERS=2` starts two processes on one data dir; an empty secret would sign cookies
with no key)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.config import ApiSettings
from api.sessions import SECRET_FILE, session_secret


def test_processes_asking_at_once_get_the_same_full_secret(tmp_path: Path) -> None:
    settings = ApiSettings()
    for attempt in range(60):
        data_dir = tmp_path / str(attempt)
        data_dir.mkdir()
        start = threading.Barrier(8)
        got: list[str] = []

        def ask(
            data_dir: Path = data_dir, start: threading.Barrier = start, got: list[str] = got
        ) -> None:
            start.wait()
            got.append(session_secret(settings, data_dir))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(got)) == 1, f"attempt {attempt}: {len(set(got))} different secrets"
        assert len(got[0]) >= 32, f"attempt {attempt}: a secret of {len(got[0])} characters"
        assert (data_dir / SECRET_FILE).read_text().strip() == got[0]


def test_a_kept_secret_is_read_back(tmp_path: Path) -> None:
    first = session_secret(ApiSettings(), tmp_path)
    assert session_secret(ApiSettings(), tmp_path) == first


def test_an_empty_kept_secret_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("\n")  # what the race above left before the fix
    with pytest.raises(ValueError, match="under 32; delete the file"):
        session_secret(ApiSettings(), tmp_path)
