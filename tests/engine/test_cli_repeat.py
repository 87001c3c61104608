"""`--every` of the upkeep commands (alerts run, introductions expire, notify run): one loop,
`matcher.cli_common.repeat`."""

from __future__ import annotations

import argparse

import pytest

from matcher.cli_common import positive_seconds, repeat


def test_once_returns_the_step_status() -> None:
    calls: list[int] = []
    assert repeat(None, lambda: calls.append(1) or 3) == 3
    assert calls == [1]


def test_every_runs_until_interrupted_and_then_exits_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: list[int] = []

    def step() -> int:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return 1

    assert repeat(0.001, step) == 0
    assert len(calls) == 3
    assert "stopped" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "-1", "soon"])
def test_every_must_be_a_positive_number(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_seconds(bad)
