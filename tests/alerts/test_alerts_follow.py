"""A worker in another process than the writer: it reads the changed rows into its own engine
(`refresh`), and `matcher alerts run` does the same from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.alerts import AlertWorker, SavedNeeds
from matcher.alerts.service import save_need
from matcher.cli import main
from matcher.domain import Need
from matcher.engine import Engine
from matcher.settings import Settings
from tests.alerts.test_alert_worker import FOOD_NEED, corpus, new_food


def _setup(tmp_path: Path) -> str:
    writer = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"), load=False)
    writer.store.upsert_organisations(corpus())
    writer.build()
    saved, _ = save_need(writer, Need(text=FOOD_NEED), limit=2, owner="key-a")
    writer.close()
    return saved.id


def test_worker_reads_rows_written_by_another_engine(tmp_path: Path) -> None:
    saved_id = _setup(tmp_path)
    follower = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"))
    writer = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"))
    try:
        worker = AlertWorker(follower, refresh=True)
        worker.run_once()
        writer.create_organisation(new_food("o-elsewhere"))  # the follower's index lacks it
        report = worker.run_once()
        assert [a.saved_need_id for a in report.alerts] == [saved_id]
        assert report.alerts[0].organisation_ids == ["o-elsewhere"]
    finally:
        writer.close()
        follower.close()


def test_without_refresh_the_follower_cannot_see_it(tmp_path: Path) -> None:
    """Why `refresh` exists: a follower that does not read the rows misses the organisation."""
    _setup(tmp_path)
    follower = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"))
    writer = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"))
    try:
        worker = AlertWorker(follower, refresh=False)
        worker.run_once()
        writer.create_organisation(new_food("o-elsewhere"))
        assert worker.run_once().alerts == []
    finally:
        writer.close()
        follower.close()


def test_cli_alerts_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved_id = _setup(tmp_path)
    base = ["--data-dir", str(tmp_path), "--model", "hashing-v1", "alerts", "run", "--json"]
    assert main(base) == 0
    writer = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"))
    writer.create_organisation(new_food("o-cli"))
    writer.close()
    capsys.readouterr()
    assert main(base) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["alerts"] == [saved_id] and out["changes"] == 1
    assert main(base) == 0  # the cursor is stored: nothing read twice
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["changes"] == 0 and again["alerts"] == []
    reader = Engine.open(Settings(data_dir=tmp_path, model_name="hashing-v1"), load=False)
    try:
        assert SavedNeeds(reader.store.db).alerts("key-a")[1] == 1
    finally:
        reader.close()
