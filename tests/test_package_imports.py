"""The engine is a package of its own: `matcher` imports nothing of `training`; training adds
its commands (`matcher train`, `models`, `worker`) and checks (`embed --t1`) through the
registries of `matcher.cli_common`."""

from __future__ import annotations

import ast
from pathlib import Path

MATCHER = Path(__file__).resolve().parent.parent / "matcher"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_matcher_imports_no_training_module() -> None:
    wrong = [
        f"{path.relative_to(MATCHER.parent)}:{line} imports {module}"
        for path in sorted(MATCHER.rglob("*.py"))
        for line, module in _imports(path)
        if module == "training" or module.startswith("training.")
    ]
    assert not wrong, wrong


def test_training_adds_the_worker_command_and_the_t1_check() -> None:
    from matcher.cli import build_parser
    from matcher.cli_common import EMBED_SAMPLE_CHECKS

    args = build_parser().parse_args(["worker", "--once"])
    assert args.handler.__module__ == "training.cli" and args.once
    assert "t1" in EMBED_SAMPLE_CHECKS
