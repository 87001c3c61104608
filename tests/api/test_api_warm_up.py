"""A server warms up before it says it is ready: its first request does not pay for it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.places import gazetteer
from matcher.warm_up import warm_up
from tests.api.api_support import make_settings, quiet_api_settings, seed


@pytest.mark.parametrize("warm", [True, False])
def test_the_gazetteers_are_loaded_before_the_server_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm: bool
) -> None:
    seed(tmp_path).close()
    monkeypatch.setattr(gazetteer, "_us", None)  # as in a fresh process
    monkeypatch.setattr(gazetteer, "_world", None)
    app = create_app(make_settings(tmp_path), quiet_api_settings(warm_up=warm))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        # loading the place gazetteers took 1.8 + 0.8 s on the first request before
        assert (gazetteer._us is not None) is warm
        assert (gazetteer._world is not None) is warm


def test_a_failed_warm_up_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def recommend(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("index unreadable")

    with caplog.at_level(logging.WARNING, logger="matcher.warm_up"):
        seconds = warm_up(Broken())  # type: ignore[arg-type]
    assert seconds >= 0
    assert "warming up failed" in caplog.text and "index unreadable" in caplog.text
