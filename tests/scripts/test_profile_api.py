"""`make profile` reads the functions' own samples out of py-spy's flame graph: a frame's
width less the frames one level deeper within its span, summed per function over lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("profile_api", ROOT / "scripts/profile_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["profile_api"] = module
    spec.loader.exec_module(module)
    return module


def _frame(title: str, y: int, x: int, w: int) -> str:
    return (
        f'<g><title>{title} ({w} samples, {w}.00%)</title><rect x="{x}%" y="{y}" '
        f'width="{w}%" height="15" fill="rgb(1,2,3)" fg:x="{x}" fg:w="{w}"/><text>t</text></g>'
    )


def test_own_samples_of_a_py_spy_flame_graph() -> None:
    # all (100) -> main (100) -> rank:10 (60) -> score (45); main -> embed (30); rank:12 (5)
    svg = "".join(
        [
            _frame("all", 52, 0, 100),
            _frame("main (app.py:1)", 68, 0, 100),
            _frame("rank (engine.py:10)", 84, 0, 60),
            _frame("embed (onnx.py:3)", 84, 60, 30),
            _frame("rank (engine.py:12)", 84, 90, 5),
            _frame("score (score.py:7)", 100, 10, 45),
            _frame("&lt;lambda&gt; (x.py:2)", 100, 60, 30),
        ]
    )
    own, total = _module().own_samples(svg)
    assert total == 100
    assert own == {
        "main (app.py)": 5,  # 100 - (60 + 30 + 5)
        "rank (engine.py)": 15 + 5,  # both lines of rank
        "score (score.py)": 45,
        "<lambda> (x.py)": 30,
    }


def test_a_flame_graph_drawn_root_at_the_bottom() -> None:
    svg = "".join(
        [
            _frame("all", 100, 0, 10),
            _frame("main (app.py:1)", 84, 0, 10),
            _frame("work (w.py:2)", 68, 2, 7),
        ]
    )
    own, total = _module().own_samples(svg)
    assert (total, own) == (10, {"main (app.py)": 3, "work (w.py)": 7})
