"""A generation being saved never holds up a query: `Engine.build` writes the new generation's
files and its scoring columns without the engine's lock, and swaps the reference under it.

(The switch-over's slow answers, training/bench_embed.py part `switch`, were CPU, not this
lock: matcher/priority.py. This guards the lock side: a save slowed at will must not delay a
reader.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import matcher.engine as engine_module
from matcher.domain import Need
from matcher.engine import Engine

WAIT = 60.0  # seconds an event may take on a loaded machine; never reached when it works


def _held(real: Callable[..., Any], saving: threading.Event, release: threading.Event) -> Any:
    def slowed(*args: Any, **kwargs: Any) -> Any:
        saving.set()
        assert release.wait(WAIT), "the test never released the save"
        return real(*args, **kwargs)

    return slowed


@pytest.mark.parametrize("stage", ["save_artifact", "save_score"])
def test_queries_are_answered_while_a_generation_is_saved(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    before = engine.index_generation
    saving, release = threading.Event(), threading.Event()
    monkeypatch.setattr(engine_module, stage, _held(getattr(engine_module, stage), saving, release))
    errors: list[BaseException] = []

    def build() -> None:
        try:
            engine.build()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            saving.set()

    builder = threading.Thread(target=build, daemon=True)
    builder.start()
    try:
        assert saving.wait(WAIT) and not errors, errors
        answered = threading.Event()
        got: list[Any] = []

        def ask() -> None:
            got.append(engine.recommend(Need(text="hungry families need fresh food"), limit=3))
            got.append(engine.stats())
            answered.set()

        reader = threading.Thread(target=ask, daemon=True)
        reader.start()
        # the save is still held: the reader must finish without it
        assert answered.wait(WAIT), f"a query waited on the {stage} of the new generation"
        assert got[0].results and builder.is_alive()
    finally:
        release.set()
        builder.join(WAIT)
    assert not errors, errors
    assert engine.index_generation == before + 1
