"""`matcher introductions expire`: requests past their expiry are marked expired (with their
audit event) by the periodic command, though nobody reads or writes an introduction; requests
not yet due stay open; a second run finds nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from intro_world import make_world
from sqlalchemy import select

from matcher.cli import main
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.models import IntroductionEventRow, IntroductionRow


def test_the_command_expires_overdue_requests_untouched_by_anyone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
    db.create_all()
    w = make_world(db)
    w.now[0] -= timedelta(days=31)  # asked 31 days ago: due (30-day expiry)
    old = w.intros.request(w.a_member, w.b, "Hello", need_text="a need").introduction.id
    w.now[0] += timedelta(days=10)  # asked 21 days ago: not due
    young = w.intros.request(w.a_member, w.c, "Hello", need_text="a need").introduction.id
    db.dispose()

    base = ["--data-dir", str(tmp_path), "introductions", "expire", "--json"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"expired": 1}
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"expired": 0}

    db = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
    try:
        with db.session() as s:
            status = dict(s.execute(select(IntroductionRow.id, IntroductionRow.status)).all())
            events = s.scalars(
                select(IntroductionEventRow.to_status).where(
                    IntroductionEventRow.introduction_id == old
                )
            ).all()
        assert (status[old], status[young]) == ("expired", "requested")
        assert list(events) == ["requested", "expired"]
    finally:
        db.dispose()


def test_every_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--data-dir", str(tmp_path), "introductions", "expire", "--every", "0"])
    assert exc.value.code == 2
    assert "must be above 0" in capsys.readouterr().err
