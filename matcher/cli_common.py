"""What every `matcher` command module shares: errors, output helpers, opening the engine, and
the registry of command groups other packages add (`training` adds `train` and `models`).

A command group is a module with `register(subparsers)` that adds its subcommands, each with
`set_defaults(handler=fn)` where `fn(args, settings) -> exit code`. It imports from here, never
from matcher.cli, so the packages do not import each other.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from matcher.settings import Settings

logger = logging.getLogger(__name__)

# modules whose `register(subparsers)` adds commands; one missing (not installed) is skipped
COMMAND_GROUPS: list[str] = [
    "training.cli",
    "matcher.notify.cli",
    "matcher.alerts.cli",
    "matcher.cli_embed",
    "matcher.introductions.cli",
]


class UsageError(Exception):
    """Raised for bad command-line input; exits with code 2."""


# what the command groups add to every engine a command opens, by name ("published model":
# training.cli makes `matcher recommend` rank with the weights the service serves)
ENGINE_SETUPS: dict[str, Callable[[Any, Settings], None]] = {}
# the model checks `matcher embed` can run before it switches models, by option name ("t1":
# training.cli adds T1 on a few states, `--t1 SHARED_DATA`): matcher imports no training code
EMBED_SAMPLE_CHECKS: dict[str, Callable[[Path, Any, list[str]], dict[str, Any]]] = {}


def set_up(engine: Any, settings: Settings) -> Any:
    """`engine` with every ENGINE_SETUPS step applied, in the order the groups added them."""
    for step in ENGINE_SETUPS.values():
        step(engine, settings)
    return engine


def register_command_groups(subparsers: Any, groups: list[str] | None = None) -> None:
    for name in COMMAND_GROUPS if groups is None else groups:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # pragma: no cover - optional package not installed
            logger.debug("command group %s not available: %s", name, exc)
            continue
        module.register(subparsers)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def one_line(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        from matcher.errors import plain_message

        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {plain_message(e['msg'])}"
            for e in exc.errors()
        )
    return str(exc)


def notice(message: str) -> None:
    """A line for the person at the terminal (stderr: stdout stays parseable)."""
    print(message, file=sys.stderr, flush=True)


def open_engine(settings: Settings, command: str) -> Any:
    """The engine with its index loaded. When that means building or embedding (no index yet,
    another model, profiles changed since), say so first and show the progress."""
    from matcher.engine import Engine
    from matcher.index_status import index_status

    engine = Engine.open(settings, load=False)
    status = index_status(engine)
    if status.must_build:
        work = f" (about {status.to_embed} texts to embed)" if status.to_embed else ""
        notice(f"matcher {command}: {status.describe()}; building it now{work}")
    engine.load(progress=status.must_build)
    return set_up(engine, settings)


def repeat(every: float | None, step: Callable[[], int]) -> int:
    """Run `step` once (its exit status), or every `every` seconds until Ctrl-C (then 0):
    the loop of the upkeep commands' `--every`."""
    try:
        while True:
            status = step()
            if every is None:
                return status
            time.sleep(every)
    except KeyboardInterrupt:
        notice("stopped")
        return 0


def positive_seconds(value: str) -> float:
    """argparse type of an interval option (`--every`): a number of seconds above 0."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return seconds
