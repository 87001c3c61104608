"""`matcher notify send | run | queue` end to end, with a real local SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main
from tests.notify.conftest import SmtpServer


def test_send_run_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path)]
    send = ["notify", "send", "--to", "a@example.org", "--subject", "Hello", "--key", "ev-1"]
    assert main([*base, *send, "--body", "First line\nsecond", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "key": "ev-1",
        "queued": True,
        "status": "queued",
    }
    assert main([*base, *send, "--json"]) == 0  # same event: nothing added
    assert json.loads(capsys.readouterr().out)["queued"] is False

    # no notifier configured: stays queued
    assert main([*base, "notify", "run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["no_notifier"] is True

    server = SmtpServer()  # not started: delivery fails, the message stays queued
    monkeypatch.setenv("MATCHER_NOTIFY_URL", server.url)
    assert main([*base, "notify", "run", "--json"]) == 1
    assert list(json.loads(capsys.readouterr().out)["failed"]) == ["ev-1"]
    assert main([*base, "notify", "queue", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert "Connection refused" in row["last_error"]

    server.start()
    try:
        assert main([*base, "notify", "run", "--json"]) == 0  # not due yet (backoff)
        assert json.loads(capsys.readouterr().out)["sent"] == []
        assert main([*base, "notify", "queue", "--retry-now"]) == 0
        capsys.readouterr()
        assert main([*base, "notify", "run"]) == 0
        assert "sent 1, failed 0" in capsys.readouterr().out
        (m,) = server.received()
        assert m["Subject"] == "Hello" and m["X-Matcher-Notification-Key"] == "ev-1"
    finally:
        server.stop()
    assert main([*base, "notify", "queue"]) == 0
    assert capsys.readouterr().out.startswith("queued 0, sending 0, sent 1")


def test_bad_message_and_bad_url_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path), "notify"]
    bad = ["send", "--to", "a@example.org", "--subject", "a\nBcc: x@y.z", "--key", "k"]
    assert main([*base, *bad]) == 2
    assert "field 'subject'" in capsys.readouterr().err
    monkeypatch.setenv("MATCHER_NOTIFY_URL", "gopher://u:hunter2@h")
    assert main([*base, "run"]) == 2
    err = capsys.readouterr().err
    assert "unknown notifier scheme 'gopher'" in err and "hunter2" not in err


def test_a_dead_message_is_listed_and_requeued(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    smtp_server: SmtpServer,
) -> None:
    from tests.notify.conftest import REFUSED

    base = ["--data-dir", str(tmp_path)]
    send = ["notify", "send", "--to", REFUSED, "--subject", "Hi", "--key", "ev-dead"]
    assert main([*base, *send]) == 0
    capsys.readouterr()
    monkeypatch.setenv("MATCHER_NOTIFY_URL", smtp_server.url)
    assert main([*base, "notify", "run", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["dead"] == ["ev-dead"]
    assert main([*base, "notify", "queue", "--status", "dead", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["dead"] == 1 and "550" in out["rows"][0]["last_error"]
    assert main([*base, "notify", "requeue"]) == 2  # names nothing
    capsys.readouterr()
    assert main([*base, "notify", "requeue", "--all-dead", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"requeued": 1}
    assert main([*base, "notify", "queue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["queued"] == 1


SLACK_STYLE = "https://hooks.example.org/services/T0AAA/B0BBB/s3cr3tT0k3nXyZ9"


def test_queue_lists_a_webhook_recipient_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A saved need's webhook URL often carries its token in the path (Slack, Zapier): `queue`
    names its host and last 4 characters, never the rest; an e-mail address is shown as is."""
    base = ["--data-dir", str(tmp_path)]
    for to, key in ((SLACK_STYLE, "saved-need:sn_1:2026-01-01"), ("a@example.org", "ev-mail")):
        assert main([*base, "notify", "send", "--to", to, "--subject", "Hi", "--key", key]) == 0
    capsys.readouterr()
    assert main([*base, "notify", "queue"]) == 0
    text = capsys.readouterr().out
    assert "-> https://hooks.example.org/…XyZ9" in text and "-> a@example.org" in text
    assert "s3cr3t" not in text and "/services/" not in text
    assert main([*base, "notify", "queue", "--json"]) == 0
    out = capsys.readouterr().out
    rows = {r["key"]: r["recipient"] for r in json.loads(out)["rows"]}
    assert rows == {
        "saved-need:sn_1:2026-01-01": "https://hooks.example.org/…XyZ9",
        "ev-mail": "a@example.org",
    }
    assert "s3cr3t" not in out
